"""Fitted measurement noise of individual records (`lactojax.inference.noise`): which
observables get a scale, its prior against SciPy, the likelihood at the fitted scale, the
gradient in log sigma against finite differences, predictive quantiles with each draw's
own scale, recovery of a known scale from model-generated records, and the configuration."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from lactojax import likelihoods as lk
from lactojax.datasets.vocabulary import CODES, default_noise_sigma
from lactojax.inference import density
from lactojax.inference import noise as nz
from lactojax.inference.config import ConfigError, load_config
from lactojax.inference.problem import cow_inputs, hierarchical_problem

pytestmark = pytest.mark.xdist_group("noise")

NAMES = ("lactose_vmax_mmol_h", "secreted_fat_g_l")
DAYS = 3


def _herd(noise="fitted", prior_sd=nz.DEFAULT_PRIOR_SD):
    """Two cows x 3 days of per-milking yield and fat % records (values placeholders)."""
    inputs = cow_inputs(DAYS)
    starts = np.asarray(inputs.feeds.start_h)
    starts = starts[(starts > 0) & (starts < inputs.horizon_h)]
    rows = [dict(subject=cow, observable=o, t_start_h=t - 12.0, t_end_h=t, value=1.0)
            for cow in ("a", "b") for t in starts[1:] for o in ("milk_yield_per_milking", "fat_pct")]
    return hierarchical_problem(pd.DataFrame(rows), {"a": inputs, "b": inputs}, NAMES, species="cow",
                                noise=noise, noise_prior_sd=prior_sd)


def _x(problem, log_sigma):
    """The population centre at the nominal z, both cows at it, with these log sigmas."""
    x = density.embed(problem, np.asarray(problem.prior.nominal_z()))
    x[problem.dim - problem.fitted_noise.n:] = log_sigma
    return x


def test_fitted_noise_has_one_scale_per_observable_of_the_individual_rows():
    kinds = np.array([lk.IND_LOGNORMAL, lk.IND_STUDENT_T, lk.IND_LOGNORMAL, lk.GROUP_MEAN])
    codes = np.array([CODES["fat_pct"], CODES["milk_yield_per_milking"], CODES["fat_pct"], CODES["milk_yield_daily"]])
    noise = nz.fitted_noise("fitted", codes, kinds)
    assert noise.n == 2 and set(noise.labels) == {"fat_pct", "milk_yield_per_milking"}
    np.testing.assert_allclose(np.exp(np.asarray(noise.log_median)), default_noise_sigma()[np.asarray(noise.codes)])
    assert nz.variable_names(noise) == tuple(f"sigma_{o}" for o in noise.labels)
    assert dict(zip(noise.labels, nz.units(noise))) == {"fat_pct": "%", "milk_yield_per_milking": "1 (sd of log)"}
    assert nz.fitted_noise("fixed", codes, kinds).n == 0
    with pytest.raises(ValueError, match="no individual record"):
        nz.fitted_noise("fitted", codes[3:], kinds[3:])
    with pytest.raises(ValueError, match="expected one of fixed, fitted"):
        nz.fitted_noise("estimated", codes, kinds)
    with pytest.raises(ValueError, match="prior sd"):
        nz.fitted_noise("fitted", codes, kinds, prior_sd=0.0)


def test_prior_and_likelihood_use_the_fitted_scales():
    fixed, fitted = _herd("fixed").problem, _herd("fitted", prior_sd=0.7).problem
    assert fitted.dim == fixed.dim + 2 and fitted.fitted_noise.labels == ("milk_yield_per_milking", "fat_pct")
    log_sigma = np.log([0.3, 0.05])
    x = _x(fitted, log_sigma)
    # the prior adds a normal on each log sigma around the default's log (SciPy)
    lp_fitted = float(density.unpack(fitted, jnp.asarray(x))[1])
    lp_fixed = float(density.unpack(fixed, jnp.asarray(x[: fixed.dim]))[1])
    defaults = default_noise_sigma()[[CODES["milk_yield_per_milking"], CODES["fat_pct"]]]
    by_scipy = np.sum(stats.norm.logpdf(log_sigma, np.log(defaults), 0.7))
    np.testing.assert_allclose(lp_fitted - lp_fixed, by_scipy, rtol=1e-12)
    # the likelihood at x is that of the fixed model with the noise model's scales set to x's
    sigma = np.asarray(fixed.noise.sigma).copy()
    sigma[[CODES["milk_yield_per_milking"], CODES["fat_pct"]]] = np.exp(log_sigma)
    as_fixed = fixed.__class__(**{**{f: getattr(fixed, f) for f in fixed.__dataclass_fields__},
                                  "noise": lk.NoiseModel(jnp.asarray(sigma), fixed.noise.df)})
    z = density.unpack(fitted, jnp.asarray(x))[0]
    terms_fitted = np.asarray(density.loglik_terms(fitted, z, jnp.asarray(x))[0])
    terms_fixed = np.asarray(density.loglik_terms(as_fixed, z, jnp.asarray(x[: fixed.dim]))[0])
    np.testing.assert_allclose(terms_fitted, terms_fixed, rtol=1e-12)
    assert not np.allclose(terms_fitted, np.asarray(density.loglik_terms(fixed, z)[0]))
    # posterior variables carry sigma_<observable> in model units
    post = density.posterior_variables(fitted, x[None])
    np.testing.assert_allclose(post["sigma_milk_yield_per_milking"], [0.3])
    np.testing.assert_allclose(post["sigma_fat_pct"], [0.05])
    # the starting point and the prior draws
    x0 = density.embed(fitted, np.asarray(fitted.prior.nominal_z()))
    np.testing.assert_allclose(np.exp(x0[-2:]), defaults)
    draws = density.sample_prior(fitted, jax.random.PRNGKey(0), 4000)[:, -2:]
    np.testing.assert_allclose(draws.mean(0), np.log(defaults), atol=0.05)
    np.testing.assert_allclose(draws.std(0), 0.7, rtol=0.05)


def test_gradient_in_log_sigma_matches_finite_differences():
    data = _herd()
    p = data.problem
    x_true = _x(p, np.log([0.2, 0.15]))
    synthetic = data.with_values(density.simulate_values(p, x_true, np.random.default_rng(3))).problem
    x = jnp.asarray(_x(p, np.log([0.12, 0.25])))
    v, g = jax.jit(density.value_and_grad)(synthetic, x)
    assert np.isfinite(float(v))
    f = jax.jit(density.log_density)
    for i in (p.dim - 2, p.dim - 1):
        h = 1e-5
        fd = (float(f(synthetic, x.at[i].add(h))) - float(f(synthetic, x.at[i].add(-h)))) / (2 * h)
        np.testing.assert_allclose(float(g[i]), fd, rtol=1e-5)


def test_a_known_noise_scale_is_recovered_from_model_generated_records():
    """Records simulated with sigma 0.25 (yield, log scale) and 0.2 % (fat): the posterior
    mode in log sigma, with the model parameters at the truth, recovers both."""
    inputs = cow_inputs(20)
    starts = np.asarray(inputs.feeds.start_h)
    starts = starts[(starts > 12) & (starts < inputs.horizon_h)]
    rows = [dict(subject=cow, observable=o, t_start_h=t - 12.0, t_end_h=t, value=1.0)
            for cow in ("a", "b", "c") for t in starts for o in ("milk_yield_per_milking", "fat_pct")]
    data = hierarchical_problem(pd.DataFrame(rows), {c: inputs for c in "abc"}, NAMES, species="cow",
                                noise="fitted")
    p = data.problem
    truth = np.log([0.25, 0.2])
    x_true = _x(p, truth)
    synthetic = data.with_values(density.simulate_values(p, x_true, np.random.default_rng(11))).problem
    f = jax.jit(density.value_and_grad)

    def negative(log_sigma):
        v, g = f(synthetic, jnp.asarray(_x(p, log_sigma)))
        return -float(v), -np.asarray(g)[-2:]

    res = optimize.minimize(negative, np.log([0.15, 0.3]), jac=True, method="L-BFGS-B")
    assert res.success
    # ~240 records of each: the log sigma's standard error is ~1/sqrt(2 n) ~ 0.05 (t: a bit more)
    np.testing.assert_allclose(res.x, truth, atol=0.15)


def test_predictive_quantiles_use_each_draws_scale():
    """With per-draw scales, the quantiles are those of the mixture over draws of each
    draw's own likelihood (Monte Carlo of observation_noise with the same scales)."""
    from types import SimpleNamespace

    kinds = np.array([lk.IND_LOGNORMAL, lk.IND_STUDENT_T])
    problem = SimpleNamespace(rows=SimpleNamespace(kind=kinds, scale=np.ones(2), obs_code=np.array([0, 1])),
                              noise=SimpleNamespace(sigma=np.array([0.1, 0.5]), df=4.0))
    pred = np.array([[20.0, 3.0], [22.0, 3.5]])
    sigma = np.array([[0.1, 0.2], [0.4, 0.8]])
    qs = [0.05, 0.5, 0.95]
    exact = density.predictive_quantiles(problem, pred, qs, sigma=sigma)
    reps = 200_000
    samples = density.observation_noise(problem, np.repeat(pred, reps, axis=0), np.random.default_rng(0),
                                        sigma=np.repeat(sigma, reps, axis=0))
    np.testing.assert_allclose(exact, np.quantile(samples, qs, axis=0), rtol=0.01)
    # one draw: the family's own quantiles with that draw's scale (SciPy)
    one = density.predictive_quantiles(problem, pred[1:], qs, sigma=sigma[1:])
    expected = [[22.0 * math.exp(0.4 * stats.norm.ppf(q)), 3.5 + 0.8 * stats.t.ppf(q, 4.0)] for q in qs]
    np.testing.assert_allclose(one, expected, rtol=1e-9)


