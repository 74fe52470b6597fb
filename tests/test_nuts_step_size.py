"""`run_nuts` step-size pooling, on a cheap 3-D Gaussian potential (no ODE)."""

import jax.numpy as jnp
import numpy as np
import pytest

from lactojax.inference.nuts import run_nuts

COV = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 0.5]])
PREC = np.linalg.inv(COV)


def _gaussian_potential():
    prec = jnp.asarray(PREC)
    return lambda z: 0.5 * z @ prec @ z


@pytest.mark.parametrize("adapt_mass_matrix", [False, True])
def test_fixed_mass_matrix_pools_the_chains_step_sizes(adapt_mass_matrix):
    init = np.random.default_rng(0).normal(size=(4, 3))
    res = run_nuts(_gaussian_potential(), init, chains=4, warmup=15, draws=40, seed=2, max_tree_depth=3,
                   inverse_mass_matrix=COV, adapt_mass_matrix=adapt_mass_matrix,
                   progress_bar=False)
    assert res.warmup_step_sizes.shape == (4,)
    sampled = res.stats["step_size"]  # (chains, draws): constant after warmup
    assert np.allclose(sampled, sampled[:, :1])
    if adapt_mass_matrix:  # each chain keeps its own adapted step size
        np.testing.assert_allclose(sampled[:, 0], res.warmup_step_sizes)
    else:  # one shared geometry: every chain samples with the median
        np.testing.assert_allclose(sampled[:, 0], np.median(res.warmup_step_sizes))
    assert res.z.shape == (4, 40, 3) and np.all(np.isfinite(res.z))
    assert abs(float(np.mean(res.z))) < 1.0  # sampling a zero-mean Gaussian, not stuck
