"""Likelihoods: match reference densities, give -inf (not NaN) for non-finite predictions,
and have finite gradients under jit for every dataset."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import ndtri

from lactojax import likelihoods as lk
from lactojax.datasets import list_datasets, load_dataset, to_arrays
from lactojax.datasets.arrays import ObservationArrays
from lactojax.datasets.vocabulary import OBSERVABLES, code, default_noise_sigma

NOISE = lk.NoiseModel(sigma=jnp.asarray(default_noise_sigma()), df=4.0)


def test_group_mean_matches_normal():
    pred, mean, sd, n = 700.0, 683.5, 160.0, 9
    se = sd / np.sqrt(n)
    got = lk.group_mean_loglik(pred, mean, sd, n, lk.SPREAD_SD)
    assert float(got) == pytest.approx(stats.norm.logpdf(mean, pred, se))
    got = lk.group_mean_loglik(pred, mean, 54.7, 11, lk.SPREAD_SEM)
    assert float(got) == pytest.approx(stats.norm.logpdf(mean, pred, 54.7))
    # population: the between-subject SD (an SEM turned back into an SD)
    got = lk.group_mean_loglik(pred, mean, sd, n, lk.SPREAD_SD, population=True)
    assert float(got) == pytest.approx(stats.norm.logpdf(mean, pred, sd))
    got = lk.group_mean_loglik(pred, mean, 54.7, 11, lk.SPREAD_SEM, population=True)
    assert float(got) == pytest.approx(stats.norm.logpdf(mean, pred, 54.7 * np.sqrt(11)))
    # n unknown (0): SE = SD
    got = lk.group_mean_loglik(pred, mean, sd, 0, lk.SPREAD_SD)
    assert float(got) == pytest.approx(stats.norm.logpdf(mean, pred, sd))


def test_vectorised_group_mean_and_event_time():
    pred = jnp.array([30.0, 80.0])
    got = lk.event_time_loglik(pred, jnp.array([32.0, 77.0]), jnp.array([9.0, 10.0]),
                               jnp.array([13.0, 17.0]), jnp.array([lk.SPREAD_SD] * 2))
    want = stats.norm.logpdf([32, 77], [30, 80], [9 / np.sqrt(13), 10 / np.sqrt(17)])
    np.testing.assert_allclose(np.asarray(got), want)


def test_individual_densities_match_scipy():
    y, p, s = 7.297, 8.0, 0.15
    assert float(lk.individual_lognormal_loglik(p, y, s)) == pytest.approx(
        stats.lognorm.logpdf(y, s, scale=p))
    assert float(lk.individual_student_t_loglik(5.0, 5.67, 0.3, 4.0)) == pytest.approx(
        stats.t.logpdf(5.67, 4.0, loc=5.0, scale=0.3))
    want = stats.t.logpdf(np.log(237.0), 4.0, loc=np.log(100.0), scale=0.5) - np.log(237.0)
    assert float(lk.individual_log_student_t_loglik(100.0, 237.0, 0.5, 4.0)) == \
        pytest.approx(want)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_prediction_gives_minus_inf(bad):
    for val in (
        lk.group_mean_loglik(bad, 1.0, 1.0, 4, lk.SPREAD_SD),
        lk.event_time_loglik(bad, 30.0, 9.0, 13),
        lk.individual_lognormal_loglik(bad, 2.0, 0.1),
        lk.individual_student_t_loglik(bad, 2.0, 0.1),
        lk.individual_log_student_t_loglik(bad, 2.0, 0.1),
    ):
        assert float(val) == -np.inf


def test_non_positive_prediction_on_log_scale_gives_minus_inf():
    assert float(lk.individual_lognormal_loglik(0.0, 2.0, 0.1)) == -np.inf
    assert float(lk.individual_log_student_t_loglik(-1.0, 2.0, 0.1)) == -np.inf
    g = jax.grad(lambda p: lk.individual_lognormal_loglik(p, 2.0, 0.1))(-1.0)
    assert np.isfinite(float(g))


def test_gradients_finite():
    fns = [
        lambda p: lk.group_mean_loglik(p, 683.5, 160.0, 9, lk.SPREAD_SD),
        lambda p: lk.event_time_loglik(p, 32.0, 9.0, 13),
        lambda p: lk.individual_lognormal_loglik(p, 7.3, 0.15),
        lambda p: lk.individual_student_t_loglik(p, 5.67, 0.3),
        lambda p: lk.individual_log_student_t_loglik(p, 237.0, 0.5),
    ]
    for f in fns:
        g = jax.jit(jax.grad(f))(50.0)
        assert np.isfinite(float(g))


def test_wan_range_factor_matches_expected_normal_range():
    # d2 constants: expected range of n standard normal draws (quality-control tables)
    d2 = {5: 2.326, 10: 3.078, 20: 3.735, 50: 4.498}
    for n, want in d2.items():
        sd = float(lk.sd_from_range(0.0, want, n))
        assert sd == pytest.approx(1.0, rel=0.02), n
    assert float(lk.sd_from_range(0.0, 1.0, 9)) == pytest.approx(
        1 / (2 * ndtri((9 - 0.375) / 9.25)))


def test_median_approximations():
    mean, sd = lk.mean_sd_from_median_range(10.0, 2.0, 30.0, 20)
    assert float(mean) == pytest.approx((2 + 20 + 30) / 4)
    assert float(sd) == pytest.approx(28 / (2 * ndtri(19.625 / 20.25)))
    mean, sd = lk.mean_sd_from_median_iqr(10.0, 8.0, 13.0, 1000)
    assert float(mean) == pytest.approx(31 / 3)
    assert float(sd) == pytest.approx(5 / 1.349, rel=0.01)  # large n: IQR = 1.349 SD
    mean, sd = lk.mean_sd_from_interval(32.0, 40.0)
    assert (float(mean), float(sd)) == (36.0, pytest.approx(8 / np.sqrt(12)))


def _arrays(rows) -> ObservationArrays:
    cols = list(zip(*rows))
    (obs, value, kind, scale, sd, n) = cols
    m = len(rows)
    return ObservationArrays(
        obs_code=jnp.array([code(o) for o in obs], dtype=jnp.int32),
        t_start_h=jnp.zeros(m), t_end_h=jnp.ones(m), gland=-jnp.ones(m, dtype=jnp.int32),
        value=jnp.array(value), kind=jnp.array(kind, dtype=jnp.int32),
        scale=jnp.array(scale), sd=jnp.array(sd), n=jnp.array(n, dtype=float),
        subject=jnp.zeros(m, dtype=jnp.int32), row=jnp.arange(m))


MIXED = _arrays([
    ("milk_intake_24h", 683.5, lk.GROUP_MEAN, 53.3, 160.0, 9),
    ("milk_intake_24h", 35.9, lk.GROUP_APPROX, 12.5, 37.5, 9),
    ("citrate_transition_start", 32.0, lk.EVENT_TIME, 2.5, 9.0, 13),
    ("milk_yield_per_milking", 7.297, lk.IND_LOGNORMAL, 1.0, 0.0, 1),
    ("fat_pct", 5.67, lk.IND_STUDENT_T, 1.0, 0.0, 1),
    ("somatic_cell_count", 237.0, lk.IND_LOG_STUDENT_T, 1.0, 0.0, 1),
])
PRED = jnp.array([700.0, 40.0, 30.0, 8.0, 5.0, 100.0])


def test_dispatcher_sums_kinds():
    sig = NOISE.sigma
    want = (
        stats.norm.logpdf(683.5, 700.0, 53.3) + stats.norm.logpdf(35.9, 40.0, 12.5)
        + stats.norm.logpdf(32.0, 30.0, 2.5)
        + stats.lognorm.logpdf(7.297, float(sig[code("milk_yield_per_milking")]), scale=8.0)
        + stats.t.logpdf(5.67, 4.0, loc=5.0, scale=float(sig[code("fat_pct")]))
        + stats.t.logpdf(np.log(237.0), 4.0, loc=np.log(100.0),
                         scale=float(sig[code("somatic_cell_count")])) - np.log(237.0)
    )
    assert float(lk.dataset_loglik(PRED, MIXED, NOISE)) == pytest.approx(want)
    terms = lk.dataset_loglik_terms(PRED, MIXED, NOISE)
    assert terms.shape == (6,)
    pop = lk.dataset_loglik(PRED, MIXED, NOISE, population=True)
    assert float(pop) != pytest.approx(want)


def test_dispatcher_non_finite_and_gradients():
    f = jax.jit(lambda p: lk.dataset_loglik(p, MIXED, NOISE))
    g = jax.jit(jax.grad(lambda p: lk.dataset_loglik(p, MIXED, NOISE)))
    assert np.isfinite(float(f(PRED)))
    assert np.all(np.isfinite(np.asarray(g(PRED))))
    for i in range(6):
        for bad in (jnp.nan, jnp.inf):
            val = float(f(PRED.at[i].set(bad)))
            assert val == -np.inf, (i, bad)
    # a non-positive prediction on a log-scale row: -inf, gradient still finite
    p = PRED.at[3].set(-1.0)
    assert float(f(p)) == -np.inf
    assert np.all(np.isfinite(np.asarray(g(p))))
    # noise parameters are differentiable too
    gs = jax.grad(lambda s: lk.dataset_loglik(PRED, MIXED, lk.NoiseModel(s, 4.0)))(NOISE.sigma)
    assert np.all(np.isfinite(np.asarray(gs)))


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(0.01, 1e4), min_size=6, max_size=6),
    factors=st.lists(st.floats(0.2, 5.0), min_size=6, max_size=6),
)
def test_property_finite_loglik_and_gradient(values, factors):
    arrays = MIXED._replace(value=jnp.array(values))
    pred = jnp.array(values) * jnp.array(factors)
    val = lk.dataset_loglik(pred, arrays, NOISE)
    grad = jax.grad(lambda p: lk.dataset_loglik(p, arrays, NOISE))(pred)
    assert np.isfinite(float(val))
    assert np.all(np.isfinite(np.asarray(grad)))


@pytest.fixture(scope="module")
def all_arrays():
    """Every dataset's arrays, concatenated (one jit compilation for all of them)."""
    parts, names = [], []
    for name in list_datasets():
        a = to_arrays(load_dataset(name))
        parts.append(a)
        names += [name] * len(a.value)
    arrays = ObservationArrays(*(np.concatenate(f) for f in zip(*parts)))
    return jax.tree_util.tree_map(jnp.asarray, arrays), np.array(names)


