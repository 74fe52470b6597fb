"""Predict data a fit has not seen: rows of other datasets under a finished fit's posterior.

`predict_rows(posterior, datasets)` rebuilds the fit's problem from the configuration stored
in its posterior.nc (species, design, horizon, solver, fixed values, priors) with `[fit]
datasets` replaced, evaluates every posterior draw on those rows and draws a new
observation of each row from its own likelihood, as the fit does for its own rows
(`outputs.rows_with_predictions`: pred_p05 / pred_p95 are the 90 % interval of a new
observation, inside_90 whether the datum lies inside). The held-out check of docs/fitting.md:
fit with two datasets left out, predict them, count the rows inside their intervals
(`lactojax predict`). Group fits only; a herd's lactations have their own parameters.
"""

from __future__ import annotations

import tomllib

import jax.numpy as jnp
import numpy as np

from lactojax.inference import density
from lactojax.inference.config import ConfigError, FitConfig
from lactojax.inference.outputs import FitAttrs, rows_with_predictions
from lactojax.inference.predictive import load_posterior


def heldout_config(attrs: FitAttrs, datasets, source: str) -> FitConfig:
    """The fit's resolved configuration with `datasets` fitted instead of its own."""
    if not attrs.config:
        raise ValueError(f"{source}: the fit stores no configuration (written by an older lactojax)")
    raw = tomllib.loads(attrs.config)
    raw["fit"] = {**raw.get("fit", {}), "datasets": list(datasets)}
    try:
        return FitConfig.from_dict(raw, f"{source} (with datasets {', '.join(datasets)})")
    except ConfigError as err:
        raise ValueError(str(err)) from None


def predict_rows(posterior_nc_path: str, datasets, seed: int = 0, progress: bool = False):
    """(FitData of `datasets` under the fit's configuration, rows table with predictive
    intervals and inside_90); module doc."""
    from lactojax.inference.adapter import problem_from_config

    names, theta, _, idata = load_posterior(posterior_nc_path)  # theta (draws, k) in model units
    attrs = FitAttrs.from_idata(idata, posterior_nc_path)
    if attrs.model != "group":
        raise ValueError(f"{posterior_nc_path}: a {attrs.model} fit; held-out rows are predicted for group fits "
                         "(a herd's lactations have parameters of their own)")
    data = problem_from_config(heldout_config(attrs, datasets, posterior_nc_path))
    problem = data.problem
    if tuple(problem.names) != tuple(names):
        raise ValueError(f"{posterior_nc_path}: the fit estimated {names}, its configuration now "
                         f"gives {list(problem.names)}")
    x = np.concatenate([np.asarray(problem.prior.theta_to_z(jnp.asarray(theta))),
                        heldout_log_kappa(problem.discrepancy, idata, theta.shape[0], seed)], axis=-1)
    _, pred, ok, _, extra = density.evaluate_draws(problem, x, progress="held-out rows" if progress else None)
    pred = np.where(np.asarray(ok)[:, None], pred, np.nan)  # a failed solve predicts nothing
    y_new = density.observation_noise(problem, pred, np.random.default_rng(seed), extra)
    return data, rows_with_predictions(data, pred, y_new)


def heldout_log_kappa(disc, idata, n: int, seed: int = 0) -> np.ndarray:
    """(n, kappas) log kappa of the held-out rows' discrepancies, draw by draw: the fit's
    posterior kappa of the same observable (or the pooled one), and for an observable the fit
    has not seen a draw from the kappa prior (a new kind of datum: its discrepancy is unknown)."""
    from lactojax.inference.heterogeneity import sample_log_kappa, variable_names

    fitted = {k: np.asarray(v).reshape(-1) for k, v in idata.posterior.data_vars.items() if k.startswith("kappa_")}
    prior = sample_log_kappa(disc, np.random.default_rng(seed + 3), n)
    columns = [np.log(fitted[name][:n]) if name in fitted and fitted[name].size >= n else prior[:, j]
               for j, name in enumerate(variable_names(disc))]
    return np.stack(columns, axis=-1) if columns else np.zeros((n, 0))


__all__ = ["heldout_config", "heldout_log_kappa", "predict_rows"]
