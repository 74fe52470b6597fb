"""Core model tests: conservation, positivity, symmetry, discontinuities, SciPy cross-check,
gradients vs finite differences, vmap, tracing, failure reporting and the nominal physiology
(issue 2). One 30-day and one 4-day compile are shared by all tests in this module."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from scipy.integrate import solve_ivp

from lactojax import observation as obs
from lactojax.dynamics.vector_field import vector_field
from lactojax.inputs import (
    InputError,
    feed_schedule,
    make_inputs,
    regular_feeds,
    stack_inputs,
)
from lactojax.parameters import PARAMETER_TABLE, Params
from lactojax.simulate import simulate
from lactojax.solver import SolverSettings
from lactojax.state import initial_state

pytestmark = pytest.mark.xdist_group("core")

DAYS = 30


@pytest.fixture(scope="module")
def nominal():
    params = Params.nominal()
    inputs = make_inputs(regular_feeds(DAYS, 10), DAYS)
    traj = simulate(params, inputs)
    return params, inputs, traj


@pytest.fixture(scope="module")
def short():
    """4 days, both glands drained together at every feed (exactly symmetric)."""
    starts = np.arange(1.0, 4 * 24.0, 2.4)
    feeds = feed_schedule(starts, [0.4] * len(starts), [[1.0, 1.0]] * len(starts))
    return make_inputs(feeds, 4)


# ---------------------------------------------------------------- unit: conservation etc.


def test_mass_balance(nominal):
    params, inputs, traj = nominal
    # milk made = removed + change in stored, for every gland at every output time
    assert float(obs.mass_balance_error(traj, params, inputs)) < 1e-6
    # the infant's intake is exactly the milk removed by infant feeds (no pumps here)
    g, s = traj.states.glands, traj.states.systemic
    np.testing.assert_allclose(s.infant_intake, jnp.sum(g.removed, -1), rtol=1e-9, atol=1e-9)


def test_non_negativity(nominal):
    _, _, traj = nominal
    for path, leaf in jax.tree_util.tree_flatten_with_path(traj.states)[0]:
        leaf = np.asarray(leaf)
        scale = max(1.0, float(np.max(np.abs(leaf))))
        assert leaf.min() >= -1e-7 * scale, f"{jax.tree_util.keystr(path)} went negative: {leaf.min()}"


def test_fractions_bounded(nominal):
    _, _, traj = nominal
    g = traj.states.glands
    for name in ("stat5", "stat3", "upr", "lactose_capacity", "tj_open", "abscess"):
        v = np.asarray(getattr(g, name))
        assert v.min() >= -1e-9 and v.max() <= 1 + 1e-9, name


def test_symmetric_feeding_gives_identical_glands(short):
    params = Params.nominal()
    traj = simulate(params, short)
    g = traj.states.glands
    for name in ("milk_volume", "sodium", "lactose", "active_cells", "removed"):
        v = np.asarray(getattr(g, name))
        np.testing.assert_allclose(v[:, 0], v[:, 1], rtol=1e-10, atol=1e-10, err_msg=name)


def test_alternating_sides_are_symmetric_on_average(nominal):
    params, inputs, traj = nominal
    d = obs.daily(traj, params, inputs)
    prod = np.asarray(d["production_gland_ml"])[7:]
    assert np.max(np.abs(prod[:, 0] - prod[:, 1]) / prod.mean(1)) < 0.05


# ---------------------------------------------------------------- feeds are discontinuities


def test_jump_times_cover_every_session_boundary(nominal):
    _, inputs, _ = nominal
    jumps = set(np.round(np.asarray(inputs.jump_times()), 9))
    for t in np.concatenate([np.asarray(inputs.feeds.start_h), np.asarray(inputs.feeds.end_h)]):
        if 0 < t < inputs.horizon_h:
            assert round(float(t), 9) in jumps


def test_milk_removed_only_during_sessions(nominal):
    params, inputs, traj = nominal
    removed_start = np.asarray(traj.feed_start.glands.removed)
    removed_end = np.asarray(traj.feed_end.glands.removed)
    real = np.asarray(inputs.feeds.start_h) < inputs.horizon_h
    # nothing removed between the end of one session and the start of the next
    gap = removed_start[1:][real[1:]] - removed_end[:-1][real[1:]]
    assert np.max(np.abs(gap)) < 1e-9
    # and each session drains exactly the glands in its mask
    per = obs.per_session(traj, params, inputs)["removed_gland_ml"]
    mask = np.asarray(inputs.feeds.gland_mask)
    later = np.asarray(inputs.feeds.start_h) > 72
    assert np.all(np.abs(np.asarray(per)[later & real][mask[later & real] == 0]) < 1e-9)
    assert np.all(np.asarray(per)[later & real][mask[later & real] == 1] > 1.0)


def test_overlapping_sessions_rejected():
    with pytest.raises(InputError, match="overlap"):
        feed_schedule([1.0, 1.1], [0.5, 0.5], [[1, 0], [0, 1]])
    with pytest.raises(InputError, match="row 0 column 'duration_h'"):
        feed_schedule([1.0], [-0.5], [[1, 0]])


# ---------------------------------------------------------------- SciPy cross-check


def test_scipy_solve_ivp_agrees(nominal):
    """Integrate the same vector field with SciPy (LSODA with the jitted Jacobian, segment-wise
    between jumps) over the first 3 days and compare observables at rtol 1e-3."""
    params, inputs, traj = nominal
    y0 = initial_state(params, inputs)
    flat0, unravel = ravel_pytree(y0)
    rhs = jax.jit(lambda t, y: ravel_pytree(vector_field(t, unravel(y), (params, inputs)))[0])
    jac = jax.jit(jax.jacfwd(lambda t, y: rhs(t, y), argnums=1))
    t_end = 72.0
    jumps = np.asarray(inputs.jump_times())
    edges = np.concatenate([[0.0], jumps[jumps < t_end], [t_end]])
    grid = np.arange(0.0, t_end + 0.5, 1.0)
    y, out = np.asarray(flat0), {0.0: np.asarray(flat0)}
    for a, b in zip(edges[:-1], edges[1:]):
        if b - a < 1e-12:
            continue
        inside = grid[(grid > a) & (grid <= b)]
        sol = solve_ivp(lambda t, z: np.asarray(rhs(t, z)), (a, b), y, method="LSODA",
                        jac=lambda t, z: np.asarray(jac(t, z)), rtol=1e-8, atol=1e-8, dense_output=True)
        assert sol.success, sol.message
        for t in inside:
            out[float(t)] = sol.sol(t)
        y = sol.y[:, -1]  # state at the segment end b: the next segment starts from it
    scipy_states = jax.vmap(unravel)(jnp.asarray(np.stack([out[float(t)] for t in grid])))
    sci = obs.pooled_concentrations(scipy_states.glands)
    jx = obs.pooled_concentrations(jax.tree.map(lambda a: a[: len(grid)], traj.states.glands))
    for key in ("sodium", "lactose", "protein", "fat", "potassium"):
        np.testing.assert_allclose(np.asarray(jx[key])[24:], np.asarray(sci[key])[24:], rtol=1e-3, err_msg=key)
    intake_sci = np.diff(np.asarray(scipy_states.systemic.infant_intake)[::24])
    intake_jax = np.diff(np.asarray(traj.states.systemic.infant_intake)[: len(grid)][::24])
    np.testing.assert_allclose(intake_jax, intake_sci, rtol=1e-3)


# ---------------------------------------------------------------- differentiability, vmap, tracing

GRAD_NAMES = ["lactose_vmax_mmol_h", "progesterone_halflife_h", "tj_permeability_l_h", "prolactin_halflife_min"]


def _objective(x, inputs, settings):
    p = Params.nominal().with_vector(GRAD_NAMES, x)
    traj = simulate(p, inputs, settings)
    d = obs.daily(traj, p, inputs)
    return d["milk_intake_ml"][3] + 10.0 * d["milk_sodium_mmol_l"][1] + d["prolactin_peak_ng_ml"][2]


def test_gradient_matches_finite_differences(short):
    settings = SolverSettings(method="adaptive", rtol=1e-9, atol=1e-9, adjoint="forward")
    x0 = Params.nominal().subset_vector(GRAD_NAMES)
    grad = jax.jit(jax.jacfwd(lambda x: _objective(x, short, settings)))(x0)
    f = jax.jit(lambda x: _objective(x, short, settings))
    for i in range(len(GRAD_NAMES)):
        h = 1e-5 * x0[i]
        e = jnp.zeros_like(x0).at[i].set(h)
        fd = (f(x0 + e) - f(x0 - e)) / (2 * h)
        np.testing.assert_allclose(grad[i], fd, rtol=2e-3, err_msg=GRAD_NAMES[i])
    assert np.all(np.abs(np.asarray(grad)) > 0)


def test_daily_extremes_are_the_extreme_elements_with_their_derivatives():
    """The daily peak / basal reductions take the derivative of the element at the extreme
    (never jnp.max's JVP, which divides by a count of equal elements that XLA may make 0)."""
    x = jnp.array([[1.0, 3.0, 2.0], [5.0, 4.0, 5.0]])
    for mine, ref in ((obs._max, jnp.max), (obs._min, jnp.min)):
        np.testing.assert_array_equal(mine(x, axis=1), ref(x, axis=1))
        np.testing.assert_array_equal(mine(x, axis=0), ref(x, axis=0))
    t = jnp.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    _, peak_t = jax.jvp(lambda a: obs._max(a, axis=1), (x,), (t,))
    np.testing.assert_array_equal(peak_t, [20.0, 40.0])  # a tie (5, 5): the first element's
    g = jax.grad(lambda a: jnp.sum(obs._min(a, axis=1)))(x)
    np.testing.assert_array_equal(g, [[1.0, 0, 0], [0, 1.0, 0]])


def test_vmap_equals_loop(short):
    names = ["lactose_vmax_mmol_h", "storage_capacity_ml"]
    xs = jnp.array([[12.0, 210.0], [9.0, 150.0], [15.0, 300.0]])
    base = Params.nominal()
    batched = jax.vmap(lambda x: simulate(base.with_vector(names, x), short).states.glands.milk_volume)(xs)
    for i in range(xs.shape[0]):
        single = simulate(base.with_vector(names, xs[i]), short).states.glands.milk_volume
        np.testing.assert_allclose(batched[i], single, rtol=1e-9, atol=1e-9)


def test_schedules_of_different_length_batch(short):
    a = make_inputs(regular_feeds(4, 8), 4)
    b = make_inputs(regular_feeds(4, 12), 4)
    both = stack_inputs([a, b])  # a is padded with no-op rows to b's length
    p = Params.nominal()
    batched = jax.vmap(lambda i: simulate(p, i).states.systemic.infant_intake)(both)
    a_padded = jax.tree.map(lambda x: x[0], both)
    for k, single_inputs in enumerate((a_padded, b)):
        single = simulate(p, single_inputs).states.systemic.infant_intake
        np.testing.assert_allclose(batched[k], single, rtol=1e-8, atol=1e-8)
    # padding is inert: the padded schedule has the same real feeds as the original
    assert int(np.sum(np.asarray(a_padded.feeds.start_h) < 96)) == int(np.sum(np.asarray(a.feeds.start_h) < 96))
    assert float(batched[1, -1]) > 1.05 * float(batched[0, -1])  # 12 feeds/day drain more than 8


def test_no_retrace_for_new_parameter_values(short):
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def final_volume(params):
        return simulate(params, short).states.glands.milk_volume[-1]

    for vmax in (10.0, 12.0, 14.0):
        final_volume(Params.nominal(lactose_vmax_mmol_h=vmax))


def test_throw_false_reports_failure(short):
    settings = SolverSettings(method="adaptive", max_steps=20, throw=False)
    traj = simulate(Params.nominal(), short, settings)
    assert not bool(traj.success)


@pytest.mark.slow
def test_kvaerno5_agrees_with_default(short):
    p = Params.nominal()
    a = simulate(p, short, SolverSettings(method="adaptive", rtol=1e-8, atol=1e-8))
    b = simulate(p, short, SolverSettings(method="adaptive", solver="kvaerno5", rtol=1e-8, atol=1e-8))
    np.testing.assert_allclose(a.states.systemic.infant_intake, b.states.systemic.infant_intake, rtol=1e-4, atol=1e-3)


# ---------------------------------------------------------------- nominal physiology (issue 2)


def test_lactogenesis_timing_and_volume(nominal):
    params, inputs, traj = nominal
    d = {k: np.asarray(v) for k, v in obs.daily(traj, params, inputs).items()}
    ev = obs.event_times(traj, params, inputs)
    assert d["milk_intake_ml"][0] < 100  # day 1
    assert 300 <= d["milk_intake_ml"][4] <= 700  # day 5
    assert 30 <= float(ev["lactogenesis_II_onset"]) <= 72
    # sodium falls before volume rises (DESIGN.md §2)
    assert float(ev["sodium_below_20"]) < float(ev["milk_coming_in_perceived"]) + 12


def test_sodium_course(nominal):
    params, inputs, traj = nominal
    d = {k: np.asarray(v) for k, v in obs.daily(traj, params, inputs).items()}
    sodium = np.asarray(obs.hourly(traj, params, inputs)["milk_sodium"])
    assert d["milk_sodium_mmol_l"][0] > 20
    assert sodium[72] < 20
    assert np.all((d["milk_sodium_mmol_l"][14:] >= 4) & (d["milk_sodium_mmol_l"][14:] <= 12))


def test_composition_course(nominal):
    params, inputs, traj = nominal
    d = {k: np.asarray(v) for k, v in obs.daily(traj, params, inputs).items()}
    assert np.all((d["milk_protein_g_l"][:2] >= 14) & (d["milk_protein_g_l"][:2] <= 20))
    assert np.all((d["milk_protein_g_l"][14:] >= 8) & (d["milk_protein_g_l"][14:] <= 13))
    assert d["milk_lactose_g_l"][0] < 50
    assert np.all((d["milk_lactose_g_l"][7:] >= 60) & (d["milk_lactose_g_l"][7:] <= 75))
    assert d["milk_fat_g_l"][20] > d["milk_fat_g_l"][0]


def test_storage_and_per_feed_volumes(nominal):
    params, inputs, traj = nominal
    assert 74 <= float(params.storage_capacity_ml) <= 382  # Kent 1999 range per breast
    per = obs.per_session(traj, params, inputs)
    late = np.asarray(per["valid"]) & (np.asarray(per["start_h"]) > 14 * 24)
    vols = np.asarray(per["removed_ml"])[late]
    # sessions are one breast each: 2 sessions per feed
    per_feed = vols.reshape(-1, 2).sum(1)
    assert 50 <= per_feed.mean() <= 150  # per-feed intake ~76 g at 1-6 months (Kent 2006)
    assert vols.max() <= float(params.storage_capacity_ml)
    fullness = np.asarray(obs.hourly(traj, params, inputs)["fullness"])[14 * 24 :]
    assert 0.0 < fullness.min() and fullness.max() < 1.0


def test_prolactin_pulses(nominal):
    params, inputs, traj = nominal
    d = {k: np.asarray(v) for k, v in obs.daily(traj, params, inputs).items()}
    fold = d["prolactin_peak_ng_ml"] / d["prolactin_basal_ng_ml"]
    assert np.all((fold[3:] > 1.5) & (fold[3:] < 9))  # Noel 1974: up to 8.5x; Cox 1996: 2.4x


@pytest.mark.slow
def test_intake_one_to_six_months():
    """24-h intake 650-950 mL from 1 to 6 months (Dewey & Lonnerdal 1983; Cox 1996)."""
    days = 180
    p = Params.nominal()
    inputs = make_inputs(regular_feeds(days, 10), days)
    traj = simulate(p, inputs)
    intake = np.asarray(obs.daily(traj, p, inputs)["milk_intake_ml"])[30:]
    assert intake.min() >= 650 and intake.max() <= 950
