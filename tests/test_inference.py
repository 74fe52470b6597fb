"""The shared log-density, MAP and the solver-failure guard on model-generated data.

One tiny problem (3 days, two parameters) is compiled once per module. Data are simulated
by the model at known parameters (labelled dataset "synthetic").
"""

import dataclasses
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lactojax.inference import density
from lactojax.inference.map import CONVERGED_GRAD_NORM
from lactojax.inference.priors import PriorSet
from lactojax.inference.problem import design_inputs, group_problem, synthetic_rows
from lactojax.inference.runner import map_fit
from lactojax.parameters import Params
from lactojax.solver import SolverSettings

pytestmark = pytest.mark.xdist_group("inference")

NAMES = ("lactose_vmax_mmol_h", "tj_tau_h")
TRUTH = np.array([15.0, 6.0])
SPEC = [("milk_intake_24h", 0, 24), ("milk_intake_24h", 24, 48), ("milk_intake_24h", 48, 72),
        ("milk_sodium", 0, 24), ("milk_sodium", 24, 48), ("milk_sodium", 48, 72),
        ("milk_lactose", 24, 48), ("milk_lactose", 48, 72)]
DESIGN = dict(feeds_per_day=10, feed_duration_min=15, n_glands=2, both_sides=True, night_feeds=True)


def make_problem(settings=None, rel_se=0.03):
    data = group_problem(
        synthetic_rows(SPEC), NAMES,
        # wide priors (s = 3 on the log scale, truncated to the bounds): the posterior mode is
        # the maximum-likelihood point, which for noise-free data is the truth
        PriorSet.from_table(NAMES, {n: {"scale": 3.0} for n in NAMES}),
        Params.nominal("human"), design_inputs(DESIGN, 3),
        settings or SolverSettings(rtol=1e-4, atol=1e-4, throw=False), label="synthetic")
    return data.problem, rel_se


def with_data(problem, values, scale):
    """The same problem with other values and scales (same shapes)."""
    return eqx.tree_at(lambda p: (p.rows.value, p.rows.scale, p.rows.sd), problem,
                       (jnp.asarray(values), jnp.asarray(scale), jnp.asarray(scale)))


def vg(problem):
    return functools.partial(density.value_and_grad_many, problem)


@pytest.fixture(scope="module")
def truth_problem():
    problem, rel_se = make_problem()
    pred, ok, _ = jax.jit(density.predict)(problem, problem.prior.theta_to_z(jnp.asarray(TRUTH)))
    assert bool(ok)
    pred = np.asarray(pred)
    problem = with_data(problem, pred, rel_se * pred)
    return problem, vg(problem), pred


def test_prediction_rows_follow_the_daily_observation_model(truth_problem):
    from lactojax import observation as obs
    from lactojax.simulate import simulate

    problem, _, pred = truth_problem
    p = problem.base.with_vector(problem.names, jnp.asarray(TRUTH))
    d = obs.daily(simulate(p, problem.inputs, problem.settings), p, problem.inputs)
    np.testing.assert_allclose(pred[:3], np.asarray(d["milk_intake_ml"])[:3], rtol=1e-10)
    np.testing.assert_allclose(pred[3:6], np.asarray(d["milk_sodium_mmol_l"])[:3], rtol=1e-10)
    np.testing.assert_allclose(pred[6:], np.asarray(d["milk_lactose_g_l"])[1:3], rtol=1e-10)


def test_gradient_matches_finite_differences(truth_problem):
    problem, ld, _ = truth_problem
    z = problem.prior.theta_to_z(jnp.asarray([12.0, 9.0]))
    v, g = ld(np.asarray(z)[None])
    h = 1e-4
    fd = []
    for i in range(problem.k):
        e = np.zeros(problem.k)
        e[i] = h
        vp, _ = ld(np.asarray(z + e)[None])
        vm, _ = ld(np.asarray(z - e)[None])
        fd.append((vp[0] - vm[0]) / (2 * h))
    np.testing.assert_allclose(g[0], fd, rtol=2e-3, atol=1e-2)