def test_every_dataset_likelihood_finite_with_finite_gradient(all_arrays):
    arrays, names = all_arrays
    pred = arrays.value * 1.1
    value_and_grad = jax.jit(jax.value_and_grad(lambda p, a: lk.dataset_loglik(p, a, NOISE)))
    terms = np.asarray(jax.jit(lambda p, a: lk.dataset_loglik_terms(p, a, NOISE))(pred, arrays))
    value, grad = value_and_grad(pred, arrays)
    assert np.isfinite(float(value))
    grad = np.asarray(grad)
    used = sorted(set(names))
    assert len(used) == 18  # casey1986, sievertsen1980 and weitzman1981 use no rows
    for name in used:
        sel = names == name
        assert np.all(np.isfinite(terms[sel])), name
        assert np.all(np.isfinite(grad[sel])), name
    # any non-finite prediction makes the total -inf (same shapes: no recompilation)
    for i in (0, int(np.flatnonzero(names == "milkman")[0]), len(names) - 1):
        bad, bad_grad = value_and_grad(pred.at[i].set(jnp.nan), arrays)
        assert float(bad) == -np.inf
        assert not np.any(np.isnan(np.asarray(bad_grad)))


def test_noise_vector_matches_vocabulary():
    assert NOISE.sigma.shape == (len(OBSERVABLES),)
    assert float(NOISE.sigma[code("milk_yield_per_milking")]) == 0.15


