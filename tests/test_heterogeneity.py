"""Between-study heterogeneity (`lactojax.inference.heterogeneity`): the discrepancy's
likelihood and prior against SciPy, its place in x, recovery of known between-study SDs
from model-generated data, and predictive intervals that cover new data at their nominal
rate. Data are simulated by the model (dataset "synthetic")."""

import tomllib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from lactojax import likelihoods as lk
from lactojax.inference import density
from lactojax.inference import heterogeneity as het
from lactojax.inference.config import ConfigError, FitConfig
from lactojax.inference.priors import PriorSet
from lactojax.inference.problem import design_inputs, group_problem, synthetic_rows
from lactojax.inference.runner import map_fit
from lactojax.parameters import Params
from lactojax.solver import SolverSettings

pytestmark = pytest.mark.xdist_group("inference")

NAMES = ("lactose_vmax_mmol_h",)
TRUTH = np.array([15.0])
KAPPA = {"milk_intake_24h": 0.30, "milk_sodium": 0.08}  # the known between-study SDs (relative)
REPEATS = 20  # studies per row window: 20 x 6 windows = 120 rows
SPEC = [(o, t, t + 24) for o in KAPPA for t in (24, 48, 72)] * REPEATS
DESIGN = dict(feeds_per_day=10, feed_duration_min=15, n_glands=2, both_sides=True, night_feeds=True)


def test_gaussian_rows_add_the_between_study_sd_in_quadrature():
    pred = jnp.array([100.0, 20.0, 50.0])

    class Rows:  # the fields of an ObservationArrays that the likelihood reads
        value = jnp.array([120.0, 18.0, 40.0])
        scale = jnp.array([5.0, 1.0, 1.0])
        sd = scale
        kind = jnp.array([lk.GROUP_MEAN, lk.EVENT_TIME, lk.IND_LOGNORMAL])
        obs_code = jnp.array([0, 0, 0])

    noise = lk.NoiseModel(jnp.array([0.2]))
    extra = jnp.array([30.0, 2.0, 99.0])
    terms = np.asarray(lk.dataset_loglik_terms(pred, Rows, noise, extra_sd=extra))
    np.testing.assert_allclose(terms[0], stats.norm.logpdf(120.0, 100.0, np.hypot(5.0, 30.0)), rtol=1e-12)
    np.testing.assert_allclose(terms[1], stats.norm.logpdf(18.0, 20.0, np.hypot(1.0, 2.0)), rtol=1e-12)
    # an individual row keeps its own noise model
    np.testing.assert_allclose(terms[2], stats.lognorm.logpdf(40.0, 0.2, scale=50.0), rtol=1e-10)


def test_kappa_prior_is_half_normal_on_kappa_with_the_log_jacobian():
    d = het.discrepancy("pooled", ["a", "b"], [True, True], scale=0.3)
    for log_kappa in (-3.0, -1.0, 0.2):
        expected = stats.halfnorm.logpdf(np.exp(log_kappa), scale=0.3) + log_kappa
        np.testing.assert_allclose(float(het.log_prior(d, jnp.array([log_kappa]))), expected, rtol=1e-12)


def test_discrepancy_groups_and_bad_requests():
    obs_names, gaussian = ["intake", "sodium", "intake", "scc"], [True, True, True, False]
    d = het.discrepancy("observable", obs_names, gaussian)
    assert d.labels == ("intake", "sodium") and list(np.asarray(d.group_of)) == [0, 1, 0, -1]
    assert het.variable_names(d) == ("kappa_intake", "kappa_sodium")
    p = het.discrepancy("pooled", obs_names, gaussian)
    assert p.labels == ("all",) and list(np.asarray(p.group_of)) == [0, 0, 0, -1]
    assert het.discrepancy("none", obs_names, gaussian).n == 0
    with pytest.raises(ValueError, match="expected one of none, pooled, observable"):
        het.discrepancy("per-study", obs_names, gaussian)
    with pytest.raises(ValueError, match="no group-mean or event-time row"):
        het.discrepancy("pooled", ["scc"], [False])
    with pytest.raises(ValueError, match="scale: expected > 0"):
        het.discrepancy("pooled", obs_names, gaussian, scale=0.0)


