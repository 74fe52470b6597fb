"""The prior in a fit's outputs: `density.sample_prior` draws from exactly the prior the
log-density uses (group and hierarchical), posterior.nc carries the groups prior and
prior_predictive, and summary.csv's prior_sd / sd_ratio are read from them."""

import math

import jax
import numpy as np
import pandas as pd
import pytest

from fit_fixtures import tiny_nuts_fit  # noqa: F401  (session fixture)
from lactojax.inference import density
from lactojax.inference.problem import cow_inputs, hierarchical_problem

NAMES = ("lactose_vmax_mmol_h", "secreted_fat_g_l")


def _herd_problem(levels: bool):
    inputs = cow_inputs(3)
    rows, covariates, subjects = [], [], {}
    for i, breed in enumerate(("Holstein", "Jersey", "Jersey")):
        cow = f"cow_{i}"
        subjects[cow] = inputs
        rows.append(dict(subject=cow, observable="milk_yield_daily", t_start_h=24.0, t_end_h=48.0, value=20.0))
        covariates.append(dict(subject=cow, breed=breed, parity=str(1 + i)))
    table = pd.DataFrame(rows)
    kw = {"levels": ("breed", "parity"), "covariates": pd.DataFrame(covariates)} if levels else {}
    return hierarchical_problem(table, subjects, NAMES, species="cow", **kw).problem


def test_group_prior_is_the_parameter_table_prior():
    p = _herd_problem(False)
    n = 20_000
    x = density.sample_prior(p, jax.random.PRNGKey(0), n)
    assert x.shape == (n, p.dim)
    mu, log_tau, delta, eta = density.split(p, x)
    assert delta.shape[-2] == p.n_offsets
    # population centres: the parameter table's priors (compared with an independent sampler)
    theta = np.asarray(p.prior.z_to_theta(mu[:, 0, :]))
    ref = np.asarray(p.prior.sample_theta(jax.random.PRNGKey(1), (n,)))
    np.testing.assert_allclose(np.median(theta, 0), np.median(ref, 0), rtol=0.03)
    np.testing.assert_allclose(np.percentile(theta, 90, 0), np.percentile(ref, 90, 0), rtol=0.05)
    # spreads half-normal(tau_scale): mean tau_scale * sqrt(2 / pi); subject effects N(0, 1)
    tau = np.exp(log_tau)
    np.testing.assert_allclose(tau.mean(0), float(p.tau_scale) * math.sqrt(2 / math.pi), rtol=0.03)
    np.testing.assert_allclose(eta.std(axis=0), 1.0, rtol=0.03)
    assert np.all(np.abs(eta.mean(axis=0)) < 0.03)
    # the log-density's own prior is finite at every draw
    _, log_prior = density.unpack(p, x[:200])
    assert np.all(np.isfinite(np.asarray(log_prior)))


def test_level_offsets_are_normal_with_the_offset_scale():
    p = _herd_problem(True)
    assert p.n_offsets >= 1
    x = density.sample_prior(p, jax.random.PRNGKey(2), 20_000)
    _, _, delta, _ = density.split(p, x)
    np.testing.assert_allclose(delta.std(axis=0), float(p.offset_scale), rtol=0.03)


@pytest.mark.xdist_group("inference_cli")
def test_prior_groups_round_trip_and_give_the_prior_sd(tiny_nuts_fit):  # noqa: F811
    import arviz as az

    idata = az.from_netcdf(str(tiny_nuts_fit / "posterior.nc"))
    assert {"prior", "prior_predictive"} <= set(idata.groups())
    assert set(idata.prior.data_vars) == set(idata.posterior.data_vars)
    assert idata.prior.sizes["chain"] == 1 and idata.prior.sizes["draw"] == 2000  # [outputs] prior_draws
    rows = idata.observed_data["y"].size
    for name in ("y", "y_mean"):
        assert idata.prior_predictive[name].shape == (1, 100, rows)  # [outputs] prior_predictive_draws
    assert np.isfinite(idata.prior_predictive["y_mean"].values).mean() > 0.5
    summary = pd.read_csv(tiny_nuts_fit / "summary.csv")
    for _, r in summary.iterrows():
        draws = idata.prior[r["parameter"]].values.ravel()
        np.testing.assert_allclose(r["prior_sd"], np.std(draws, ddof=1), rtol=1e-4)
        np.testing.assert_allclose(r["sd_ratio"], r["sd"] / r["prior_sd"], rtol=1e-4)
        assert 0 < r["sd_ratio"] < 1.5
