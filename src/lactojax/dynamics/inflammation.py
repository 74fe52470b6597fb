"""Per-gland inflammation (mastitis spectrum): bacteria entering through a nipple breach,
TLR -> NF-kB -> cytokines, neutrophil recruitment, walling-off (abscess). Rates per hour."""

from __future__ import annotations

import jax.numpy as jnp

from lactojax.dynamics.drive import Drive
from lactojax.dynamics.environment import GlandEnvironment
from lactojax.inputs import Profile
from lactojax.parameters import Params
from lactojax.state import GlandState

def tlr_activation(p: Params, bacteria) -> jnp.ndarray:
    b = jnp.maximum(bacteria, 0.0)
    return b / (b + p.tlr_half_bacteria)


def inflammation_rates(p: Params, g: GlandState, env: GlandEnvironment, drive: Drive, removal_rate, profile: Profile):
    """Returns (d_bacteria, d_cytokine, d_neutrophils, d_abscess), each (G,)."""
    b = jnp.maximum(g.bacteria, 0.0)
    exposed = 1.0 - p.abscess_shielding * g.abscess  # what drainage, cells and drugs can reach
    killing = (
        p.innate_clearance_per_h  # lactoferrin, lysozyme, sIgA
        + p.neutrophil_kill_per_h * g.neutrophils
        + p.antibiotic_kill_per_h * drive.antibiotic
        + removal_rate
    ) * exposed
    d_bacteria = p.bacteria_growth_per_h * b * (1.0 - b / p.bacteria_max) - killing * b + drive.inoculum
    tlr = tlr_activation(p, b)
    cytokine_drive = tlr + p.sterile_inflammation_gain * env.engorgement + profile.noninfective_inflammation
    d_cytokine = (cytokine_drive - g.cytokine) / p.cytokine_tau_h
    d_neutrophils = (g.cytokine - g.neutrophils) / p.neutrophil_tau_h
    d_abscess = p.abscess_rate_per_h * tlr * g.cytokine * (1.0 - g.abscess) - p.abscess_healing_per_h * (1.0 - tlr) * g.abscess
    return d_bacteria, d_cytokine, d_neutrophils, d_abscess
