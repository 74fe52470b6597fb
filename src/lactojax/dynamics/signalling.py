"""Per-gland signalling: PRLR -> JAK2-STAT5 (with the progesterone-receptor brake),
LIF -> STAT3 under stasis, and ER stress (UPR). Rates per hour."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from lactojax.dynamics.environment import GlandEnvironment
from lactojax.inputs import Profile
from lactojax.parameters import Params
from lactojax.state import GlandState, SystemicState

def progesterone_receptor_occupancy(p: Params, progesterone) -> jnp.ndarray:
    """Fraction (0..1) of progesterone receptors occupied at plasma progesterone (ng/mL)."""
    x = (jnp.maximum(progesterone, 0.0) / p.progesterone_receptor_k_ng_ml) ** p.progesterone_receptor_hill
    return x / (1.0 + x)


def secretory_activation_brake(p: Params, progesterone, t, profile: Profile) -> jnp.ndarray:
    """The brake on the secretory-activation programme (STAT5 drive, tight-junction closure,
    colostral protein): progesterone-receptor occupancy, and in type 1 diabetes a refractoriness
    of the programme that is released around `type1_diabetes_lag_h` after delivery (partial,
    `insulin_resistance_refractory` x (1 - insulin_action), under insulin resistance).

    brake = occupancy + (1 - occupancy) * refractory, i.e. 1 - (1 - occupancy)(1 - refractory),
    written so that it equals `occupancy` exactly when type1_diabetes = 0 and insulin_action = 1."""
    occupancy = progesterone_receptor_occupancy(p, progesterone)
    # insulin deficit: 1 in type 1 diabetes, partial under insulin resistance
    deficit = jnp.maximum(profile.type1_diabetes, p.insulin_resistance_refractory * (1.0 - profile.insulin_action))
    refractory = deficit * jax.nn.sigmoid((p.type1_diabetes_lag_h - t) / p.t1d_refractory_width_h)
    return occupancy + (1.0 - occupancy) * refractory


def prolactin_receptor_signal(p: Params, prolactin) -> jnp.ndarray:
    prl = jnp.maximum(prolactin, 0.0)
    return prl / (prl + p.prolactin_receptor_k_ng_ml)


def signalling_rates(p: Params, s: SystemicState, g: GlandState, env: GlandEnvironment, occupancy):
    """Returns (d_stat5, d_stat3, d_upr), each (G,) per hour. `occupancy` is the brake on
    secretory activation (`secretory_activation_brake`)."""
    drive = prolactin_receptor_signal(p, s.prolactin) * (1.0 - p.progesterone_brake_strength * occupancy)
    d_stat5 = p.stat5_on_per_h * drive * (1.0 - g.stat5) - p.stat5_off_per_h * g.stat5 * (
        1.0 + p.stat3_suppresses_stat5 * g.stat3
    )
    d_stat3 = p.stat3_on_per_h * env.engorgement * (1.0 - g.stat3) - p.stat3_off_per_h * g.stat3
    d_upr = (env.engorgement - g.upr) / p.upr_tau_h
    return d_stat5, d_stat3, d_upr