def test_map_finds_the_known_optimum(truth_problem):
    """Noise-free model-generated data and wide priors: the optimum is the truth."""
    problem, ld, _ = truth_problem
    res = map_fit(problem, starts=4, steps=60, learning_rate=0.1, seed=3)
    assert res.converged and res.hessian_pd
    theta = density.posterior_variables(problem, res.z)
    theta = np.array([theta[n] for n in NAMES])
    sd = np.sqrt(np.diag(res.cov))
    rel = np.abs(theta - TRUTH) / TRUTH
    # within a quarter of a posterior SD of the truth (tj_tau_h is the weaker-identified one)
    dz = np.abs(res.z - np.asarray(problem.prior.theta_to_z(jnp.asarray(TRUTH))))
    assert np.all(dz < 0.25 * sd), (theta, TRUTH, dz, sd)
    assert rel[0] < 0.01, (theta, TRUTH)
    assert res.n_at_best >= 2  # several starts reach the same optimum
    rep = res.report()
    assert {"logp", "grad_norm", "converged", "starts"} <= set(rep)
    # Laplace draws stay inside the bounds and centre on the optimum
    draws = np.asarray(problem.prior.z_to_theta(res.laplace_draws(jax.random.PRNGKey(0), 400)))
    assert np.all(draws[:, 0] >= 1) and np.all(draws[:, 0] <= 40)
    lo, hi = np.percentile(draws, [5, 95], axis=0)
    assert np.all((lo < TRUTH) & (TRUTH < hi))


def test_map_screening_starts_from_the_best_screened_points(truth_problem):
    """screen=N: the starts are the best of the prior centre and N space-filling points,
    which lie inside +-SCREEN_SD prior sd (and the bounds) on the u-scale."""
    from lactojax.inference.map import SCREEN_SD, screening_points

    problem, ld, _ = truth_problem
    prior = problem.prior
    pts = screening_points(prior, 16, seed=5)
    u = np.asarray(prior.z_to_u(jnp.asarray(pts))[0])
    m, s = np.asarray(prior.m), np.asarray(prior.s)
    assert np.all(np.abs(u - m) <= SCREEN_SD * s + 1e-9)
    assert np.all((u >= np.asarray(prior.a)) & (u <= np.asarray(prior.b)))
    lo = np.maximum(m - SCREEN_SD * s, np.asarray(prior.a))
    hi = np.minimum(m + SCREEN_SD * s, np.asarray(prior.b))
    assert np.all(np.ptp(u, axis=0) > 0.7 * (hi - lo))  # spread over the box, not clustered
    res = map_fit(problem, starts=4, steps=1, learning_rate=1e-9, seed=5, screen=15)
    cand = np.concatenate([np.asarray(prior.nominal_z())[None], screening_points(prior, 15, 5)])
    v, _ = ld(cand)
    best4 = cand[np.argsort(-v)[:4]]
    np.testing.assert_allclose([r["z_start"] for r in res.starts], best4, atol=1e-12)
    assert res.report()["screening"]["n_points"] == 16
    assert res.report()["screening"]["best_logp"] == pytest.approx(np.max(v))


@pytest.mark.slow  # ~80 s; the default suite runs the L-BFGS stage in the no-Hessian test below
def test_lbfgs_stage_reaches_the_optimum_that_a_few_adam_steps_stop_short_of(truth_problem):
    """Two Adam steps end far from the optimum; the L-BFGS stage (one lane) then reaches
    it: converged, within a quarter of a posterior SD of the truth, and reported."""
    problem, _, _ = truth_problem
    short = map_fit(problem, starts=2, steps=2, learning_rate=0.01, seed=3, hessian=False)
    res = map_fit(problem, starts=2, steps=2, learning_rate=0.01, seed=3, lbfgs_steps=60)
    assert res.lbfgs["iterations"] >= 2 and res.lbfgs["n_evals"] >= res.lbfgs["iterations"]
    assert res.logp > short.logp + 1.0
    assert res.converged and res.hessian_pd
    dz = np.abs(res.z - np.asarray(problem.prior.theta_to_z(jnp.asarray(TRUTH))))
    assert np.all(dz < 0.25 * np.sqrt(np.diag(res.cov))), dz
    assert res.report()["lbfgs"] == res.lbfgs


