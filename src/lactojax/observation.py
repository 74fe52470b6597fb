"""Observation model: maps a solved `Trajectory` to what studies measure.

Kept separate from the dynamics. All functions are pure JAX (jit/grad/vmap-friendly) and
work on one trajectory; vmap them for batches. Conventions (documented in the README):
- concentrations are those of the stored milk (volume-weighted over glands when pooled);
- daily values cover [24 d, 24 (d + 1)) hours; intake/production are differences of the
  cumulative states, so they are exact (not interpolated rates);
- "basal" prolactin of a day is the minimum over the output grid, "peak" the maximum.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from lactojax.dynamics.environment import MIN_VOLUME_ML, gland_environment
from lactojax.dynamics.vector_field import instantaneous
from lactojax.inputs import Inputs
from lactojax.parameters import Params
from lactojax.simulate import Trajectory
from lactojax.state import GlandState, State

LACTOSE_G_PER_MMOL = 0.3423  # lactose monohydrate-free molar mass, g/mmol
from lactojax.datasets.units import MILK_DENSITY_G_PER_ML as MILK_DENSITY_G_ML  # one definition

MMOL_L = ("sodium", "potassium", "chloride", "citrate")
G_L = ("protein", "fat")


def gland_concentrations(g: GlandState) -> dict[str, jnp.ndarray]:
    """Per-gland concentrations: mmol/L for ions and citrate, g/L for lactose, protein, fat."""
    litres = jnp.maximum(g.milk_volume, MIN_VOLUME_ML) / 1000.0
    out = {x: getattr(g, x) / litres for x in MMOL_L + G_L}
    out["lactose"] = g.lactose * LACTOSE_G_PER_MMOL / litres
    out["na_k_ratio"] = g.sodium / jnp.maximum(g.potassium, 1e-9)
    return out


def pooled_concentrations(g: GlandState) -> dict[str, jnp.ndarray]:
    """Concentrations of all glands' milk mixed (volume-weighted)."""
    litres = jnp.maximum(jnp.sum(g.milk_volume, axis=-1), MIN_VOLUME_ML) / 1000.0
    out = {x: jnp.sum(getattr(g, x), axis=-1) / litres for x in MMOL_L + G_L}
    out["lactose"] = jnp.sum(g.lactose, axis=-1) * LACTOSE_G_PER_MMOL / litres
    out["na_k_ratio"] = jnp.sum(g.sodium, -1) / jnp.maximum(jnp.sum(g.potassium, -1), 1e-9)
    return out


def somatic_cell_count(params: Params, g: GlandState) -> jnp.ndarray:
    """Somatic cell count per gland, 1e3 cells/mL."""
    return params.somatic_cell_basal_k_ml + params.somatic_cell_per_neutrophil_k_ml * jnp.maximum(g.neutrophils, 0.0)


def synthesis_rate(traj: Trajectory, params: Params, inputs: Inputs) -> jnp.ndarray:
    """Short-term milk synthesis rate per gland on the output grid, mL/h (N, G)."""

    def one(t, state):
        _, _, _, _, fluxes = instantaneous(t, state, params, inputs)
        return fluxes.secretion_ml_h + fluxes.paracellular_ml_h

    return jax.vmap(one)(traj.ts, traj.states)


def hourly(traj: Trajectory, params: Params, inputs: Inputs) -> dict[str, jnp.ndarray]:
    """Every observable on the output grid (leading axis = time)."""
    s, g = traj.states.systemic, traj.states.glands
    env = jax.vmap(lambda gg: gland_environment(params, gg, inputs.profile))(g)
    out = {f"milk_{k}": v for k, v in pooled_concentrations(g).items()}
    out.update({f"gland_milk_{k}": v for k, v in gland_concentrations(g).items()})
    out.update(
        time_h=traj.ts,
        plasma_progesterone=s.progesterone,
        plasma_prolactin=s.prolactin,
        plasma_oxytocin=s.oxytocin,
        fever=s.fever,
        stored_milk_ml=g.milk_volume,
        fullness=env.fill,
        pressure_mmhg=env.pressure_mmhg,
        fil_inhibition=env.fil_inhibition,
        somatic_cell_count=somatic_cell_count(params, g),
        synthesis_rate_ml_h=synthesis_rate(traj, params, inputs),
        stat5=g.stat5,
        stat3=g.stat3,
        active_cells=g.active_cells,
        tj_open=g.tj_open,
        bacteria=g.bacteria,
        cytokine=g.cytokine,
        abscess=g.abscess,
    )
    return out


def _per_day(values: jnp.ndarray, traj: Trajectory, reducer) -> jnp.ndarray:
    """Reduce a grid series over each whole day: [24d, 24(d+1)) (last grid point excluded)."""
    per_day = traj.points_per_day
    n_days = (values.shape[0] - 1) // per_day
    trimmed = values[: n_days * per_day]
    return reducer(trimmed.reshape((n_days, per_day) + values.shape[1:]), axis=1)