def test_noise_configuration(tmp_path):
    cfg = load_config("fits/dairy_milkman_map.toml")
    assert cfg.hierarchical.noise == "fitted"
    text = open("fits/tiny_herd_smoke.toml").read()
    assert 'noise = "fitted"' in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('noise = "fitted"', 'noise = "estimated"', 1))
    with pytest.raises(ConfigError, match="hierarchical.noise"):
        load_config(str(bad))
    bad.write_text(text.replace('noise = "fitted"', 'noise = "fitted"\nnoise_prior_sd = 0', 1))
    with pytest.raises(ConfigError, match="hierarchical.noise_prior_sd"):
        load_config(str(bad))
    assert load_config("fits/tiny_herd_smoke.toml").hierarchical.heavy_tails == ("milk_yield_per_milking",)
    bad.write_text(text.replace('heavy_tails = ["milk_yield_per_milking"]', 'heavy_tails = ["fat_pct"]', 1))
    with pytest.raises(ConfigError, match=r"hierarchical.heavy_tails.*'fat_pct'.*already have heavy tails"):
        load_config(str(bad))


def test_rows_get_the_fitted_median_scale_in_model_units():
    from lactojax.inference.runner import _fitted_scale

    rows = pd.DataFrame({"kind": [lk.IND_LOGNORMAL, lk.IND_STUDENT_T, lk.GROUP_MEAN],
                         "value": [20.0, 4.0, 300.0], "scale": [3.0, 0.3, 25.0]})
    sigma = np.array([[[0.1, 0.2, 9.0], [0.3, 0.4, 9.0], [0.2, 0.3, 9.0]]])  # (chains, draws, rows)
    np.testing.assert_allclose(_fitted_scale(rows, sigma), [20.0 * 0.2, 0.3, 25.0])


