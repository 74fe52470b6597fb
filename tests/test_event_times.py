"""Event-time observables: crossing times and the lactogenesis II markers used by fits.

A fit's log-density is only as smooth as its observables. These tests pin down that the
marker times are continuously differentiable functions of the parameters: the crossing
inside a grid cell is found on a cubic (C1) interpolant, and the markers are read from
24-h centred means, so neither the output grid nor the feed pattern puts kinks or wiggles
into them (both did before; see docs/fitting.md)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lactojax import observation as obs
from lactojax.inputs import make_inputs, regular_feeds
from lactojax.parameters import Params
from lactojax.simulate import simulate
from lactojax.solver import SolverSettings

pytestmark = pytest.mark.xdist_group("events")

TS = jnp.arange(0.0, 49.0)  # hourly grid, h


def _rise(tau):
    return 1.0 - jnp.exp(-TS / tau)  # crosses 0.5 at tau ln 2


@pytest.mark.parametrize("method", ["cubic", "linear"])
def test_crossing_time_value(method):
    taus = np.linspace(3.0, 9.0, 61)
    t = np.array([float(obs.crossing_time(TS, _rise(tau), 0.5, method=method)) for tau in taus])
    err = np.max(np.abs(t - taus * np.log(2.0)))
    assert err < (0.01 if method == "cubic" else 0.1), err


def test_crossing_time_derivative_is_continuous():
    """d t*/d tau must be ln 2 wherever the crossing sits in its grid cell. The cubic
    crossing holds it to 1 %; the linear one does not (its derivative jumps at grid points),
    which is what made the old fit log-density kinked."""
    taus = jnp.linspace(5.0, 11.0, 121)  # crossings sweep across ~4 grid cells

    def deriv(method):
        f = lambda tau: obs.crossing_time(TS, _rise(tau), 0.5, method=method)
        return np.asarray(jax.vmap(jax.grad(f))(taus))

    cubic_err = np.max(np.abs(deriv("cubic") / np.log(2.0) - 1.0))
    linear_err = np.max(np.abs(deriv("linear") / np.log(2.0) - 1.0))
    assert cubic_err < 0.01, cubic_err
    assert linear_err > 0.03, linear_err  # the test can tell the two apart


def test_crossing_time_edges():
    y = jnp.linspace(1.0, 2.0, TS.shape[0])
    assert float(obs.crossing_time(TS, y, 0.5)) == 0.0  # starts above
    assert float(obs.crossing_time(TS, y, 5.0)) == float(TS[-1])  # never reaches
    with pytest.raises(ValueError, match="method"):
        obs.crossing_time(TS, y, 1.5, method="spline")


def test_centered_mean():
    ts = jnp.arange(0.0, 49.0)
    y = 3.0 + 2.0 * ts
    m = np.asarray(obs.centered_mean(ts, y, 12))
    np.testing.assert_allclose(m[12:37], np.asarray(y[12:37]), rtol=1e-12)  # linear: exact
    np.testing.assert_allclose(m[0], 3.0 + 2.0 * 6.0)  # window cut to [0, 12] h
    per = jnp.sin(2 * jnp.pi * ts / 24.0)
    assert np.max(np.abs(np.asarray(obs.centered_mean(ts, per, 12))[12:37])) < 0.01


@pytest.fixture(scope="module")
def vmax_line():
    """Trajectories along a fine line of lactose vmax (8 days, 10 feeds a day)."""
    inputs = make_inputs(regular_feeds(8, 10), 8)
    settings = SolverSettings(rtol=1e-6, atol=1e-6)
    base = Params.nominal()
    vmax = jnp.linspace(0.9, 1.1, 41) * float(base["lactose_vmax_mmol_h"])

    def markers(smoothing_h):
        def one(v):
            p = base.with_vector(("lactose_vmax_mmol_h",), jnp.asarray([v]))
            traj = simulate(p, inputs, settings)
            ev = obs.event_times(traj, p, inputs, smoothing_h=smoothing_h)
            return jnp.stack([ev[k] for k in sorted(ev)])

        return np.asarray(jax.jit(jax.vmap(one))(vmax))

    return np.asarray(vmax), markers


def test_marker_times_are_smooth_in_parameters(vmax_line):
    """Residuals of a cubic polynomial fit of each marker time along the line: a few
    thousandths of an hour for the 24-h means; the raw hourly signal, whose crossing moves
    across feed-induced plateaus, is far rougher."""
    vmax, markers = vmax_line
    x = (vmax - vmax.mean()) / np.ptp(vmax)

    def roughness(t):
        coef = np.polynomial.polynomial.polyfit(x, t, 5)
        return np.max(np.abs(t - np.polynomial.polynomial.polyval(x, coef).T), axis=0)

    smooth = markers(24.0)
    raw = markers(0.0)
    assert np.all(np.isfinite(smooth))
    assert np.all((smooth > 0) & (smooth < 8 * 24))
    r_smooth, r_raw = roughness(smooth), roughness(raw)
    assert np.max(r_smooth) < 0.01, r_smooth
    assert np.max(r_raw) > 5 * np.max(r_smooth), (r_raw, r_smooth)