def daily(traj: Trajectory, params: Params, inputs: Inputs) -> dict[str, jnp.ndarray]:
    """Daily observables (index d covers hours [24 d, 24 d + 24)).

    milk_intake_ml: taken by the infant(s); milk_removed_ml: by infant and pump;
    production_gland_ml (D, G): milk secreted by each gland; concentrations: daily mean of
    the stored milk; prolactin basal / peak: daily min / max of plasma prolactin.
    """
    s, g = traj.states.systemic, traj.states.glands
    per_day = traj.points_per_day
    n_days = (traj.ts.shape[0] - 1) // per_day
    idx = jnp.arange(n_days + 1) * per_day
    diff = lambda x: jnp.diff(x[idx], axis=0)
    h = hourly(traj, params, inputs)
    mean = lambda x: _per_day(x, traj, jnp.mean)
    out = {
        "day": jnp.arange(n_days),
        "milk_intake_ml": diff(s.infant_intake),
        "milk_removed_ml": jnp.sum(diff(g.removed), axis=-1),
        "production_ml": jnp.sum(diff(g.synthesized), axis=-1),
        "production_gland_ml": diff(g.synthesized),
        "removed_gland_ml": diff(g.removed),
        "prolactin_basal_ng_ml": _per_day(s.prolactin, traj, jnp.min),
        "prolactin_peak_ng_ml": _per_day(s.prolactin, traj, jnp.max),
        "oxytocin_peak_pg_ml": _per_day(s.oxytocin, traj, jnp.max),
        "progesterone_ng_ml": mean(s.progesterone),
        "fever_max_c": _per_day(s.fever, traj, jnp.max),
        "somatic_cell_count_k_ml": mean(jnp.max(h["somatic_cell_count"], axis=-1)),
        "fullness_max": _per_day(h["fullness"], traj, jnp.max),
        "gland_sodium_mmol_l": mean(h["gland_milk_sodium"]),
    }
    for k in ("sodium", "potassium", "chloride", "citrate"):
        out[f"milk_{k}_mmol_l"] = mean(h[f"milk_{k}"])
    for k in ("lactose", "protein", "fat"):
        out[f"milk_{k}_g_l"] = mean(h[f"milk_{k}"])
    out["milk_na_k_ratio"] = mean(h["milk_na_k_ratio"])
    return out


def per_session(traj: Trajectory, params: Params, inputs: Inputs) -> dict[str, jnp.ndarray]:
    """Per removal session (feed, pump, milking): volume removed per gland and in total,
    and the composition of the milk present at the session's start. Padded rows give 0."""
    real = inputs.feeds.start_h < inputs.horizon_h
    removed = (traj.feed_end.glands.removed - traj.feed_start.glands.removed) * real[:, None]
    conc = pooled_concentrations(traj.feed_start.glands)
    out = {
        "start_h": inputs.feeds.start_h,
        "valid": real,
        "removed_gland_ml": removed,
        "removed_ml": jnp.sum(removed, axis=-1),
        "infant_intake_ml": (traj.feed_end.systemic.infant_intake - traj.feed_start.systemic.infant_intake) * real,
    }
    # Dairy conventions: yield in kg, composition in % (w/w).
    out["yield_kg"] = out["removed_ml"] * MILK_DENSITY_G_ML / 1000.0
    for k in ("fat", "protein", "lactose"):
        out[f"{k}_pct"] = conc[k] / (10.0 * MILK_DENSITY_G_ML)
    out["somatic_cell_count_k_ml"] = jnp.mean(somatic_cell_count(params, traj.feed_start.glands), axis=-1)
    return out


def crossing_time(ts: jnp.ndarray, y: jnp.ndarray, level) -> jnp.ndarray:
    """First time y rises through `level`, linearly interpolated (differentiable in y).
    Returns the last grid time if it never does."""
    above = y >= level
    i = jnp.clip(jnp.argmax(above), 1, ts.shape[0] - 1)
    never = ~jnp.any(above)
    y0, y1 = y[i - 1], y[i]
    frac = jnp.clip((level - y0) / jnp.where(y1 - y0 == 0, 1.0, y1 - y0), 0.0, 1.0)
    t = ts[i - 1] + frac * (ts[i] - ts[i - 1])
    return jnp.where(never, ts[-1], jnp.where(above[0], ts[0], t))


def event_times(traj: Trajectory, params: Params, inputs: Inputs, reference_day: int = 7) -> dict[str, jnp.ndarray]:
    """Lactogenesis II marker times, hours after delivery, relative to the level reached on
    `reference_day` (mean over that day):
    - lactogenesis_II_onset: total synthesis rate reaches 25 % of the reference;
    - milk_coming_in_perceived: total synthesis rate reaches 50 %;
    - lactose_transition_end: pooled milk lactose reaches 95 % of the reference;
    - citrate_transition_start / _end: pooled milk citrate reaches 20 % / 90 %;
    - sodium_below_20: pooled milk sodium first falls below 20 mmol/L.
    """
    h = hourly(traj, params, inputs)
    per_day = traj.points_per_day
    ref = lambda x: jnp.mean(x[reference_day * per_day : (reference_day + 1) * per_day])
    synth = jnp.sum(h["synthesis_rate_ml_h"], axis=-1)
    lac, cit, na = h["milk_lactose"], h["milk_citrate"], h["milk_sodium"]
    ts = traj.ts
    return {
        "lactogenesis_II_onset": crossing_time(ts, synth, 0.25 * ref(synth)),
        "milk_coming_in_perceived": crossing_time(ts, synth, 0.5 * ref(synth)),
        "lactose_transition_end": crossing_time(ts, lac, 0.95 * ref(lac)),
        "citrate_transition_start": crossing_time(ts, cit, 0.2 * ref(cit)),
        "citrate_transition_end": crossing_time(ts, cit, 0.9 * ref(cit)),
        "sodium_below_20": crossing_time(ts, -na, -20.0),
    }


def mass_balance_error(traj: Trajectory, params: Params, inputs: Inputs) -> jnp.ndarray:
    """max |V(t) - V(0) - (synthesized - removed)| over the grid and glands, mL."""
    g = traj.states.glands
    v0 = g.milk_volume[0]
    return jnp.max(jnp.abs(g.milk_volume - v0 - (g.synthesized - g.removed)))


__all__ = [
    "State",
    "daily",
    "event_times",
    "gland_concentrations",
    "hourly",
    "mass_balance_error",
    "per_session",
    "pooled_concentrations",
    "synthesis_rate",
]
