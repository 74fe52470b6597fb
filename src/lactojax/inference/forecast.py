"""Whole-lactation predictions of a herd (hierarchical) fit: every lactation, every day in
milk 1..`days`, under the posterior, whether or not it has records there (a forecast
beyond `until_day`).

`herd_forecast(data, x, inputs_by_subject)` simulates each lactation over the whole
horizon for a subset of the posterior draws x (its own subject-level parameters, its own
milking design) and returns a `HerdForecast`:
- `predictions`: columns subject, day, observable, unit, median, p05, p95 - for each
  observable of `FORECAST_OBSERVABLES`, the predictive interval of a new observation on
  that day (the model's value plus the likelihood's observation noise: log-normal for
  yields, Student-t for percentages, log-Student-t for SCC; with the draw's fitted noise
  scales where the fit estimated them, `inference.noise`), the quantiles of that mixture
  over the draws computed exactly (`density.predictive_quantiles`), not from one noise
  draw per posterior draw;
- `lactations`: per lactation, the 305-day yield, peak yield, peak day and persistency
  (`lactojax.dairy.metrics`) of the model's daily-yield curve (no observation noise: the
  lactation's own curve), each as median, p05 and p95 over the draws;
- `daily_yield`: the draws of that curve, (draws, subjects, days), kg/day.
Days follow the dairy convention: day d in milk covers [24 d - 12, 24 d + 12) hours after
calving (`lactojax.datasets.design.day_window_h`), so the simulation runs to 24 days + 12 h.
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import numpy as np
import pandas as pd

from lactojax.datasets.design import day_window_h
from lactojax.inference import density
from lactojax.inference.problem import FitData, hierarchical_problem

# daily observables predicted for every lactation: (dataset observable, unit)
FORECAST_OBSERVABLES = (("milk_yield_daily", "kg/d"), ("fat_pct", "%"), ("protein_pct", "%"),
                        ("lactose_pct", "%"), ("somatic_cell_count", "1e3/mL"))
YIELD = "milk_yield_daily"
QUANTILES = (("median", 0.5), ("p05", 0.05), ("p95", 0.95))


@dataclasses.dataclass
class HerdForecast:
    predictions: pd.DataFrame
    lactations: pd.DataFrame
    daily_yield: np.ndarray  # (draws, subjects, days) kg/day, no observation noise
    days: int
    failed_draws: int


def forecast_horizon_days(days: int) -> float:
    """Simulated horizon (whole days from calving) covering day `days` in milk."""
    return float(math.ceil(day_window_h(days)[1] / 24.0))


def forecast_rows(subjects, days: int) -> pd.DataFrame:
    """One row per subject, day 1..days and forecast observable (value NaN)."""
    windows = np.array([day_window_h(d) for d in range(1, days + 1)])
    frames = [pd.DataFrame({"subject": s, "observable": o, "day": np.arange(1, days + 1),
                            "t_start_h": windows[:, 0], "t_end_h": windows[:, 1], "value": 1.0})
              for s in subjects for o, _ in FORECAST_OBSERVABLES]
    return pd.concat(frames, ignore_index=True)


@eqx.filter_jit
def _predict_draws(problem, zs):
    return jax.vmap(lambda z: density.predict(problem, z)[:2])(zs)


def herd_forecast(data: FitData, x, inputs_by_subject, days: int = 305, draws: int = 100,
                  seed: int = 0, batch: int = 4, progress: bool = False) -> HerdForecast:
    """Predictions of every lactation of a hierarchical fit over days 1..`days` (module
    doc). x: posterior draws of the unconstrained vector (..., dim); inputs_by_subject:
    each subject's milking design over at least `forecast_horizon_days(days)` days.
    `progress`: a progress line on a terminal."""
    from lactojax.dairy.metrics import DAYS as METRIC_DAYS
    from lactojax.dairy.metrics import lactation_metrics

    fit = data.problem
    if fit.model != "hierarchical":
        raise ValueError("herd_forecast needs a hierarchical (herd) fit")
    xs = np.asarray(x, dtype=float).reshape(-1, fit.dim)
    rng = np.random.default_rng(seed)
    if xs.shape[0] > draws:
        xs = xs[np.sort(rng.choice(xs.shape[0], size=draws, replace=False))]
    subjects = list(data.subjects)
    rows = forecast_rows(subjects, days)
    pred_data = hierarchical_problem(rows, {s: inputs_by_subject[s] for s in subjects}, fit.names,
                                     species=data.species, settings=fit.settings, label=data.label)
    if len(pred_data.excluded):
        raise ValueError(f"forecast rows not mapped: {pred_data.excluded['reason'].iloc[0]}")
    # the fit's own fixed values and prior (same names, so the same z -> theta map)
    problem = eqx.tree_at(lambda p: (p.base, p.prior, p.noise), pred_data.problem, (fit.base, fit.prior, fit.noise))
    zs = np.asarray(density.unpack(fit, xs)[0])  # (n, S, k)
    pred, ok = density.padded_batches(_predict_draws, problem, zs, batch,
                                      progress=f"forecast of {len(subjects)} lactations" if progress else None)
    pred = pred[ok]
    table = pred_data.rows[["subject", "day", "observable"]].copy()
    # each draw's fitted noise scales (observables the fit did not see keep their defaults)
    sigma = density.row_sigma(fit, xs[ok], obs_code=problem.rows.obs_code)
    quantiles = density.predictive_quantiles(problem, pred, [q for _, q in QUANTILES], sigma=sigma)  # NaN without draws
    for (label, _), values in zip(QUANTILES, quantiles):
        table[label] = values
    unit = dict(FORECAST_OBSERVABLES)
    table.insert(3, "unit", table["observable"].map(unit))
    order = {o: i for i, (o, _) in enumerate(FORECAST_OBSERVABLES)}
    table = table.sort_values(["subject", "observable", "day"],
                              key=lambda c: c.map(order) if c.name == "observable" else c, kind="stable")
    # the lactation curve: daily yield without observation noise, (draws, S, days)
    is_yield = (pred_data.rows["observable"] == YIELD).to_numpy()
    yield_rows = pred_data.rows.loc[is_yield]
    curve = np.full((pred.shape[0], len(subjects), days), np.nan)
    s_idx = pd.Index(subjects).get_indexer(yield_rows["subject"])
    curve[:, s_idx, yield_rows["day"].to_numpy() - 1] = pred[:, is_yield]
    lact = pd.DataFrame({"subject": subjects})
    # the lactation summaries are defined on days 1-305 (dairy.metrics); a shorter forecast has none
    metrics = lactation_metrics(curve[..., :METRIC_DAYS]) if days >= METRIC_DAYS and len(pred) else {}
    for name, values in metrics.items():
        for label, q in QUANTILES:
            with np.errstate(all="ignore"):
                lact[f"{name}_{label}"] = np.nanquantile(values, q, axis=0) if len(pred) else np.nan
    return HerdForecast(table.reset_index(drop=True), lact, curve, days, int(np.sum(~ok)))


__all__ = ["FORECAST_OBSERVABLES", "HerdForecast", "forecast_horizon_days", "forecast_rows", "herd_forecast"]