def test_lbfgs_without_hessian_reports_the_point_it_returns(truth_problem):
    """hessian=False (a herd's MAP): the log-density, gradient norm and convergence reported
    are those of the L-BFGS point returned, not of the Adam start it began from (which they beat)."""
    problem, _, _ = truth_problem
    res = map_fit(problem, starts=2, steps=2, learning_rate=0.01, seed=3, lbfgs_steps=15, hessian=False,
                  lbfgs_memory=7)
    assert res.lbfgs["memory"] == 7  # [map] lbfgs_memory reaches SciPy's maxcor
    value, grad = density.value_and_grad(problem, jnp.asarray(res.z))
    assert res.logp == pytest.approx(float(value), rel=1e-9)
    assert res.grad_norm == pytest.approx(float(jnp.linalg.norm(grad)), rel=1e-6, abs=1e-6)
    assert res.logp > max(r["logp"] for r in res.starts) + 1.0
    assert res.converged == bool(res.lbfgs["success"] or res.grad_norm < CONVERGED_GRAD_NORM)
    assert res.report()["lbfgs"] == res.lbfgs


def test_lbfgs_memory_is_the_rank_of_its_curvature_model():
    """On an ill-conditioned quadratic (d = 30, condition number 1e4) L-BFGS with as many
    correction pairs as unknowns converges in far fewer iterations than with one pair, and
    both reach the optimum (z = 0) that they report."""
    from lactojax.inference.map import _lbfgs

    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    a = q @ np.diag(np.logspace(0, 4, 30)) @ q.T

    def vg(z):  # log-density -z'Az/2 of a batch of one
        return -0.5 * np.einsum("bi,ij,bj->b", z, a, z), -(z @ a)

    reports = {}
    for memory in (1, 30):
        z, rep = _lbfgs(vg, np.ones(30), 5000, memory=memory)
        assert rep["memory"] == memory and rep["success"], rep
        np.testing.assert_allclose(z, 0.0, atol=1e-3)
        reports[memory] = rep
    assert reports[30]["iterations"] < 0.5 * reports[1]["iterations"], reports


def test_solver_failure_gives_minus_infinity_and_zero_gradient(truth_problem):
    problem, _, _ = truth_problem
    failing = dataclasses.replace(problem, settings=problem.settings.replace(method="adaptive", max_steps=50))
    z = failing.prior.theta_to_z(jnp.asarray(TRUTH))
    terms, pred, ok, steps, _ = jax.jit(density.loglik_terms)(failing, z)
    assert not bool(ok) and int(steps) <= 50
    assert np.all(np.isneginf(np.asarray(terms)))
    # the path NUTS and SVI differentiate
    v, g = jax.jit(jax.value_and_grad(density.log_density, argnums=1))(failing, z)
    assert np.isneginf(float(v)) and np.all(np.asarray(g) == 0.0)
    v, g = density.value_and_grad_many(failing, np.asarray(z)[None])  # the batched path MAP uses
    assert np.isneginf(v[0]) and np.all(g == 0.0)


def test_log_density_is_never_nan_at_extreme_points(truth_problem):
    problem, ld, _ = truth_problem
    pts = np.array([[-30.0, -30.0], [30.0, 30.0], [-30.0, 30.0], [0.0, 0.0]])
    v, g = ld(pts)
    assert not np.any(np.isnan(v)) and np.all(np.isfinite(g))
    assert np.all(np.isfinite(v) | np.isneginf(v))


def test_problems_with_equal_shapes_share_one_compilation(truth_problem):
    """Another dataset of the same design (an SBC replicate, another mother) is a new
    FitProblem with other leaves: the jitted log-density is traced once for both."""
    problem, _, pred = truth_problem
    pts = np.asarray(problem.prior.theta_to_z(jnp.asarray([TRUTH, TRUTH * 0.9])))
    v0, _ = density.value_and_grad_many(problem, pts)  # traced here or by an earlier test
    terms, _, ok, _, _ = density.evaluate_draws(problem, pts)
    before = dict(density.TRACES)
    assert before["value_and_grad"] >= 1 and before["evaluate"] >= 1  # the counter counts
    other = with_data(problem, pred * 1.2, 0.05 * pred)
    v1, _ = density.value_and_grad_many(other, pts)
    terms1, _, _, _, _ = density.evaluate_draws(other, pts)
    assert dict(density.TRACES) == before  # no new trace for `other`
    assert not np.allclose(v0, v1)  # ... and it really used the other data
    assert not np.allclose(terms, terms1) and np.all(ok)
