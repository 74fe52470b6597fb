"""Parameter recovery and simulation-based calibration (SBC) on model-generated data.

Both simulate data from the model itself (labelled "synthetic" rows of a `FitProblem`):
each datum is the model's prediction at known parameters plus Gaussian noise with the
row's standard error, which is exactly the likelihood the fit assumes.

- `recovery_study`: fixed true parameters, several noisy datasets, posterior by NUTS or by
  the Laplace approximation; reports whether each central 90% interval covers the truth.
- `sbc_ranks`: true parameters drawn from the prior, one dataset each, rank of the truth
  among L posterior draws (Talts et al. 2018, arXiv:1804.06788); ranks are uniform on
  0..L when the posterior is calibrated.
These are slow checks (`pytest -m slow`, tests/test_inference_slow.py).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from lactojax.inference.density import LogDensity
from lactojax.inference.map import find_map
from lactojax.inference.nuts import run_nuts
from lactojax.inference.problem import FitProblem


def simulate_values(ld: LogDensity, theta, rng: np.random.Generator, noise: bool = True):
    """Model predictions at theta for every row, plus N(0, scale) noise."""
    z = ld.problem.prior.theta_to_z(jnp.asarray(theta, dtype=float))
    _, pred, ok, _ = ld.evaluate_draws(np.asarray(z)[None])
    if not bool(ok[0]):
        raise ValueError("solver failed at the true parameters")
    pred = pred[0]
    scale = ld.problem.rows["scale"].to_numpy(dtype=float)
    return pred + (rng.standard_normal(pred.shape) * scale if noise else 0.0)


def with_values(problem: FitProblem, values) -> FitProblem:
    rows = problem.rows.copy()
    rows["value"] = np.asarray(values, dtype=float)
    return dataclasses.replace(problem, rows=rows)


def posterior_draws(ld: LogDensity, method: str, seed: int, n_draws: int = 200, chains: int = 2,
                    warmup: int = 100, map_steps: int = 60) -> np.ndarray:
    """(n, k) posterior draws of theta by 'laplace' or 'nuts' (initialised at the MAP)."""
    res = find_map(ld, starts=4, steps=map_steps, learning_rate=0.1, seed=seed, verbose=False)
    key = jax.random.PRNGKey(seed)
    if method == "laplace":
        return ld.theta(res.laplace_draws(key, n_draws))
    init = res.laplace_draws(key, chains)
    out = run_nuts(ld, init, chains=chains, warmup=warmup, draws=max(n_draws // chains, 1),
                   seed=seed, inverse_mass_matrix=res.cov, adapt_mass_matrix=True,
                   max_tree_depth=5, progress_bar=False)
    return out.theta.reshape(-1, ld.problem.k)


def recovery_study(problem: FitProblem, truth, n_reps: int = 5, method: str = "nuts", seed: int = 0,
                   level: float = 0.9, **kw) -> pd.DataFrame:
    """One row per (replicate, parameter): truth, posterior median, interval, covered."""
    rng = np.random.default_rng(seed)
    ld_truth = LogDensity(problem)
    rows = []
    for rep in range(n_reps):
        values = simulate_values(ld_truth, truth, rng)
        ld = LogDensity(with_values(problem, values))
        draws = posterior_draws(ld, method, seed + rep, **kw)
        lo, med, hi = np.percentile(draws, [50 * (1 - level), 50, 50 * (1 + level)], axis=0)
        for j, name in enumerate(problem.names):
            rows.append(dict(replicate=rep, parameter=name, truth=float(truth[j]), median=med[j],
                             lower=lo[j], upper=hi[j], covered=bool(lo[j] <= truth[j] <= hi[j])))
    return pd.DataFrame(rows)


def sbc_ranks(problem: FitProblem, n_sims: int = 20, n_draws: int = 99, method: str = "laplace",
              seed: int = 0, **kw) -> np.ndarray:
    """(n_sims, k) ranks of prior-drawn truths among n_draws posterior draws."""
    rng = np.random.default_rng(seed)
    ld0 = LogDensity(problem)
    key = jax.random.PRNGKey(seed)
    truths = np.asarray(problem.prior.sample_theta(key, (n_sims,)))
    ranks = []
    for i, truth in enumerate(truths):
        try:
            values = simulate_values(ld0, truth, rng)
        except ValueError:
            continue
        ld = LogDensity(with_values(problem, values))
        draws = posterior_draws(ld, method, seed + i, n_draws=n_draws, **kw)[:n_draws]
        ranks.append(np.sum(draws < truth[None, :], axis=0))
    return np.asarray(ranks)


__all__ = ["posterior_draws", "recovery_study", "sbc_ranks", "simulate_values", "with_values"]