def test_heavy_tails_make_the_listed_log_normal_records_log_student_t():
    from lactojax.inference.problem import heavy_tailed_kind

    observable = np.array(["milk_yield_per_milking", "fat_pct", "milk_yield_daily", "somatic_cell_count"])
    kind = np.array([lk.IND_LOGNORMAL, lk.IND_STUDENT_T, lk.IND_LOGNORMAL, lk.IND_LOG_STUDENT_T])
    out = heavy_tailed_kind(kind, observable, ["milk_yield_per_milking"])
    np.testing.assert_array_equal(out, [lk.IND_LOG_STUDENT_T, lk.IND_STUDENT_T, lk.IND_LOGNORMAL,
                                        lk.IND_LOG_STUDENT_T])
    np.testing.assert_array_equal(heavy_tailed_kind(kind, observable, ()), kind)
    with pytest.raises(ValueError, match="'fat_pct' does not have log-normal records"):
        heavy_tailed_kind(kind, observable, ["fat_pct"])
    # the herd problem: yield rows log-Student-t with the noise model's df (SciPy), fat unchanged
    inputs = cow_inputs(DAYS)
    starts = np.asarray(inputs.feeds.start_h)
    starts = starts[(starts > 0) & (starts < inputs.horizon_h)]
    rows = [dict(subject="a", observable=o, t_start_h=t - 12.0, t_end_h=t, value=v)
            for t in starts[1:] for o, v in (("milk_yield_per_milking", 11.0), ("fat_pct", 4.0))]
    data = hierarchical_problem(pd.DataFrame(rows), {"a": inputs}, NAMES, species="cow", noise="fitted",
                                heavy_tails=["milk_yield_per_milking"])
    p, table = data.problem, data.rows
    yield_rows = (table["observable"] == "milk_yield_per_milking").to_numpy()
    assert set(table.loc[yield_rows, "kind"]) == {lk.IND_LOG_STUDENT_T}
    assert set(table.loc[~yield_rows, "kind"]) == {lk.IND_STUDENT_T}
    x = _x(p, np.log([0.2, 0.3]))
    z = density.unpack(p, jnp.asarray(x))[0]
    terms, pred = (np.asarray(a) for a in density.loglik_terms(p, z, jnp.asarray(x))[:2])
    y = table["value"].to_numpy()
    expected = stats.t.logpdf(np.log(y[yield_rows]), float(p.noise.df), np.log(pred[yield_rows]), 0.2) \
        - np.log(y[yield_rows])
    np.testing.assert_allclose(terms[yield_rows], expected, rtol=1e-10)


