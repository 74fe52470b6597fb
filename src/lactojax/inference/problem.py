"""The fit problem and its single log-density, shared by MAP, NUTS and SVI.

    z (unconstrained, k) -> theta (bounded, `PriorSet`) -> Params (estimated + fixed)
      -> simulate(throw=False) -> predictions for each data row (`RowMap`)
      -> lactojax.likelihoods.dataset_loglik_terms -> sum + log prior(z)

A solver failure (or any non-finite prediction) makes the log-density -inf, never NaN and
never an exception; its gradient is then zero (`LogDensity.logp` sanitises it), so Adam,
NUTS and SVI all see a rejected point rather than a poisoned one.

Mapping data rows to predictions (docs/fitting.md):
- volumes per 24 h (milk_intake_24h, milk_production_24h, ..._per_gland): mean of the daily
  value over the whole days inside [t_start, t_end); a point time t (t_start == t_end) is
  the 24 h ending at t (day ceil(t/24) - 1);
- milk concentrations: mean of the daily mean pooled concentration over the same days;
- plasma_prolactin_basal / _peak_feed, plasma_oxytocin_peak_feed: daily min / max;
  prolactin_suckling_fold_rise: daily max / min;
- storage_capacity_per_gland: the parameter storage_capacity_ml (no simulation);
- event times: `observation.event_times` (reference day 7).
Rows whose window is not inside the simulated horizon, or whose observable has no mapping,
are excluded and listed with a reason in `FitProblem.excluded`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from lactojax import likelihoods as lk
from lactojax import observation as obs
from lactojax.datasets import ObservationArrays, fit_table, load_dataset
from lactojax.datasets.vocabulary import CODES, default_noise_sigma
from lactojax.inference.priors import PriorSet
from lactojax.inputs import Inputs, make_inputs, regular_feeds
from lactojax.parameters import Params
from lactojax.simulate import simulate
from lactojax.solver import SolverSettings

if TYPE_CHECKING:
    from lactojax.inference.config import FitConfig

EVENT_REFERENCE_DAY = 7

# observable -> (source, key). source: "daily" series key, "event" name, "param" name.
DAILY_SERIES = (
    "milk_intake_ml",
    "production_ml",
    "production_per_gland_ml",
    "milk_removed_ml",
    "milk_sodium_mmol_l",
    "milk_potassium_mmol_l",
    "milk_chloride_mmol_l",
    "milk_citrate_mmol_l",
    "milk_lactose_g_l",
    "milk_protein_g_l",
    "milk_fat_g_l",
    "prolactin_basal_ng_ml",
    "prolactin_peak_ng_ml",
    "oxytocin_peak_pg_ml",
    "prolactin_fold_rise",
)
EVENTS = (
    "lactogenesis_II_onset",
    "milk_coming_in_perceived",
    "lactose_transition_end",
    "citrate_transition_start",
    "citrate_transition_end",
    "sodium_below_20",
)
PARAM_ROWS = ("storage_capacity_ml",)

OBSERVABLE_MAP: dict[str, tuple[str, str]] = {
    "milk_intake_24h": ("daily", "milk_intake_ml"),
    "milk_production_24h": ("daily", "production_ml"),
    "milk_production_24h_per_gland": ("daily", "production_per_gland_ml"),
    "milk_sodium": ("daily", "milk_sodium_mmol_l"),
    "milk_potassium": ("daily", "milk_potassium_mmol_l"),
    "milk_chloride": ("daily", "milk_chloride_mmol_l"),
    "milk_citrate": ("daily", "milk_citrate_mmol_l"),
    "milk_lactose": ("daily", "milk_lactose_g_l"),
    "milk_protein": ("daily", "milk_protein_g_l"),
    "milk_fat": ("daily", "milk_fat_g_l"),
    "plasma_prolactin_basal": ("daily", "prolactin_basal_ng_ml"),
    "plasma_prolactin_peak_feed": ("daily", "prolactin_peak_ng_ml"),
    "plasma_oxytocin_peak_feed": ("daily", "oxytocin_peak_pg_ml"),
    "prolactin_suckling_fold_rise": ("daily", "prolactin_fold_rise"),
    "storage_capacity_per_gland": ("param", "storage_capacity_ml"),
    **{e: ("event", e) for e in EVENTS if e != "sodium_below_20"},
}


def row_days(t0: float, t1: float) -> list[int]:
    """Whole days d (hours [24 d, 24 d + 24)) that a row's window covers (module doc)."""
    eps = 1e-6
    if abs(t1 - t0) < eps:  # point time: the 24 h ending at t
        return [max(int(math.ceil(t1 / 24.0 - eps)) - 1, 0)]
    first = int(math.ceil(t0 / 24.0 - eps))
    last = int(math.floor(t1 / 24.0 + eps)) - 1
    if last >= first:
        return list(range(first, last + 1))
    # window shorter than a day or misaligned: the days it overlaps
    return list(range(int(math.floor(t0 / 24.0)), int(math.ceil(t1 / 24.0 - eps))))


