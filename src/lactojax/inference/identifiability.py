"""What informs each parameter of a group fit, read from the fit's own draws
(identifiability.csv, the README's identifiability table via scripts/fit_report.py).

From the posterior draws of the parameters (draws, k; on the fit's unconstrained z scale,
where the priors are set) and of the rows' model means y_mean (draws, rows),
the least-squares slopes J = d y_mean / d theta (rows, k) are the model's local
sensitivities over the posterior. A row r then carries the information
(J_rj * prior_sd_j / sigma_r)^2 about parameter j, relative to the prior's, where sigma_r is
the spread of a new observation around the mean (posterior_predictive y - y_mean: the
row's SE, its between-study SD and, for individual rows, the noise model). Summed over a
dataset's rows this says which data inform j, and how much against its prior; summary.csv's
sd_ratio (posterior sd / prior sd) says how much they narrowed it. Parameters whose
rows carry little information are prior-dominated, whatever their sd_ratio.

A linear, local reading: it ranks the data sources, it does not replace the posterior.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_SHARE = 0.1  # datasets listed as informing a parameter: at least this share of its information
MIN_INFORMATION = 0.05  # below this (relative to the prior's), no dataset is listed: prior-dominated


def identifiability_table(idata, summary: pd.DataFrame, names, to_z) -> pd.DataFrame:
    """One row per estimated parameter (`names`; `to_z` maps draws of them in model units
    (n, k) to the unconstrained z scale): sd_ratio (from `summary`), data_information (the
    rows' summed information relative to the prior's, module doc), and informed_by: the
    datasets with at least 10 % of it, with their shares."""
    post = idata.posterior
    stack = lambda group: np.stack([np.asarray(group[n]).reshape(-1) for n in names], axis=-1)  # noqa: E731
    theta = np.asarray(to_z(stack(post)))
    y_mean = np.asarray(idata.posterior_predictive["y_mean"]).reshape(theta.shape[0], -1)
    y_new = np.asarray(idata.posterior_predictive["y"]).reshape(theta.shape[0], -1)
    ok = np.all(np.isfinite(y_mean), axis=1) & np.all(np.isfinite(theta), axis=1)
    theta, y_mean, y_new = theta[ok], y_mean[ok], y_new[ok]
    datasets = np.asarray(idata.constant_data["dataset"]).astype(str)
    prior_sd = (np.std(np.asarray(to_z(stack(idata.prior))), axis=0) if "prior" in idata.groups()
                else np.full(len(names), np.nan))
    rows = [{"parameter": n, "prior_sd_fit_scale": float(s)} for n, s in zip(names, prior_sd)]
    if theta.shape[0] > theta.shape[1] + 1:
        tc = theta - theta.mean(0)
        slopes, *_ = np.linalg.lstsq(tc, y_mean - y_mean.mean(0), rcond=None)  # (k, rows)
        sigma = np.std(y_new - y_mean, axis=0)
        sigma = np.where(sigma > 0, sigma, np.nan)
    else:
        slopes = sigma = None
    sd_ratio = summary.set_index("parameter")["sd_ratio"] if "sd_ratio" in summary else pd.Series(dtype=float)
    for j, row in enumerate(rows):
        row["sd_ratio"] = float(sd_ratio.get(row["parameter"], np.nan))
        if slopes is None or not np.isfinite(row["prior_sd_fit_scale"]):
            row.update(data_information=np.nan, informed_by="")
            continue
        info = np.nan_to_num((slopes[j] * row["prior_sd_fit_scale"] / sigma) ** 2)
        by = pd.Series(info).groupby(datasets).sum().sort_values(ascending=False)
        total = float(by.sum())
        row["data_information"] = total
        listed = by[by >= MIN_SHARE * total] if total >= MIN_INFORMATION else by[:0]
        row["informed_by"] = ", ".join(f"{d} ({100 * v / total:.0f} %)" for d, v in listed.items())
    return pd.DataFrame(rows, columns=["parameter", "sd_ratio", "data_information", "informed_by",
                                       "prior_sd_fit_scale"])


__all__ = ["identifiability_table"]
