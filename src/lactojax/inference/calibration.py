"""Parameter recovery and simulation-based calibration (SBC) on model-generated data.

Both simulate data from the model itself (`density.simulate_values`: each datum is the
model's prediction at known parameters plus noise from the row's own likelihood), fill
them into the same problem (`FitData.with_values`: same shapes, so every replicate reuses
the compiled log-density and gradient) and fit:

- `recovery_study`: fixed true parameters, several noisy datasets, posterior by NUTS or by
  the Laplace approximation; reports whether each central 90% interval covers the truth.
- `sbc_ranks`: true parameters drawn from the prior (with the between-study SDs of a
  heterogeneity model), one dataset each, rank of the truth among L posterior draws (Talts
  et al. 2018, arXiv:1804.06788); ranks are uniform on 0..L when the posterior is
  calibrated (`sbc_uniformity`: chi-square per parameter; scripts/sbc.py runs a whole SBC).
These are slow checks (`pytest -m slow`, tests/test_inference_slow.py). Group problems.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from lactojax.inference import density
from lactojax.inference.nuts import run_nuts
from lactojax.inference.problem import FitProblem
from lactojax.inference.runner import map_fit


def posterior_x(problem: FitProblem, method: str, seed: int, n_draws: int = 200, chains: int = 2,
                warmup: int = 100, map_steps: int = 60, map_starts: int = 4, **map_kw) -> np.ndarray:
    """(n, dim) posterior draws of the unconstrained x by 'laplace' or 'nuts' (initialised
    at the MAP); map_kw: further `map_fit` settings (screen, lbfgs_steps, learning_rate)."""
    res = map_fit(problem, starts=map_starts, steps=map_steps, seed=seed, **{"learning_rate": 0.1, **map_kw})
    key = jax.random.PRNGKey(seed)
    if method == "laplace":
        return res.laplace_draws(key, n_draws)
    return run_nuts(lambda x: -density.log_density(problem, x), res.laplace_draws(key, chains), chains=chains,
                    warmup=warmup, draws=max(n_draws // chains, 1), seed=seed, inverse_mass_matrix=res.cov,
                    adapt_mass_matrix=True, max_tree_depth=5, progress_bar=False).z.reshape(-1, problem.dim)


def posterior_draws(problem: FitProblem, method: str, seed: int, n_draws: int = 200, **kw) -> np.ndarray:
    """(n, k) posterior draws of theta (model units) by 'laplace' or 'nuts' (`posterior_x`)."""
    v = density.posterior_variables(problem, posterior_x(problem, method, seed, n_draws, **kw))
    return np.stack([v[n] for n in problem.names], axis=-1)


def recovery_study(problem: FitProblem, truth, n_reps: int = 5, method: str = "nuts", seed: int = 0,
                   level: float = 0.9, **kw) -> pd.DataFrame:
    """One row per (replicate, parameter): truth, posterior median, interval, covered."""
    rng = np.random.default_rng(seed)
    x_truth = density.x_of_theta(problem, truth)
    rows = []
    for rep in range(n_reps):
        values = density.simulate_values(problem, x_truth, rng)
        draws = posterior_draws(problem.with_values(values), method, seed + rep, **kw)
        lo, med, hi = np.percentile(draws, [50 * (1 - level), 50, 50 * (1 + level)], axis=0)
        for j, name in enumerate(problem.names):
            rows.append(dict(replicate=rep, parameter=name, truth=float(truth[j]), median=med[j],
                             lower=lo[j], upper=hi[j], covered=bool(lo[j] <= truth[j] <= hi[j])))
    return pd.DataFrame(rows)


def sbc_ranks(problem: FitProblem, n_sims: int = 20, n_draws: int = 99, method: str = "laplace",
              seed: int = 0, progress=None, **kw) -> np.ndarray:
    """(n_sims, dim) ranks of prior-drawn truths among n_draws posterior draws, one column
    per entry of x (the parameters' z, and each discrepancy's log kappa: ranks do not
    change under the monotone maps to model units). A truth whose simulation fails is
    drawn again. progress(i, ranks_so_far): called after each replicate."""
    rng = np.random.default_rng(seed)
    truths = density.sample_prior(problem, jax.random.PRNGKey(seed), 4 * n_sims)
    ranks = []
    for i, truth in enumerate(truths):
        if len(ranks) == n_sims:
            break
        try:
            values = density.simulate_values(problem, truth, rng)
        except ValueError:
            continue
        draws = posterior_x(problem.with_values(values), method, seed + i, n_draws=n_draws, **kw)[:n_draws]
        ranks.append(np.sum(draws < truth[None, :], axis=0))
        if progress is not None:
            progress(len(ranks), np.asarray(ranks))
    return np.asarray(ranks)


def sbc_uniformity(ranks: np.ndarray, n_draws: int, bins: int = 10) -> dict:
    """Chi-square test of uniform ranks (0..n_draws) per column, in `bins` equal bins
    (Talts et al. 2018): statistic, degrees of freedom and p-value."""
    from scipy import stats

    ranks = np.asarray(ranks)
    edges = np.linspace(0, n_draws + 1, bins + 1)
    out = []
    for j in range(ranks.shape[1]):
        counts, _ = np.histogram(ranks[:, j], bins=edges)
        chi2, p = stats.chisquare(counts)
        out.append({"chi2": float(chi2), "df": bins - 1, "p_value": float(p), "counts": counts.tolist()})
    return out


__all__ = ["posterior_draws", "posterior_x", "recovery_study", "sbc_ranks", "sbc_uniformity"]
