"""Per-gland secretory tissue over a whole lactation: active and quiescent secretory cells
and their lactose synthesis capacity (alpha-lactalbumin / lactose synthase). Rates per hour.

The cell pool follows Dijkstra et al. (1997): proliferation wanes exponentially after
parturition while apoptosis continues, so the pool rises to a peak and then declines. Milk
left in the gland hastens cell loss (Neal & Thornley 1983: the apoptosis rate rises with the
milk stored), so more frequent removal slows the decline; inflammation kills cells too. Each
cell's secretory activity matures over the first weeks (Capuco et al. 2001: the rise to peak
yield is mostly activity per cell), which sets the lactose capacity's target.
"""

from __future__ import annotations

import jax.numpy as jnp

from lactojax.dynamics.environment import GlandEnvironment
from lactojax.inputs import Profile
from lactojax.parameters import Params
from lactojax.state import GlandState, SystemicState


def proliferation_rate(p: Params, t) -> jnp.ndarray:
    """Maximal proliferation rate at lactation stage t (h after delivery), 1/h: wanes from
    its postpartum value towards a maintained fraction (Dijkstra 1997's mu_T exp(-m t))."""
    late = p.cell_proliferation_late_fraction
    return p.cell_proliferation_per_h * (late + (1.0 - late) * jnp.exp(-t / p.cell_proliferation_decline_h))


def secretory_maturation(p: Params, t) -> jnp.ndarray:
    """Secretory activity per cell relative to a mature cell at t hours after delivery: rises
    over the first weeks (Capuco 2001: the rise to peak yield is mostly activity per cell)
    and declines slowly in established lactation (Boutinaud 2004: the post-peak decline is
    cell loss and, to a lesser extent, lower activity per cell)."""
    start = p.secretory_maturation_at_delivery
    rise = 1.0 - (1.0 - start) * jnp.exp(-t / p.secretory_maturation_tau_h)
    return rise * jnp.exp(-t / p.secretory_activity_decline_h)


def apoptosis_rate(p: Params, g: GlandState, env: GlandEnvironment) -> jnp.ndarray:
    """Secretory-cell apoptosis, 1/h: basal, hastened by stored milk (Neal & Thornley 1983),
    by LIF-STAT3 / UPR signalling (involution) and by inflammation (cytokines)."""
    basal = p.cell_apoptosis_basal_per_h * (1.0 + p.cell_apoptosis_stasis_gain * env.fill)
    involution = p.cell_apoptosis_stat3_per_h * (g.stat3 * (1.0 + g.upr)) ** 2
    inflamed = p.cell_apoptosis_cytokine_per_h * jnp.maximum(g.cytokine, 0.0)
    return basal + involution + inflamed


def tissue_rates(p: Params, s: SystemicState, g: GlandState, env: GlandEnvironment, profile: Profile, t):
    """Returns (d_active_cells, d_quiescent_cells, d_lactose_capacity), each (G,)."""
    total = g.active_cells + g.quiescent_cells
    ceiling = p.cell_carrying_capacity * profile.alveolar_fraction
    growth = proliferation_rate(p, t) * g.stat5 * s.metabolic_readiness * g.active_cells * (1.0 - total / ceiling)
    apoptosis = apoptosis_rate(p, g, env)
    to_quiescence = p.cell_quiescence_per_h * env.engorgement * g.active_cells
    reactivation = p.cell_reactivation_per_h * (1.0 - env.engorgement) * g.stat5 * g.quiescent_cells
    d_active = growth - apoptosis * g.active_cells - to_quiescence + reactivation
    d_quiescent = to_quiescence - reactivation - apoptosis * g.quiescent_cells
    target = g.stat5 * s.metabolic_readiness * secretory_maturation(p, t)
    d_capacity = (target - g.lactose_capacity) / p.lactose_capacity_tau_h
    return d_active, d_quiescent, d_capacity
