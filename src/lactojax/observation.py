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
from lactojax.datasets.units import g_per_l_to_pct, milk_ml_to_kg  # the dairy conversions, once

MMOL_L = ("sodium", "potassium", "chloride", "citrate")
REMOVED_ML_FOR_FAT = 0.01  # below this much milk removed, report the stored milk's fat
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
    """Somatic cell count per gland, 1e3 cells/mL: the cells in the stored milk over its
    volume (`params` is kept for callers; the count is a state)."""
    del params
    return 1000.0 * jnp.maximum(g.somatic_cells, 0.0) / jnp.maximum(g.milk_volume, MIN_VOLUME_ML)


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


def _at_arg(arg):
    """max (arg = jnp.argmax) or min (jnp.argmin) along an axis as the element at its index:
    its derivative is that element's. jnp.max's own JVP divides by the count of elements equal
    to the result, which XLA may find to be 0 (a NaN tangent) when the series is recomputed in
    another fusion with other rounding (seen with LLVM at -O0: the daily prolactin peak's
    forward-mode tangent)."""

    def reducer(x, axis):
        i = jnp.expand_dims(arg(x, axis=axis), axis)
        return jnp.squeeze(jnp.take_along_axis(x, i, axis=axis), axis)

    return reducer


_max, _min = _at_arg(jnp.argmax), _at_arg(jnp.argmin)


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
    the stored milk; prolactin basal / peak: daily min / max of plasma prolactin (their
    ratio: prolactin_fold_rise). Units and names: `lactojax.observables.REGISTRY`.
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
        "prolactin_basal_ng_ml": _per_day(s.prolactin, traj, _min),
        "prolactin_peak_ng_ml": _per_day(s.prolactin, traj, _max),
        "oxytocin_peak_pg_ml": _per_day(s.oxytocin, traj, _max),
        "progesterone_ng_ml": mean(s.progesterone),
        "fever_max_c": _per_day(s.fever, traj, _max),
        "somatic_cell_count_k_ml": mean(_max(h["somatic_cell_count"], axis=-1)),
        "fullness_max": _per_day(h["fullness"], traj, _max),
        "gland_sodium_mmol_l": mean(h["gland_milk_sodium"]),
    }
    for k in ("sodium", "potassium", "chloride", "citrate"):
        out[f"milk_{k}_mmol_l"] = mean(h[f"milk_{k}"])
    for k in ("lactose", "protein"):
        out[f"milk_{k}_g_l"] = mean(h[f"milk_{k}"])
    # fat is that of the milk removed over the day (fat rises through a feed, so the stored
    # milk's is not what an infant or a 24-h sample gets); the stored milk's on days with
    # no removal
    removed_ml = jnp.sum(diff(g.removed), axis=-1)
    removed_fat = jnp.sum(diff(g.fat_removed), axis=-1)
    some = removed_ml > REMOVED_ML_FOR_FAT
    out["milk_fat_g_l"] = jnp.where(some, 1000.0 * removed_fat / jnp.where(some, removed_ml, 1.0), mean(h["milk_fat"]))
    out["milk_na_k_ratio"] = mean(h["milk_na_k_ratio"])
    # as published: one gland's mean production, and the suckling rise of prolactin
    out["production_per_gland_ml"] = out["production_ml"] / g.synthesized.shape[-1]
    out["prolactin_fold_rise"] = out["prolactin_peak_ng_ml"] / jnp.maximum(out["prolactin_basal_ng_ml"], 1e-12)
    return out


def per_session(traj: Trajectory, params: Params, inputs: Inputs) -> dict[str, jnp.ndarray]:
    """Per removal session (feed, pump, milking): volume removed per gland and in total,
    and the composition of the milk present at the session's start (pooled over the glands
    by stored volume), except fat, which is that of the milk removed in the session
    (hindmilk included), and the somatic cell count, weighted by the volume each gland gave
    (`composite_cell_count`). Padded rows give 0 volumes."""
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
    out["yield_kg"] = milk_ml_to_kg(out["removed_ml"])
    for k in ("protein", "lactose"):
        out[f"{k}_pct"] = g_per_l_to_pct(conc[k])
    # fat of the milk removed in the session (hindmilk included), as a milk meter samples it
    fat_g = jnp.sum(traj.feed_end.glands.fat_removed - traj.feed_start.glands.fat_removed, axis=-1) * real
    some = out["removed_ml"] > REMOVED_ML_FOR_FAT
    fat_g_l = jnp.where(some, 1000.0 * fat_g / jnp.where(some, out["removed_ml"], 1.0), conc["fat"])
    out["fat_pct"] = g_per_l_to_pct(fat_g_l)
    out["somatic_cell_count_k_ml"] = composite_cell_count(somatic_cell_count(params, traj.feed_start.glands),
                                                          removed, traj.feed_start.glands.milk_volume)
    return out