def test_the_configuration_takes_a_heterogeneity_model_for_group_fits_only():
    raw = {"fit": {"datasets": ["saint1984"], "horizon_days": 3}, "parameters": {"estimate": ["storage_capacity_ml"]},
           "heterogeneity": {"model": "observable", "scale": 0.2}}
    cfg = FitConfig.from_dict(raw)
    assert cfg.heterogeneity.model == "observable" and cfg.heterogeneity.scale == 0.2
    assert FitConfig.from_dict(tomllib.loads(cfg.to_toml())) == cfg
    with pytest.raises(ConfigError, match="heterogeneity.model"):
        FitConfig.from_dict({**raw, "heterogeneity": {"model": "by-study"}})
    herd = {"fit": {"datasets": ["milkman"], "species": "cow", "model": "hierarchical", "horizon_days": 5},
            "parameters": {"estimate": ["lactose_vmax_mmol_h"]}, "heterogeneity": {"model": "pooled"}}
    with pytest.raises(ConfigError, match="for group fits"):
        FitConfig.from_dict(herd)


@pytest.fixture(scope="module")
def study_problem():
    """120 rows (6 windows x 20 studies) of intake and sodium with a between-study
    discrepancy per observable; values filled by `with_values`."""
    data = group_problem(synthetic_rows(SPEC), NAMES, PriorSet.from_table(NAMES, {n: {"scale": 3.0} for n in NAMES}),
                         Params.nominal("human"), design_inputs(DESIGN, 4),
                         SolverSettings(rtol=1e-4, atol=1e-4, throw=False), label="synthetic",
                         heterogeneity="observable", heterogeneity_scale=0.25)
    problem = data.problem
    assert problem.discrepancy.labels == tuple(KAPPA) and problem.dim == len(NAMES) + len(KAPPA)
    x_true = np.concatenate([np.asarray(problem.prior.theta_to_z(jnp.asarray(TRUTH))), np.log(list(KAPPA.values()))])
    pred = density.simulate_values(problem, x_true, np.random.default_rng(0), noise=False)
    # each study's SE: 2 % of its mean (well below the between-study SD of intake)
    problem = eqx.tree_at(lambda p: (p.rows.scale, p.rows.sd), problem,
                          (jnp.asarray(0.02 * pred), jnp.asarray(0.02 * pred)))
    return problem, x_true, pred


def test_log_density_adds_the_kappa_prior_and_inflates_the_gaussian_scales(study_problem):
    problem, x_true, pred = study_problem
    values = pred * 1.1
    p = problem.with_values(values)
    # one compiled batch: the value at the truth and central differences in each log kappa
    h = 1e-5
    steps = np.zeros((5, 3))
    steps[1, 1], steps[2, 1], steps[3, 2], steps[4, 2] = h, -h, h, -h
    v, g = density.value_and_grad_many(p, x_true[None] + steps, batch=5)
    kappa = np.exp(x_true[1:])
    sd = np.hypot(0.02 * pred, kappa[np.asarray(p.discrepancy.group_of)] * pred)
    expected = (float(p.prior.log_prob_z(jnp.asarray(x_true[:1])))
                + np.sum(stats.halfnorm.logpdf(kappa, scale=0.25) + np.log(kappa))
                + np.sum(stats.norm.logpdf(values, pred, sd)))
    np.testing.assert_allclose(v[0], expected, rtol=1e-9)
    for j, (plus, minus) in ((1, (1, 2)), (2, (3, 4))):
        np.testing.assert_allclose(g[0, j], (v[plus] - v[minus]) / (2 * h), rtol=1e-5, atol=1e-6)


def test_an_x_without_the_kappas_is_refused_with_what_x_holds(study_problem):
    problem, x_true, _ = study_problem
    with pytest.raises(ValueError, match=r"expected a last axis of 3 entries \(1 for the parameters, then 2 log "
                                         r"kappa\), got shape \(1,\); density.embed"):
        density.log_density(problem, x_true[:1])
    with pytest.raises(ValueError, match="expected a last axis of 3"):
        density.value_and_grad_many(problem, np.zeros((4, 1)))
    np.testing.assert_allclose(density.embed(problem, x_true[:1])[1:], np.log(0.6744897501960817 * 0.25))


def test_prior_draws_of_kappa_are_half_normal(study_problem):
    problem, _, _ = study_problem
    x = density.sample_prior(problem, jax.random.PRNGKey(3), 4000)
    kappa = np.exp(x[:, 1:])
    # Kolmogorov-Smirnov against HalfNormal(0.25): p > 0.001 for both kappas
    for j in range(kappa.shape[1]):
        assert stats.kstest(kappa[:, j], stats.halfnorm(scale=0.25).cdf).pvalue > 1e-3
    v = density.posterior_variables(problem, x)
    assert set(v) == {"lactose_vmax_mmol_h", "kappa_milk_intake_24h", "kappa_milk_sodium"}


