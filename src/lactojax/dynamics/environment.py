"""Derived per-gland quantities shared by several subsystems (fill, pressure, FIL, stasis)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from lactojax.inputs import Profile
from lactojax.parameters import Params
from lactojax.state import GlandState

MIN_VOLUME_ML = 0.1  # floor for concentrations in an (almost) empty gland


class GlandEnvironment(eqx.Module):
    capacity_ml: jnp.ndarray  # (G,) storage capacity
    fill: jnp.ndarray  # (G,) stored volume / capacity
    pressure_mmhg: jnp.ndarray  # (G,) intramammary pressure
    engorgement: jnp.ndarray  # (G,) 0..1 stasis signal (drives LIF-STAT3, UPR, quiescence)
    fil_inhibition: jnp.ndarray  # (G,) 0..1 multiplier on secretion (1 = none)
    pressure_inhibition: jnp.ndarray  # (G,) 0..1 multiplier on secretion
    volume_safe: jnp.ndarray  # (G,) mL, for concentrations


def gland_environment(p: Params, g: GlandState, profile: Profile) -> GlandEnvironment:
    capacity = p.storage_capacity_ml * profile.gland_capacity_scale
    fill = jnp.maximum(g.milk_volume, 0.0) / capacity
    pressure = p.pressure_at_capacity_mmhg * fill ** p.pressure_exponent
    x = (fill / p.stasis_fill_half) ** 4
    # FIL amount is in units of "a full gland of fresh milk": its luminal exposure rises with
    # the milk stored, which is how it signals demand (seeds 000-002).
    fil_exposure = jnp.maximum(g.fil, 0.0) / p.fil_half_fill
    return GlandEnvironment(
        capacity_ml=capacity,
        fill=fill,
        pressure_mmhg=pressure,
        engorgement=x / (1.0 + x),
        fil_inhibition=1.0 / (1.0 + fil_exposure**2),
        pressure_inhibition=1.0 / (1.0 + (pressure / p.pressure_half_inhibition_mmhg) ** 2),
        volume_safe=jnp.maximum(g.milk_volume, MIN_VOLUME_ML),
    )
