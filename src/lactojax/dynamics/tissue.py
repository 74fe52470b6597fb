"""Per-gland secretory tissue: active and quiescent secretory cells and their lactose
synthesis capacity (alpha-lactalbumin / lactose synthase). Rates per hour."""

from __future__ import annotations

from lactojax.dynamics.environment import GlandEnvironment
from lactojax.inputs import Profile
from lactojax.parameters import Params
from lactojax.state import GlandState, SystemicState


def tissue_rates(p: Params, s: SystemicState, g: GlandState, env: GlandEnvironment, profile: Profile):
    """Returns (d_active_cells, d_quiescent_cells, d_lactose_capacity), each (G,)."""
    total = g.active_cells + g.quiescent_cells
    ceiling = p.cell_carrying_capacity * profile.alveolar_fraction
    growth = p.cell_proliferation_per_h * g.stat5 * s.metabolic_readiness * g.active_cells * (
        1.0 - total / ceiling
    )
    apoptosis = p.cell_apoptosis_basal_per_h + p.cell_apoptosis_stat3_per_h * (g.stat3 * (1.0 + g.upr)) ** 2
    to_quiescence = p.cell_quiescence_per_h * env.engorgement * g.active_cells
    reactivation = p.cell_reactivation_per_h * (1.0 - env.engorgement) * g.stat5 * g.quiescent_cells
    d_active = growth - apoptosis * g.active_cells - to_quiescence + reactivation
    d_quiescent = to_quiescence - reactivation - apoptosis * g.quiescent_cells
    d_capacity = (g.stat5 * s.metabolic_readiness - g.lactose_capacity) / p.lactose_capacity_tau_h
    return d_active, d_quiescent, d_capacity
