"""NUTS with numpyro on a log-density given as a potential (`potential_fn(x) = -log p(x)`,
e.g. `lambda x: -density.log_density(problem, x)`).

Chains run with `chain_method="vectorized"` by default: one compiled program advances every
chain, so on CPU the chains share each solver step (the solver's per-step overhead is
amortised) and on a GPU they run in parallel; "sequential" and "parallel" (one device per
chain) are numpyro's other options. Chains start from draws of the Laplace approximation at
the MAP (dispersed around the optimum) and, by default, the Laplace covariance is the
initial (dense) inverse mass matrix.

With a fixed mass matrix (`adapt_mass_matrix=False`) every chain shares the same geometry,
so the chains' adapted step sizes are pooled: after warmup each chain samples with their
median. numpyro restarts step-size adaptation at the end of its middle warmup window even
when the mass matrix is not adapted, so a warmup of >= 20 iterations leaves only its last
10 % for the final step size; measured on the default fit (50 warmup iterations), the
chains ended with step sizes from 0.47 to 0.91 and lag-1 autocorrelations from -0.17 to
0.77. A warmup of <= 19 iterations is one dual-averaging window, which the median of
several chains then steadies.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import MCMC, NUTS

EXTRA_FIELDS = ("diverging", "energy", "num_steps", "accept_prob", "potential_energy", "adapt_state.step_size")


@dataclasses.dataclass
class NutsResult:
    z: np.ndarray  # (chains, draws, d)
    stats: dict[str, np.ndarray]  # (chains, draws) each
    wall_s: float
    n_gradient_evals: int
    init_z: np.ndarray
    warmup_step_sizes: np.ndarray | None = None  # (chains,) at the end of warmup, before pooling


def run_nuts(potential_fn: Callable, init_z: np.ndarray, chains: int = 4, warmup: int = 150, draws: int = 150,
             seed: int = 0, max_tree_depth: int = 5, target_accept: float = 0.8, chain_method: str = "vectorized",
             dense_mass: bool = True, inverse_mass_matrix: np.ndarray | None = None, adapt_mass_matrix: bool = True,
             progress_bar: bool = True) -> NutsResult:
    """Run NUTS; `init_z` is (chains, d) (or (d,) broadcast to every chain)."""
    t0 = time.perf_counter()
    init_z = np.asarray(init_z, dtype=float)
    k = init_z.shape[-1]
    if init_z.ndim == 1:
        init_z = np.repeat(init_z[None, :], chains, axis=0)
    imm = None if inverse_mass_matrix is None else \
        jnp.asarray(inverse_mass_matrix if dense_mass else np.diag(inverse_mass_matrix))
    kernel = NUTS(potential_fn=potential_fn, dense_mass=dense_mass, inverse_mass_matrix=imm,
                  adapt_mass_matrix=adapt_mass_matrix, max_tree_depth=max_tree_depth, target_accept_prob=target_accept)
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=draws, num_chains=chains,
                chain_method=chain_method, progress_bar=progress_bar)
    init = jnp.asarray(init_z) if chains > 1 else jnp.asarray(init_z[0])
    key_warmup, key_sample = jax.random.split(jax.random.PRNGKey(seed))
    warmup_step_sizes = None
    if warmup > 0:
        mcmc.warmup(key_warmup, init_params=init)
        state = mcmc.last_state
        warmup_step_sizes = np.atleast_1d(np.asarray(state.adapt_state.step_size))
        if not adapt_mass_matrix and chains > 1:
            pooled = jnp.full_like(state.adapt_state.step_size, np.median(warmup_step_sizes))
            state = state._replace(adapt_state=state.adapt_state._replace(step_size=pooled))
        mcmc.post_warmup_state = state
    mcmc.run(key_sample, init_params=init, extra_fields=EXTRA_FIELDS)
    z = np.asarray(mcmc.get_samples(group_by_chain=True)).reshape(chains, draws, k)
    extra = mcmc.get_extra_fields(group_by_chain=True)
    stats = {name.split(".")[-1]: np.asarray(v).reshape(chains, draws) for name, v in extra.items()}
    # gradient evaluations: leapfrog steps of the kept draws (warmup not recorded by numpyro)
    n_grad = int(np.sum(stats["num_steps"]))
    return NutsResult(z=z, stats=stats, wall_s=time.perf_counter() - t0,
                      n_gradient_evals=n_grad, init_z=init_z, warmup_step_sizes=warmup_step_sizes)


__all__ = ["NutsResult", "run_nuts"]