def test_predictive_quantiles_are_those_of_the_noise_mixture():
    """`density.predictive_quantiles`: one draw gives the noise model's own quantiles (SciPy);
    several draws give the mixture's (Monte Carlo of `observation_noise`, 400,000 draws);
    NaN draws are left out, a row with no finite draw (or no draws) is NaN."""
    from types import SimpleNamespace

    from lactojax.inference.density import observation_noise, predictive_quantiles

    kinds = np.array([lk.GROUP_MEAN, lk.IND_LOGNORMAL, lk.IND_STUDENT_T, lk.IND_LOG_STUDENT_T])
    problem = SimpleNamespace(rows=SimpleNamespace(kind=kinds, scale=np.array([2.0, 1.0, 1.0, 1.0]),
                                                   obs_code=np.array([0, 1, 2, 3])),
                              noise=SimpleNamespace(sigma=np.array([9.0, 0.1, 0.5, 0.3]), df=4.0))
    qs = [0.05, 0.5, 0.95]
    one = predictive_quantiles(problem, np.array([[10.0, 20.0, 3.0, 100.0]]), qs)
    expected = np.array([[10.0 + 2.0 * stats.norm.ppf(q), 20.0 * np.exp(0.1 * stats.norm.ppf(q)),
                          3.0 + 0.5 * stats.t.ppf(q, 4.0), 100.0 * np.exp(0.3 * stats.t.ppf(q, 4.0))] for q in qs])
    np.testing.assert_allclose(one, expected, rtol=1e-9)

    draws = np.array([[10.0, 20.0, 3.0, 100.0], [14.0, 25.0, 4.0, 150.0], [9.0, 18.0, np.nan, 90.0]])
    mixture = predictive_quantiles(problem, draws, qs)
    rng = np.random.default_rng(0)
    reps = 400_000 // 3
    samples = observation_noise(problem, np.repeat(draws, reps, axis=0), rng)
    monte_carlo = np.nanquantile(samples, qs, axis=0)
    np.testing.assert_allclose(mixture, monte_carlo, rtol=0.01)
    assert np.all(np.isnan(predictive_quantiles(problem, np.full((2, 4), np.nan), qs)))
    assert np.all(np.isnan(predictive_quantiles(problem, np.zeros((0, 4)), qs)))  # no draws at all
