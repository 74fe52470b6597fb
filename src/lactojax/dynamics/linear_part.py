"""Diagonal linear part of the vector field: each state's own first-order loss rate.

The fixed-step session solver (`lactojax.sessions`) integrates dx/dt = -r x + N(x) with the
exponential of -r taken exactly (exponential time differencing), so the fast relaxations
(oxytocin clearance ~10 /h, dopamine tone, prolactin, gastric emptying) and milk removal during
a session do not limit its step size. Any r is exact (N is f + r x), so a rate left at 0 here
only costs stability, never correctness. Rates are per hour, >= 0, in the State's layout.
"""

from __future__ import annotations

import jax.numpy as jnp

from lactojax.dynamics.drive import Drive
from lactojax.dynamics.environment import GlandEnvironment
from lactojax.dynamics.hormones import rate_from_halflife_h
from lactojax.dynamics.secretion import MilkFluxes
from lactojax.inputs import Inputs
from lactojax.parameters import Params
from lactojax.state import GlandState, State, SystemicState


def decay_rates(params: Params, inputs: Inputs, state: State, drive: Drive, env: GlandEnvironment,
                fluxes: MilkFluxes) -> State:
    """First-order loss rate of every state (1/h) at this instant."""
    p, profile, g = params, inputs.profile, state.glands
    zero = jnp.zeros_like(state.systemic.fever)
    systemic = SystemicState(
        progesterone=rate_from_halflife_h(p.progesterone_halflife_h) + zero,
        prolactin=rate_from_halflife_h(p.prolactin_halflife_min / 60.0) + zero,
        dopamine_tone=1.0 / (p.dopamine_tau_min / 60.0) + zero,
        oxytocin=rate_from_halflife_h(p.oxytocin_halflife_min / 60.0) + zero,
        metabolic_readiness=1.0 / (p.metabolic_tau_h + profile.type1_diabetes * p.type1_diabetes_extra_tau_h) + zero,
        fever=1.0 / p.fever_tau_h + zero,
        infant_stomach=rate_from_halflife_h(p.infant_gastric_halflife_min / 60.0) + zero,
        infant_intake=zero,
    )
    removal = fluxes.removal_rate_per_h
    # paracellular exchange drains each solute at permeability / stored volume
    exchange = p.tj_permeability_l_h * g.tj_open * profile.alveolar_fraction / (env.volume_safe / 1000.0)
    solute = removal + fluxes.resorption_rate_per_h + exchange
    none = jnp.zeros_like(g.stat5)
    glands = GlandState(
        stat5=none,
        stat3=none,
        upr=1.0 / p.upr_tau_h + none,
        active_cells=none,
        quiescent_cells=none,
        lactose_capacity=1.0 / p.lactose_capacity_tau_h + none,
        tj_open=1.0 / p.tj_tau_h + none,
        # removal only: between sessions the volume and the cumulative counters (rate 0) then
        # share their exponential weights, so the counter balance (sessions._balance) moves
        # no milk to 'removed' outside sessions; resorption is slow and needs no exact part
        milk_volume=removal,
        lactose=solute,
        sodium=solute,
        potassium=solute,
        chloride=solute,
        citrate=solute,
        protein=removal,
        fat=fluxes.fat_removal_rate_per_h,
        fil=removal,
        somatic_cells=removal + p.somatic_cell_clearance_per_h + none,
        bacteria=none,
        cytokine=1.0 / p.cytokine_tau_h + none,
        neutrophils=1.0 / p.neutrophil_tau_h + none,
        abscess=none,
        synthesized=none,
        removed=none,
        fat_removed=none,
    )
    return State(systemic=systemic, glands=glands)
