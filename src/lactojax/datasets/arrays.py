"""From a loaded dataset to arrays for the JAX likelihoods (`lactojax.likelihoods`).

`fit_table(dataset)` lists, for every row fitting uses, the likelihood kind, the value
and scales in model units, the prediction window and how the spread was obtained
(`spread_method`), so a reviewer can see each choice. `to_arrays` packs the same numbers
into an `ObservationArrays` (a NamedTuple of arrays, a valid JAX pytree).

Prediction window (t_start_h, t_end_h):
- time-indexed rows: the row's window; a daily rate (unit mL/24h) given at a single time
  t is taken as the 24 h ending at t, i.e. [t - 24, t] (clipped at 0);
- event times: [0, horizon_h] of the dataset's StudyDesign (the model reports the time
  at which the event happens within the simulation).

Spreads (between-subject SD, and the scale used by the default likelihood):
- SD: SE = SD / sqrt(n); n unknown: SE = SD (conservative).
- SEM: SE = SEM; SD = SEM * sqrt(n) (n unknown: SD = default CV x value).
- CV (%): SD = CV/100 x value, then as SD.
- mean with a range: SD from the range with Wan et al. 2014 (needs n >= 2; n unknown:
  SD = range/4, Hozo et al. 2005 for moderate n).
- median with range / IQR: mean and SD by Wan et al. 2014 (S1 / S3).
- interval (bounds only): uniform on the interval, mean = midpoint, SD = width/sqrt(12).
- no spread printed: SD = default CV of the observable x value (vocabulary.default_cv).
Individual observations use the noise model instead (scale = 1 placeholder, sd = 0).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np
import pandas as pd

from lactojax import likelihoods as lk
from lactojax.datasets import exclusions
from lactojax.datasets.design import DESIGNS
from lactojax.datasets.schema import GLANDS
from lactojax.datasets.vocabulary import (
    CODES,
    EVENT_TIME,
    LOG_STUDENT_T,
    LOGNORMAL,
    STUDENT_T,
    observable_property,
)

_INDIVIDUAL_KIND = {
    LOGNORMAL: lk.IND_LOGNORMAL,
    STUDENT_T: lk.IND_STUDENT_T,
    LOG_STUDENT_T: lk.IND_LOG_STUDENT_T,
}


class ObservationArrays(NamedTuple):
    """Rows of a dataset ready for `lactojax.likelihoods.dataset_loglik`.

    obs_code: int32, observable code (index in vocabulary.OBSERVABLES).
    t_start_h, t_end_h: float64, prediction window in hours since delivery/calving.
    gland: int32, -1 for all glands / unknown, else the gland index (schema.GLANDS).
    value: float64, the datum in model units (an approximated mean for median/range rows;
        the event time in h for event rows).
    kind: int32, likelihood kind (likelihoods.GROUP_MEAN, ... IND_LOG_STUDENT_T).
    scale: float64, standard error used by the default likelihood (1.0 for individual
        observations, whose noise comes from the NoiseModel).
    sd: float64, between-subject SD (used with population=True; 0 for individual rows).
    n: float64, subjects summarised (0 if not reported; 1 for individual rows).
    subject: int32, index into `subject_names(dataset)` (a subject id, or the group label
        for summary rows).
    row: int64, index of the row in `dataset.table`.
    """

    obs_code: np.ndarray
    t_start_h: np.ndarray
    t_end_h: np.ndarray
    gland: np.ndarray
    value: np.ndarray
    kind: np.ndarray
    scale: np.ndarray
    sd: np.ndarray
    n: np.ndarray
    subject: np.ndarray
    row: np.ndarray


def _subject_labels(table: pd.DataFrame) -> np.ndarray:
    subj = table["subject"].to_numpy(dtype=object).copy()
    grp = table["group"].to_numpy(dtype=object)
    missing = np.flatnonzero(subj == "")
    subj[missing] = [f"group:{g}" for g in grp[missing]]
    return subj


def subject_names(dataset) -> list[str]:
    """Names indexed by ObservationArrays.subject: subject ids, and "group:<label>" for
    group-summary rows, sorted."""
    return sorted(pd.unique(_subject_labels(dataset.table)).tolist())


def individual_kind(observables) -> np.ndarray:
    """Likelihood kind of individual records of each observable (its vocabulary family:
    log-normal, Student-t or log-Student-t); -1 for observables with no individual family."""
    family = observable_property(observables, "individual_likelihood")
    return np.array([_INDIVIDUAL_KIND.get(f, -1) for f in family], dtype=np.int32)


def fit_table(dataset, include_flags: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per datum fitting uses, with its likelihood kind, value, SE, SD and the
    method that produced the spread. Index: row index in `dataset.table`."""
    table = dataset.table
    mask, _ = exclusions.fit_mask(table, include_flags)
    t = table.loc[mask]
    m = len(t)
    obs = t["observable"].to_numpy(dtype=object)
    stat = t["statistic"].to_numpy(dtype=object)
    stype = t["spread_type"].to_numpy(dtype=object)
    v = t["value_model"].to_numpy(dtype=np.float64)
    s = t["spread_model"].to_numpy(dtype=np.float64)
    lo = t["lower_model"].to_numpy(dtype=np.float64)
    hi = t["upper_model"].to_numpy(dtype=np.float64)
    n_raw = t["n"].to_numpy(dtype=np.float64, na_value=np.nan)
    n_known = np.isfinite(n_raw)
    n = np.where(n_known, n_raw, 0.0)
    n_eff = np.maximum(n, 1.0)
    def prop(attr):
        return observable_property(obs, attr)

    default_cv = prop("default_cv").astype(np.float64)
    is_event = prop("kind") == EVENT_TIME
    family = prop("individual_likelihood")

    mean = v.copy()
    sd = np.full(m, np.nan)
    se = np.full(m, np.nan)
    method = np.full(m, "", dtype=object)
    kind = np.full(m, -1, dtype=np.int64)

    individual = stat == "value"
    for fam, code in _INDIVIDUAL_KIND.items():
        kind[individual & (family == fam)] = code
    sd[individual] = 0.0
    se[individual] = 1.0
    method[individual] = "noise model"

    group = ~individual
    kind[group] = np.where(is_event[group], lk.EVENT_TIME, lk.GROUP_MEAN)

    def set_(sel, sd_val, se_val, how, approx=False, mean_val=None):
        sel = sel & group
        if not sel.any():
            return
        sd[sel] = np.broadcast_to(sd_val, (m,))[sel]
        se[sel] = np.broadcast_to(se_val, (m,))[sel]
        method[sel] = how
        if mean_val is not None:
            mean[sel] = np.broadcast_to(mean_val, (m,))[sel]
        if approx:
            kind[sel & ~is_event] = lk.GROUP_APPROX

    is_mean = stat == "mean"
    is_median = stat == "median"
    # SD printed
    sel = np.isin(stype, ("SD",))
    set_(sel & n_known, s, s / np.sqrt(n_eff), "SD/sqrt(n)")
    set_(sel & ~n_known, s, s, "SD; n not reported: SE = SD")
    # SEM printed
    sel = stype == "SEM"
    set_(sel & n_known, s * np.sqrt(n_eff), s, "SEM")
    set_(sel & ~n_known, default_cv * np.abs(v), s, "SEM; n not reported: SD = default CV")
    # CV printed (in %)
    sd_cv = s / 100.0 * np.abs(v)
    sel = stype == "CV"
    set_(sel, sd_cv, sd_cv / np.sqrt(n_eff), "CV x mean, SE = SD/sqrt(n)")
    # range with a mean
    rng = stype == "range"
    n_ok = n_known & (n >= 2)
    # Wan et al. 2014 ratios from the JAX likelihood module (one implementation), in float64
    with np.errstate(invalid="ignore", divide="ignore"), jax.enable_x64(True):
        sd_wan = np.asarray(lk.sd_from_range(lo, hi, np.where(n_ok, n, 2.0)))
    sd_hozo = (hi - lo) / 4.0
    set_(is_mean & rng & n_ok, sd_wan, sd_wan / np.sqrt(n_eff),
         "SD from range (Wan 2014)", approx=True)
    set_(is_mean & rng & ~n_ok, sd_hozo, sd_hozo, "SD = range/4 (Hozo 2005); n unknown",
         approx=True)
    # median with a range
    mean_mr = (lo + 2.0 * v + hi) / 4.0
    set_(is_median & rng & n_ok, sd_wan, sd_wan / np.sqrt(n_eff),
         "mean, SD from median and range (Hozo 2005, Wan 2014)", approx=True,
         mean_val=mean_mr)
    set_(is_median & rng & ~n_ok, sd_hozo, sd_hozo,
         "mean from median and range (Hozo 2005), SD = range/4; n unknown", approx=True,
         mean_val=mean_mr)
    # IQR (with mean or median)
    iqr = stype == "IQR"
    with np.errstate(invalid="ignore", divide="ignore"), jax.enable_x64(True):
        sd_iqr = (hi - lo) / np.asarray(lk.iqr_over_sd(np.where(n_ok, n, 2.0)))
    sd_iqr = np.where(n_ok, sd_iqr, (hi - lo) / 1.349)
    mean_iqr = np.where(is_median, (lo + v + hi) / 3.0, v)
    set_(iqr, sd_iqr, sd_iqr / np.sqrt(n_eff),
         "mean, SD from IQR (Wan 2014, S3; n unknown: IQR/1.349)", approx=True,
         mean_val=mean_iqr)
    # interval known only by its bounds
    inter = stat == "interval"
    mid, sd_u = (lo + hi) / 2.0, (hi - lo) / np.sqrt(12.0)
    set_(inter, sd_u, sd_u / np.sqrt(n_eff), "uniform on interval: midpoint, width/sqrt(12)",
         approx=True, mean_val=mid)
    # no spread printed
    none = stype == ""
    sd_def = default_cv * np.abs(v)
    set_(none & is_mean, sd_def, sd_def / np.sqrt(n_eff), "default CV x mean, SE = SD/sqrt(n)")
    set_(none & is_median, sd_def, sd_def / np.sqrt(n_eff),
         "median as mean; default CV x median, SE = SD/sqrt(n)", approx=True)

    if np.any(~np.isfinite(se[group])) or np.any(se[group] <= 0):
        bad = np.flatnonzero(group & (~np.isfinite(se) | (se <= 0)))[0]
        raise ValueError(f"{dataset.name}: row {t.index[bad] + 1}: no usable scale "
                         f"(statistic {stat[bad]!r}, spread_type {stype[bad]!r})")

    # prediction window
    t0 = t["t_start_h"].to_numpy(dtype=np.float64)
    t1 = t["t_end_h"].to_numpy(dtype=np.float64)
    daily_rate = np.char.endswith(prop("model_unit").astype(str), "/24h")
    point = np.isfinite(t0) & (t0 == t1) & daily_rate
    t0 = np.where(point, np.maximum(t1 - 24.0, 0.0), t0)
    design = DESIGNS.get(dataset.name)
    horizon = design.horizon_h if design is not None else np.nanmax(
        np.concatenate([t1[np.isfinite(t1)], mean[is_event], [0.0]]))
    t0 = np.where(is_event, 0.0, t0)
    t1 = np.where(is_event, horizon, t1)
    t0 = np.where(np.isfinite(t0), t0, 0.0)
    t1 = np.where(np.isfinite(t1), t1, t0)

    gland = t["gland"].map(GLANDS).to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "observable": obs,
            "obs_code": _index_of(obs, CODES),
            "statistic": stat,
            "kind": kind,
            "kind_name": pd.Series(kind).map(lk.KIND_NAMES).to_numpy(dtype=object),
            "value": mean,
            "scale": se,
            "sd": sd,
            "n": n if m else np.zeros(0),
            "spread_method": method,
            "t_start_h": t0,
            "t_end_h": t1,
            "gland": gland,
            "subject_label": _subject_labels(t),
        },
        index=t.index,
    )