@pytest.mark.slow  # ~2 min; the default suite's recovery check is test_one_mother's MAP fit
def test_known_between_study_sds_are_recovered_and_new_data_are_covered(study_problem):
    """Model-generated studies whose means scatter around the model's by known relative SDs
    (intake 30 %, sodium 8 %) plus their SE: the Laplace posterior's 90 % intervals cover
    the truth, and new studies fall inside their 90 % predictive intervals at the nominal
    rate (within 3 binomial sd of 0.9)."""
    problem, x_true, pred = study_problem
    rng = np.random.default_rng(11)
    values = density.simulate_values(problem, x_true, rng)
    fitted = problem.with_values(values)
    res = map_fit(fitted, starts=2, steps=10, learning_rate=0.1, seed=0, lbfgs_steps=60)
    assert res.converged
    draws = res.laplace_draws(jax.random.PRNGKey(1), 256)
    v = density.posterior_variables(fitted, draws)
    for name, truth in [("lactose_vmax_mmol_h", TRUTH[0])] + [(f"kappa_{k}", s) for k, s in KAPPA.items()]:
        lo, hi = np.percentile(v[name], [5, 95])
        assert lo <= truth <= hi, (name, lo, truth, hi)
    # new studies of the same rows, at the truth; intervals from the fitted posterior
    _, pred_draws, ok, _, extra = density.evaluate_draws(fitted, draws)
    assert np.all(ok)
    y_new = density.observation_noise(fitted, pred_draws, np.random.default_rng(5), extra)
    lo, hi = np.percentile(y_new, [5, 95], axis=0)
    new_sets = np.stack([density.simulate_values(problem, x_true, rng) for _ in range(4)])
    share = float(np.mean((new_sets >= lo) & (new_sets <= hi)))
    n = new_sets.size
    assert abs(share - 0.9) < 3 * np.sqrt(0.09 / n), share
    # without the discrepancy the same data would be covered far less often
    narrow = density.observation_noise(fitted, pred_draws, np.random.default_rng(5))
    lo0, hi0 = np.percentile(narrow, [5, 95], axis=0)
    assert float(np.mean((new_sets >= lo0) & (new_sets <= hi0))) < 0.7


def test_simulate_posterior_adds_new_study_bands_for_observables_with_a_kappa():
    """`simulate --posterior` of a fit with kappas: `<col>_new_p05/_new_p95` for the daily
    columns of those observables, each draw's prediction plus Normal(0, kappa |prediction|)."""
    import arviz as az

    from lactojax.inference.predictive import _new_study_columns

    kappa = np.full((1, 4000), 0.2)
    idata = az.from_dict(posterior={"lactose_vmax_mmol_h": np.ones((1, 4000)), "kappa_milk_intake_24h": kappa,
                                    "kappa_no_such_observable": kappa})
    cols = {"milk_intake_ml": np.full((4000, 2), 500.0), "milk_sodium_mmol_l": np.full((4000, 2), 10.0)}
    new = _new_study_columns(cols, idata, np.arange(4000), np.ones(4000, bool), seed=0)
    assert set(new) == {"milk_intake_ml_new"}
    np.testing.assert_allclose(np.std(new["milk_intake_ml_new"], axis=0), 100.0, rtol=0.05)
    np.testing.assert_allclose(np.mean(new["milk_intake_ml_new"], axis=0), 500.0, atol=5.0)


def test_identifiability_names_the_datasets_whose_rows_move_with_a_parameter():
    """Draws where dataset A's two rows follow parameter a (slope 3) and nothing follows b:
    a is informed by A alone, b by no row."""
    import arviz as az
    import pandas as pd

    from lactojax.inference.identifiability import identifiability_table

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(1, 500)), rng.normal(size=(1, 500))
    y_mean = np.stack([3 * a[0], 3 * a[0], np.full(500, 7.0)], axis=-1)[None]  # (1, 500, 3)
    y = y_mean + rng.normal(size=y_mean.shape)
    idata = az.from_dict(posterior={"a": a, "b": b}, prior={"a": rng.normal(size=(1, 500)),
                                                             "b": rng.normal(size=(1, 500))},
                         posterior_predictive={"y": y, "y_mean": y_mean},
                         constant_data={"dataset": np.array(["A", "A", "B"])})
    summary = pd.DataFrame({"parameter": ["a", "b"], "sd_ratio": [0.3, 1.0]})
    t = identifiability_table(idata, summary, ["a", "b"], lambda theta: theta).set_index("parameter")
    assert t.loc["a", "informed_by"] == "A (100 %)"
    # two rows of slope 3, prior sd 1, noise sd 1: information 2 x 9 = 18 times the prior's
    np.testing.assert_allclose(t.loc["a", "data_information"], 18.0, rtol=0.15)
    assert t.loc["b", "data_information"] < 0.05 and t.loc["b", "informed_by"] == ""
    assert t.loc["a", "sd_ratio"] == 0.3
