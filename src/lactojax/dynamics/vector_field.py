"""The one place where the subsystems are composed into d(state)/dt."""

from __future__ import annotations

import jax.numpy as jnp

from lactojax.dynamics import drive as drive_mod
from lactojax.dynamics.environment import gland_environment
from lactojax.dynamics.hormones import infant_hunger, milk_ejection, systemic_rates
from lactojax.dynamics.inflammation import inflammation_rates
from lactojax.dynamics.secretion import composition_rates, milk_fluxes, tight_junction_target
from lactojax.dynamics.signalling import secretory_activation_brake, signalling_rates
from lactojax.dynamics.tissue import tissue_rates
from lactojax.inputs import Inputs
from lactojax.parameters import Params
from lactojax.state import GlandState, State


def instantaneous(t, state: State, params: Params, inputs: Inputs, drive: drive_mod.Drive | None = None):
    """Everything the vector field and the observation model need at time t. `drive`
    (default: `drive.evaluate(inputs, t)`) is the input applied at t."""
    s, g, profile = state.systemic, state.glands, inputs.profile
    drive = drive_mod.evaluate(inputs, t) if drive is None else drive
    env = gland_environment(params, g, profile)
    ejection = milk_ejection(params, s.oxytocin)
    hunger = infant_hunger(params, s, t, profile)
    fluxes = milk_fluxes(params, g, env, drive, ejection, hunger, profile)
    return drive, env, ejection, hunger, fluxes


def vector_field(t, state: State, args) -> State:
    """d(state)/dt in units per hour. `args = (params, inputs)`."""
    params, inputs = args
    return vector_field_with_drive(t, state, params, inputs, drive_mod.evaluate(inputs, t))[0]


def vector_field_with_drive(t, state: State, params: Params, inputs: Inputs, drive: drive_mod.Drive):
    """(d(state)/dt, environment, fluxes) at time t under a given drive."""
    s, g, profile = state.systemic, state.glands, inputs.profile
    drive, env, _, _, fluxes = instantaneous(t, state, params, inputs, drive)

    # progesterone-receptor occupancy (+ type-1-diabetes refractoriness): brakes STAT5, the
    # closure of the tight junctions and the colostral protein excess
    occupancy = secretory_activation_brake(params, s.progesterone, t, profile)
    d_stat5, d_stat3, d_upr = signalling_rates(params, s, g, env, occupancy)
    d_active, d_quiescent, d_lactose_capacity = tissue_rates(params, s, g, env, profile, t)
    d_tj = (tight_junction_target(params, g, env, occupancy) - g.tj_open) / params.tj_tau_h
    milk = composition_rates(params, g, env, fluxes, profile, occupancy, t)
    d_bacteria, d_cytokine, d_neutrophils, d_abscess = inflammation_rates(
        params, g, env, drive, fluxes.removal_rate_per_h, profile
    )
    d_glands = GlandState(
        stat5=d_stat5,
        stat3=d_stat3,
        upr=d_upr,
        active_cells=d_active,
        quiescent_cells=d_quiescent,
        lactose_capacity=d_lactose_capacity,
        tj_open=d_tj,
        bacteria=d_bacteria,
        cytokine=d_cytokine,
        neutrophils=d_neutrophils,
        abscess=d_abscess,
        **milk,
    )
    d_systemic = systemic_rates(
        params,
        s,
        t,
        drive,
        profile,
        infant_intake_rate=jnp.sum(fluxes.infant_removal_ml_h),
        cytokine_total=jnp.sum(jnp.maximum(g.cytokine, 0.0)),
    )
    return State(systemic=d_systemic, glands=d_glands), env, fluxes