def _index_of(labels: np.ndarray, index: dict[str, int]) -> np.ndarray:
    codes, uniques = pd.factorize(labels)
    lookup = np.array([index[u] for u in uniques], dtype=np.int32)
    return lookup[codes] if len(labels) else np.zeros(0, dtype=np.int32)


def to_arrays(dataset, include_flags: tuple[str, ...] = (), as_jax: bool = False
              ) -> ObservationArrays:
    """Arrays of every row fitting uses (see `fit_table`), aligned row by row.

    include_flags: flagged rows to use anyway (default: none; see exclusions).
    as_jax: return jax arrays instead of numpy arrays.
    Rows excluded by rule are listed with counts in `dataset.exclusions`.
    """
    ft = fit_table(dataset, include_flags)
    names = subject_names(dataset)
    index = {name: i for i, name in enumerate(names)}
    arrays = ObservationArrays(
        obs_code=ft["obs_code"].to_numpy(dtype=np.int32),
        t_start_h=ft["t_start_h"].to_numpy(dtype=np.float64),
        t_end_h=ft["t_end_h"].to_numpy(dtype=np.float64),
        gland=ft["gland"].to_numpy(dtype=np.int32),
        value=ft["value"].to_numpy(dtype=np.float64),
        kind=ft["kind"].to_numpy(dtype=np.int32),
        scale=ft["scale"].to_numpy(dtype=np.float64),
        sd=ft["sd"].to_numpy(dtype=np.float64),
        n=ft["n"].to_numpy(dtype=np.float64),
        subject=_index_of(ft["subject_label"].to_numpy(dtype=object), index),
        row=ft.index.to_numpy(dtype=np.int64),
    )
    if as_jax:
        import jax.numpy as jnp

        arrays = ObservationArrays(*(jnp.asarray(a) for a in arrays))
    return arrays