def composite_cell_count(scc_gland: jnp.ndarray, removed_ml: jnp.ndarray, stored_ml: jnp.ndarray) -> jnp.ndarray:
    """Somatic cell count of the milk removed at each session, 1e3 cells/mL: the glands'
    counts (S, G) weighted by the volume each gave (S, G, mL), as a milk meter's composite
    sample of all quarters measures it. A session that removed nothing (a padded row) is
    weighted by the stored volume instead."""
    total = jnp.sum(removed_ml, axis=-1, keepdims=True)
    w = jnp.where(total > 0, removed_ml, jnp.maximum(stored_ml, MIN_VOLUME_ML))
    return jnp.sum(scc_gland * w, axis=-1) / jnp.sum(w, axis=-1)


def _hermite(s, y0, m0, y1, m1):
    """Cubic Hermite interpolant on a unit cell (m0, m1: slopes per cell)."""
    s2, s3 = s * s, s * s * s
    return (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * m0 + (3 * s2 - 2 * s3) * y1 + (s3 - s2) * m1


def _hermite_slope(s, y0, m0, y1, m1):
    s2 = s * s
    return (6 * s2 - 6 * s) * (y0 - y1) + (3 * s2 - 4 * s + 1) * m0 + (3 * s2 - 2 * s) * m1


def crossing_time(ts: jnp.ndarray, y: jnp.ndarray, level, method: str = "cubic") -> jnp.ndarray:
    """First time y rises through `level` on the grid ts, hours (differentiable in y).

    The crossing cell ends at the first grid point at or above `level`. Inside it, method
    "cubic" (default) solves a cubic Hermite interpolant of y (slopes by central
    differences) for the level, so the time is continuously differentiable in the samples:
    when a parameter moves the crossing through a grid point its derivative does not jump
    (a linear interpolant's does, which puts kinks in a fit's log-density). "linear"
    interpolates linearly. Returns ts[0] if y starts at or above `level`, and the last grid
    time if it never reaches it.
    """
    if method not in ("cubic", "linear"):
        raise ValueError(f"crossing_time: method={method!r}; expected 'cubic' or 'linear'")
    n = ts.shape[0]
    above = y >= level
    i = jnp.clip(jnp.argmax(above), 1, n - 1)
    never = ~jnp.any(above)
    y0, y1 = y[i - 1], y[i]
    dy = y1 - y0
    frac = jnp.clip((level - y0) / jnp.where(dy == 0, 1.0, dy), 0.0, 1.0)
    if method == "cubic":
        # slopes per cell by central differences, one-sided at the grid's ends
        m0 = jnp.where(i >= 2, 0.5 * (y1 - y[jnp.maximum(i - 2, 0)]), dy)
        m1 = jnp.where(i <= n - 2, 0.5 * (y[jnp.minimum(i + 1, n - 1)] - y0), dy)
        cell = (y0, m0, y1, m1)

        def newton(s, c, lev):
            d = _hermite_slope(s, *c)
            d = jnp.where(jnp.abs(d) < 1e-12, 1e-12, d)
            return jnp.clip(s - (_hermite(s, *c) - lev) / d, 0.0, 1.0)

        # Newton from the linear guess without gradients, then one differentiable step:
        # at the root its derivative is the implicit one, -(dp/dtheta) / (dp/ds).
        c_ng = jax.lax.stop_gradient(cell)
        lev_ng = jax.lax.stop_gradient(level)
        s = jax.lax.stop_gradient(frac)
        for _ in range(5):
            s = newton(s, c_ng, lev_ng)
        frac = newton(s, cell, level)
    t = ts[i - 1] + frac * (ts[i] - ts[i - 1])
    return jnp.where(never, ts[-1], jnp.where(above[0], ts[0], t))


def _window_mean(ts: jnp.ndarray, cumulative: jnp.ndarray, half: int) -> jnp.ndarray:
    """(cumulative(t + w) - cumulative(t - w)) / 2w at each grid time, w = `half` grid
    points, the window cut at the grid's ends: the mean rate over a centred window."""
    n = ts.shape[0]
    k = jnp.arange(n)
    lo, hi = jnp.clip(k - half, 0, n - 1), jnp.clip(k + half, 0, n - 1)
    return (cumulative[hi] - cumulative[lo]) / (ts[hi] - ts[lo])


def centered_mean(ts: jnp.ndarray, y: jnp.ndarray, half: int) -> jnp.ndarray:
    """Mean of y (T,) over a centred window of +-`half` grid points at each grid time
    (trapezoid rule; the window is cut at the grid's ends)."""
    cum = jnp.concatenate([jnp.zeros(1), jnp.cumsum(0.5 * (y[1:] + y[:-1]) * jnp.diff(ts))])
    return _window_mean(ts, cum, half)


def event_times(traj: Trajectory, params: Params, inputs: Inputs, reference_day: int = 7,
                smoothing_h: float = 24.0) -> dict[str, jnp.ndarray]:
    """Lactogenesis II marker times, hours after delivery, relative to the level reached on
    `reference_day` (mean over that day):
    - lactogenesis_II_onset: total synthesis rate reaches 25 % of the reference;
    - milk_coming_in_perceived: total synthesis rate reaches 50 %;
    - lactose_transition_end: pooled milk lactose reaches 95 % of the reference;
    - citrate_transition_start / _end: pooled milk citrate reaches 20 % / 90 %;
    - sodium_below_20: pooled milk sodium first falls below 20 mmol/L.

    Each signal is first averaged over a centred window of `smoothing_h` hours (24 h by
    default; 0 uses the raw hourly signal). The markers describe the sustained rise, not
    where a feed or the night interval happens to put it: on the raw signal a marker time
    is a wiggly function of the parameters (each feed makes a small plateau), which
    roughens a fit's log-density. Crossings use `crossing_time` (cubic, C1).
    """
    h = hourly(traj, params, inputs)
    per_day = traj.points_per_day
    ts = traj.ts
    raw = {
        "synthesis": jnp.sum(h["synthesis_rate_ml_h"], axis=-1),
        "lactose": h["milk_lactose"],
        "citrate": h["milk_citrate"],
    }
    # marker -> (signal, fraction of the signal's mean over the reference day)
    markers = {
        "lactogenesis_II_onset": ("synthesis", 0.25),
        "milk_coming_in_perceived": ("synthesis", 0.5),
        "lactose_transition_end": ("lactose", 0.95),
        "citrate_transition_start": ("citrate", 0.2),
        "citrate_transition_end": ("citrate", 0.9),
    }
    ref_day = slice(reference_day * per_day, (reference_day + 1) * per_day)
    ref = {k: jnp.mean(x[ref_day]) for k, x in raw.items()}
    signals = dict(raw, sodium=h["milk_sodium"])
    half = int(round(0.5 * smoothing_h * per_day / 24.0))
    if half > 0:
        # the synthesis rate's window mean is exact from the cumulative synthesized volume
        cumulative = jnp.sum(traj.states.glands.synthesized, axis=-1)
        signals = {k: _window_mean(ts, cumulative, half) if k == "synthesis" else centered_mean(ts, x, half)
                   for k, x in signals.items()}
    out = {name: crossing_time(ts, signals[sig], frac * ref[sig]) for name, (sig, frac) in markers.items()}
    out["sodium_below_20"] = crossing_time(ts, -signals["sodium"], -20.0)
    return out


def mass_balance_error(traj: Trajectory, params: Params, inputs: Inputs) -> jnp.ndarray:
    """max |V(t) - V(0) - (synthesized - removed)| over the grid and glands, mL."""
    g = traj.states.glands
    v0 = g.milk_volume[0]
    return jnp.max(jnp.abs(g.milk_volume - v0 - (g.synthesized - g.removed)))


__all__ = [
    "State",
    "centered_mean",
    "composite_cell_count",
    "crossing_time",
    "daily",
    "event_times",
    "gland_concentrations",
    "hourly",
    "mass_balance_error",
    "per_session",
    "pooled_concentrations",
    "synthesis_rate",
]
