"""Compare finished fits of the same data rows by PSIS-LOO (`lactojax compare`).

Each fit's posterior.nc holds the per-row log-likelihood of every posterior draw (group
log_likelihood y); `az.loo` turns it into the expected log predictive density of each row
left out (elpd_loo, Pareto-smoothed importance sampling: Vehtari, Gelman & Gabry 2017,
Stat Comput 27:1413) and `az.compare` ranks the fits by it, with the standard error of each
difference. The fits must have used the same rows (same datasets, observables, windows
and values), or the comparison would be of different data. Used to choose the
between-study heterogeneity model (docs/fitting.md).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

PARETO_K_OK = 0.7  # above: the importance-sampling estimate of that row is unreliable

ROW_KEYS = ("dataset", "observable", "t_start_h", "t_end_h")


def _rows(idata, source: str) -> pd.DataFrame:
    if "log_likelihood" not in idata.groups():
        raise ValueError(f"{source}: no log_likelihood group (not a lactojax fit, or written by an old version)")
    c = idata.constant_data
    rows = pd.DataFrame({k: np.asarray(c[k]) for k in ROW_KEYS})
    rows["value"] = np.asarray(idata.observed_data["y"])
    return rows


def fit_label(path: str) -> str:
    """A fit's name in the table: its output directory's name."""
    return os.path.basename(os.path.dirname(os.path.abspath(path))) or path


def compare_fits(paths: Sequence[str], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per fit, best first: elpd_loo (and its se), p_loo (effective parameters),
    elpd_diff from the best (and dse, its standard error), the stacking weight, the rows
    whose Pareto k exceeds 0.7 (unreliable LOO), and the share of rows inside their 90 %
    predictive interval (posterior_predictive y). Raises ValueError when the fits' rows
    differ, naming the first difference."""
    import arviz as az

    from lactojax.inference.predictive import open_posterior

    if len(paths) < 2:
        raise ValueError(f"expected at least two fits to compare, got {len(paths)}")
    labels = list(labels) if labels is not None else [fit_label(p) for p in paths]
    if len(set(labels)) != len(labels):
        labels = [f"{label} ({i + 1})" for i, label in enumerate(labels)]
    loos, reference, extra = {}, None, {}
    for path, label in zip(paths, labels):
        idata = open_posterior(path)
        rows = _rows(idata, path)
        if reference is None:
            reference = (path, rows)
        else:
            _same_rows(reference, (path, rows))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # high Pareto k: counted below
            loo = loos[label] = az.loo(idata, pointwise=True)
        y = np.asarray(idata.posterior_predictive["y"]).reshape(-1, len(rows))
        lo, hi = np.nanpercentile(y, [5, 95], axis=0)
        inside = (rows["value"].to_numpy() >= lo) & (rows["value"].to_numpy() <= hi)
        extra[label] = {"rows": len(rows), "pareto_k_above_0.7": int(np.sum(np.asarray(loo.pareto_k) > PARETO_K_OK)),
                        "inside_90": int(inside.sum())}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = az.compare(loos, ic="loo")  # from the LOO results above: not computed again
    table = table.rename(columns={"se": "elpd_se"})
    table.index.name = "fit"
    out = table[["rank", "elpd_loo", "elpd_se", "p_loo", "elpd_diff", "dse", "weight"]].copy()
    for key in ("rows", "inside_90", "pareto_k_above_0.7"):
        out[key] = [extra[f][key] for f in out.index]
    return out.reset_index()


def _same_rows(a, b) -> None:
    (pa, ra), (pb, rb) = a, b
    if len(ra) != len(rb):
        raise ValueError(f"{pb}: {len(rb)} data rows, {pa}: {len(ra)}; LOO compares fits of the same rows")
    for i in range(len(ra)):
        x, y = ra.iloc[i], rb.iloc[i]
        same = all(x[k] == y[k] for k in ("dataset", "observable")) and np.allclose(
            [x["t_start_h"], x["t_end_h"], x["value"]], [y["t_start_h"], y["t_end_h"], y["value"]], rtol=1e-9)
        if not same:
            raise ValueError(f"{pb}: row {i} is {y['dataset']} {y['observable']} ({y['t_start_h']:g}-{y['t_end_h']:g} h, "
                             f"{y['value']:g}), in {pa} {x['dataset']} {x['observable']} ({x['t_start_h']:g}-"
                             f"{x['t_end_h']:g} h, {x['value']:g}); LOO compares fits of the same rows")


__all__ = ["compare_fits", "fit_label"]
