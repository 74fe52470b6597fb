"""Hierarchical population model: smoke run on model-generated records of two cows."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from lactojax.inference.hierarchical import HierarchicalModel, build_cohort, cow_inputs, run_hierarchical_nuts

# ~2 min of compilation on 2 CPU cores: part of `make test-slow`.
pytestmark = [pytest.mark.xdist_group("hierarchical"), pytest.mark.slow]

DAYS = 4
NAMES = ("lactose_vmax_mmol_h", "secreted_fat_g_l")


def _table(inputs):
    starts = np.asarray(inputs.feeds.start_h)
    starts = starts[starts < inputs.horizon_h]
    rows = []
    for cow in ("cow_a", "cow_b"):
        for t in starts[1:]:
            rows.append(dict(subject=cow, observable="milk_yield_per_milking", t_start_h=t - 12, t_end_h=t, value=1.0))
            rows.append(dict(subject=cow, observable="fat_pct", t_start_h=t - 12, t_end_h=t, value=1.0))
        rows.append(dict(subject=cow, observable="milk_yield_daily", t_start_h=36.0, t_end_h=60.0, value=1.0))
    return pd.DataFrame(rows)


def test_hierarchical_smoke():
    inputs = cow_inputs(DAYS)
    data = build_cohort(_table(inputs), {"cow_a": inputs, "cow_b": inputs})
    assert data.n_subjects == 2 and data.mask.sum() == len(data.rows)
    hm = HierarchicalModel(data, NAMES, species="cow")
    truth = np.array([[240.0, 40.0], [290.0, 46.0]])
    pred, ok = hm.predict(jnp.asarray(truth))
    assert bool(jnp.all(ok))
    yields = np.asarray(pred)[0][np.asarray(data.series[0]) == 0]
    assert np.all(yields > 1.0)  # kg per milking of a cow
    syn = hm.synthetic(truth, jax.random.PRNGKey(0))
    hm = HierarchicalModel(syn, NAMES, species="cow")
    mcmc = run_hierarchical_nuts(hm, chains=1, warmup=8, draws=8, seed=0, max_tree_depth=3)
    s = mcmc.get_samples()
    assert s["theta"].shape == (8, 2, 2)
    assert np.all(np.isfinite(np.asarray(s["theta"])))
    assert np.all((s["theta"][..., 0] >= 1.0) & (s["theta"][..., 0] <= 40.0 * 1000))
    # the log-likelihood of the synthetic data is finite at the truth and the guard holds
    v, g = jax.value_and_grad(hm.loglik)(hm.prior.theta_to_z(jnp.asarray(truth)))
    assert np.isfinite(float(v)) and np.all(np.isfinite(np.asarray(g)))
