"""Parameter recovery and simulation-based calibration (SBC) on model-generated data.

Both simulate data from the model itself (`density.simulate_values`: each datum is the
model's prediction at known parameters plus noise from the row's own likelihood), fill
them into the same problem (`FitData.with_values`: same shapes, so every replicate reuses
the compiled log-density and gradient) and fit:

- `recovery_study`: fixed true parameters, several noisy datasets, posterior by NUTS or by
  the Laplace approximation; reports whether each central 90% interval covers the truth.
- `sbc_ranks`: true parameters drawn from the prior, one dataset each, rank of the truth
  among L posterior draws (Talts et al. 2018, arXiv:1804.06788); ranks are uniform on
  0..L when the posterior is calibrated.
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


def posterior_draws(problem: FitProblem, method: str, seed: int, n_draws: int = 200, chains: int = 2,
                    warmup: int = 100, map_steps: int = 60) -> np.ndarray:
    """(n, k) posterior draws of theta by 'laplace' or 'nuts' (initialised at the MAP)."""
    res = map_fit(problem, starts=4, steps=map_steps, learning_rate=0.1, seed=seed)
    key = jax.random.PRNGKey(seed)
    if method == "laplace":
        x = res.laplace_draws(key, n_draws)
    else:
        x = run_nuts(lambda x: -density.log_density(problem, x), res.laplace_draws(key, chains), chains=chains,
                     warmup=warmup, draws=max(n_draws // chains, 1), seed=seed, inverse_mass_matrix=res.cov,
                     adapt_mass_matrix=True, max_tree_depth=5, progress_bar=False).z.reshape(-1, problem.dim)
    v = density.posterior_variables(problem, x)
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
              seed: int = 0, **kw) -> np.ndarray:
    """(n_sims, k) ranks of prior-drawn truths among n_draws posterior draws."""
    rng = np.random.default_rng(seed)
    truths = np.asarray(problem.prior.sample_theta(jax.random.PRNGKey(seed), (n_sims,)))
    ranks = []
    for i, truth in enumerate(truths):
        try:
            values = density.simulate_values(problem, density.x_of_theta(problem, truth), rng)
        except ValueError:
            continue
        draws = posterior_draws(problem.with_values(values), method, seed + i, n_draws=n_draws, **kw)[:n_draws]
        ranks.append(np.sum(draws < truth[None, :], axis=0))
    return np.asarray(ranks)


__all__ = ["posterior_draws", "recovery_study", "sbc_ranks"]