@dataclasses.dataclass(frozen=True)
class RowMap:
    """Linear map from model features to one prediction per row:
    pred = W_daily . vec(S) + W_event . events + W_param . params, where S (series, days)
    stacks `DAILY_SERIES`."""

    w_daily: np.ndarray  # (R, n_series * n_days)
    w_event: np.ndarray  # (R, n_events)
    w_param: np.ndarray  # (R, n_param_rows)
    n_days: int
    needs_events: bool


def build_row_map(rows: pd.DataFrame, n_days: int) -> RowMap:
    r = len(rows)
    ns = len(DAILY_SERIES)
    wd = np.zeros((r, ns * n_days))
    we = np.zeros((r, len(EVENTS)))
    wp = np.zeros((r, len(PARAM_ROWS)))
    for i, row in enumerate(rows.itertuples(index=False)):
        source, key = OBSERVABLE_MAP[row.observable]
        if source == "daily":
            s = DAILY_SERIES.index(key)
            days = row_days(row.t_start_h, row.t_end_h)
            for d in days:
                wd[i, s * n_days + d] = 1.0 / len(days)
        elif source == "event":
            we[i, EVENTS.index(key)] = 1.0
        else:
            wp[i, PARAM_ROWS.index(key)] = 1.0
    return RowMap(wd, we, wp, n_days, bool(np.any(we)))


def _exclusion_reason(row, horizon_h: float) -> str | None:
    if row.observable not in OBSERVABLE_MAP:
        return f"{row.observable}: no mapping from the model's outputs in the fit problem"
    source, _ = OBSERVABLE_MAP[row.observable]
    if source == "param":
        return None
    if source == "event":
        if horizon_h < 24.0 * (EVENT_REFERENCE_DAY + 1):
            return (f"event times need the reference day {EVENT_REFERENCE_DAY} inside the "
                    f"horizon ({24 * (EVENT_REFERENCE_DAY + 1):g} h)")
        return None
    if row.gland >= 0:
        return "per-gland rows are not mapped (the simulated mother is symmetric)"
    days = row_days(row.t_start_h, row.t_end_h)
    if 24.0 * (max(days) + 1) > horizon_h + 1e-6:
        return f"window beyond the fit horizon ({horizon_h:g} h)"
    return None


@dataclasses.dataclass
class FitProblem:
    """Everything the log-density needs, built from a configuration or by hand.

    names: estimated parameters; prior: their priors; base: Params holding the fixed values;
    inputs: the simulated design; settings: solver settings (throw=False);
    rows: one row per datum used (dataset, observable, window, value, scale, kind, ...);
    excluded: rows not used, with reasons.
    """

    names: tuple[str, ...]
    prior: PriorSet
    base: Params
    inputs: Inputs
    settings: SolverSettings
    rows: pd.DataFrame
    excluded: pd.DataFrame
    noise_sigma: np.ndarray
    species: str = "human"
    label: str = "fit"

    def __post_init__(self):
        n_days = int(round(self.inputs.horizon_h / 24.0))
        self.row_map = build_row_map(self.rows, n_days)
        r = self.rows
        self.arrays = ObservationArrays(
            obs_code=jnp.asarray(r["obs_code"].to_numpy(dtype=np.int32)),
            t_start_h=jnp.asarray(r["t_start_h"].to_numpy(dtype=float)),
            t_end_h=jnp.asarray(r["t_end_h"].to_numpy(dtype=float)),
            gland=jnp.asarray(r["gland"].to_numpy(dtype=np.int32)),
            value=jnp.asarray(r["value"].to_numpy(dtype=float)),
            kind=jnp.asarray(r["kind"].to_numpy(dtype=np.int32)),
            scale=jnp.asarray(r["scale"].to_numpy(dtype=float)),
            sd=jnp.asarray(r["sd"].to_numpy(dtype=float)),
            n=jnp.asarray(r["n"].to_numpy(dtype=float)),
            subject=jnp.zeros(len(r), dtype=jnp.int32),
            row=jnp.arange(len(r)),
        )

    @property
    def gradient(self) -> str:
        """'forward' or 'reverse': the configuration's name for `settings.adjoint`."""
        return "forward" if self.settings.adjoint == "forward" else "reverse"

    @property
    def k(self) -> int:
        return len(self.names)

    def with_values(self, values) -> "FitProblem":
        """The same problem with other observed values (e.g. simulated data)."""
        rows = self.rows.copy()
        rows["value"] = np.asarray(values, dtype=float)
        return dataclasses.replace(self, rows=rows)

    def params_of(self, theta) -> Params:
        return self.base.with_vector(self.names, theta)