def test_heavy_tails_keep_outlying_records_from_inflating_the_scale():
    """Per-milking yields simulated with sigma 0.1 (log scale), 5 % of them then halved (a
    missed or incomplete milking): with log-normal noise the fitted scale absorbs the outliers
    (sd of log y ~0.18); with heavy tails it stays near the scale of the other records."""
    inputs = cow_inputs(12)
    starts = np.asarray(inputs.feeds.start_h)
    starts = starts[(starts > 12) & (starts < inputs.horizon_h)]
    rows = pd.DataFrame([dict(subject=cow, observable="milk_yield_per_milking", t_start_h=t - 12.0, t_end_h=t,
                              value=1.0) for cow in ("a", "b") for t in starts])
    herd = {c: inputs for c in "ab"}
    base = hierarchical_problem(rows, herd, NAMES[:1], species="cow").problem
    x_base = density.embed(base, np.asarray(base.prior.nominal_z()))
    pred = np.asarray(density.loglik_terms(base, density.unpack(base, jnp.asarray(x_base))[0])[1])
    rng = np.random.default_rng(5)
    clean = pred * np.exp(0.1 * rng.standard_normal(pred.shape))
    values = np.where(rng.random(pred.shape) < 0.05, 0.5 * clean, clean)
    fitted = {}
    for heavy in (False, True):
        data = hierarchical_problem(rows, herd, NAMES[:1], species="cow", noise="fitted",
                                    heavy_tails=["milk_yield_per_milking"] if heavy else [])
        p = data.problem
        synthetic = data.with_values(values).problem
        f = jax.jit(density.value_and_grad)

        def negative(log_sigma):
            v, g = f(synthetic, jnp.asarray(_x(p, log_sigma)))
            return -float(v), -np.asarray(g)[-1:]

        res = optimize.minimize(negative, np.log([0.15]), jac=True, method="L-BFGS-B")
        assert res.success
        fitted[heavy] = float(np.exp(res.x[0]))
    # Student-t (df 4) fitted to normal records of sd 0.1 has its scale near 0.085
    assert 0.07 < fitted[True] < 0.12, fitted
    assert fitted[False] > 1.5 * fitted[True], fitted