# --------------------------------------------------------------------------------------
# building from a configuration
# --------------------------------------------------------------------------------------

def design_inputs(design: dict, horizon_days: float) -> Inputs:
    feeds = regular_feeds(
        horizon_days,
        design["feeds_per_day"],
        n_glands=design["n_glands"],
        duration_min=design["feed_duration_min"],
        both_sides=design["both_sides"],
        night_feeds=design["night_feeds"],
    )
    return make_inputs(feeds, horizon_days)


def load_rows(datasets: Sequence[str], include_flags: Sequence[str] = ()) -> pd.DataFrame:
    frames = []
    for name in datasets:
        ds = load_dataset(name)
        ft = fit_table(ds, tuple(include_flags)).reset_index(names="source_index")
        ft.insert(0, "dataset", name)
        frames.append(ft)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def split_rows(table: pd.DataFrame, horizon_h: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    reasons = [_exclusion_reason(r, horizon_h) for r in table.itertuples(index=False)]
    mask = np.array([x is None for x in reasons], dtype=bool)
    excluded = table.loc[~mask].copy()
    excluded["reason"] = [x for x in reasons if x is not None]
    return table.loc[mask].reset_index(drop=True), excluded.reset_index(drop=True)


def problem_from_config(cfg: FitConfig) -> FitProblem:
    f, p = cfg.fit, cfg.parameters
    horizon_days = float(f.horizon_days)
    table = load_rows(f.datasets, f.include_flags)
    rows, excluded = split_rows(table, horizon_days * 24.0)
    if len(rows) == 0:
        raise ValueError(f"{cfg.source}: no data row falls inside the fit "
                         f"horizon of {horizon_days:g} days")
    base = Params.nominal(f.species, **p.fixed)
    nominal = {n: float(base[n]) for n in p.estimate}
    prior = PriorSet.from_table(p.estimate, p.prior_overrides(), nominal, species=f.species)
    return FitProblem(
        names=tuple(p.estimate),
        prior=prior,
        base=base,
        inputs=design_inputs(cfg.design.to_dict(), horizon_days),
        settings=cfg.solver.settings(),
        rows=rows,
        excluded=excluded,
        noise_sigma=default_noise_sigma(),
        species=f.species,
        label=f.name,
    )


def synthetic_rows(spec: Sequence[tuple[str, float, float]], rel_se: float = 0.05,
                   min_se: dict[str, float] | None = None) -> pd.DataFrame:
    """A row table for model-generated data: (observable, t_start_h, t_end_h) per row,
    Gaussian group-mean rows with SE = rel_se x (a placeholder value of 1; call
    `with_synthetic_values` to fill values and scales). Labelled dataset 'synthetic'."""
    rows = []
    for observable, t0, t1 in spec:
        rows.append(dict(dataset="synthetic", source_index=len(rows), observable=observable,
                         obs_code=CODES[observable], statistic="mean", kind=lk.GROUP_MEAN,
                         kind_name="group_mean", value=np.nan, scale=1.0, sd=1.0, n=1.0,
                         spread_method=f"synthetic: SE = {rel_se:g} x value",
                         t_start_h=float(t0), t_end_h=float(t1), gland=-1,
                         subject_label="synthetic"))
    return pd.DataFrame(rows)


__all__ = [
    "DAILY_SERIES",
    "EVENTS",
    "FitProblem",
    "OBSERVABLE_MAP",
    "build_row_map",
    "design_inputs",
    "load_rows",
    "problem_from_config",
    "row_days",
    "split_rows",
    "synthetic_rows",
]
