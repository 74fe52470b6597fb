"""The SciPy peer on the same vector field, and the accuracy comparison of daily observables.

SciPy setup (the fairest we know for solve_ivp on a JAX model):
- the state pytree is flattened with `jax.flatten_util.ravel_pytree`;
- `f(t, y)` and its Jacobian `jax.jacfwd(f)` are jitted (parameters and inputs are closed
  over as constants, or passed as one flat vector `theta` when many subjects share one
  compiled function) and called with NumPy arrays;
- `solve_ivp` is called segment by segment between the input jump times
  (`Inputs.jump_times()` below the horizon) so that it never steps over a feed boundary,
  the equivalent of diffrax's `ClipStepSizeController(jump_ts=...)`;
- the same rtol / atol as diffrax.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from scipy.integrate import solve_ivp

import lactojax  # noqa: F401  (float64)
from lactojax import observation as obs
from lactojax.dynamics.vector_field import vector_field
from lactojax.observables import OBSERVABLES
from lactojax.simulate import Trajectory
from lactojax.state import initial_state

# label in the JSON -> daily output of the observation registry (lactojax.observables)
ACCURACY_OUTPUTS = {
    "daily_intake": OBSERVABLES["milk_intake_ml"],
    "daily_sodium": OBSERVABLES["milk_sodium_mmol_l"],
    "daily_lactose": OBSERVABLES["milk_lactose_g_l"],
    "daily_protein": OBSERVABLES["milk_protein_g_l"],
}


class ScipyModel:
    """Flat-vector RHS and Jacobian of the lactojax vector field for one (params, inputs).

    `theta` (one flat vector holding params and inputs) is an argument of the jitted
    functions, so subjects with the same input shapes share one compilation.
    """

    def __init__(self, params, inputs):
        self.inputs_static = inputs
        y0 = initial_state(params, inputs)
        self.y0, self.unravel = ravel_pytree(y0)
        theta, self.unravel_theta = ravel_pytree((params, inputs))
        # SciPy is a CPU tool: its jitted RHS / Jacobian run on the host CPU even when the
        # default JAX backend is a GPU (a committed CPU argument pins the computation).
        self.cpu = jax.devices("cpu")[0]
        self.theta = jax.device_put(np.asarray(theta), self.cpu)
        unravel, unravel_theta = self.unravel, self.unravel_theta

        def f(t, y, theta):
            p, inp = unravel_theta(theta)
            return ravel_pytree(vector_field(t, unravel(y), (p, inp)))[0]

        self._f = jax.jit(f)
        self._jac = jax.jit(jax.jacfwd(f, argnums=1))
        self.n_rhs = 0
        self.n_jac = 0

    def with_subject(self, params, inputs) -> "ScipyModel":
        """Same compiled functions, another subject (inputs must have the same shapes)."""
        other = object.__new__(ScipyModel)
        other.__dict__.update(self.__dict__)
        other.inputs_static = inputs
        other.y0 = np.asarray(ravel_pytree(initial_state(params, inputs))[0])
        other.theta = jax.device_put(np.asarray(ravel_pytree((params, inputs))[0]), self.cpu)
        other.n_rhs = other.n_jac = 0
        return other

    def rhs(self, t, y):
        self.n_rhs += 1
        return np.asarray(self._f(t, y, self.theta))

    def jac(self, t, y):
        self.n_jac += 1
        return np.asarray(self._jac(t, y, self.theta))

    def warmup(self, jacobian: bool = True):
        """Compile the RHS (and the Jacobian, which LSODA in its non-stiff mode never calls)
        before anything is timed."""
        self.rhs(0.0, np.asarray(self.y0))
        if jacobian:
            self.jac(0.0, np.asarray(self.y0))
        self.n_rhs = self.n_jac = 0

    def solve(self, method: str, rtol: float, atol: float, save_every_h: float = 1.0):
        """Segment-wise solve_ivp over [0, horizon]. Returns (grid (N, n), starts, ends, info)."""
        inputs = self.inputs_static
        horizon = inputs.horizon_h
        jumps = np.asarray(inputs.jump_times())
        jumps = np.unique(jumps[(jumps > 0) & (jumps < horizon)])
        bounds = np.concatenate([[0.0], jumps, [horizon]])
        n_grid = int(round(horizon / save_every_h)) + 1
        grid_t = np.linspace(0.0, (n_grid - 1) * save_every_h, n_grid)
        grid = np.empty((n_grid, self.y0.shape[0]))
        y = np.asarray(self.y0, dtype=float)
        grid[0] = y
        at_bound = {0.0: y.copy()}
        nfev = njev = 0
        kw = dict(method=method, rtol=rtol, atol=atol)
        if method != "RK45":
            kw["jac"] = self.jac
        ok = True
        for a, b in zip(bounds[:-1], bounds[1:]):
            lo = np.searchsorted(grid_t, a, side="right")
            hi = np.searchsorted(grid_t, b, side="right")
            t_eval = grid_t[lo:hi]
            if not t_eval.size or t_eval[-1] != b:
                t_eval = np.append(t_eval, b)  # always return the state at the segment end
            sol = solve_ivp(self.rhs, (a, b), y, t_eval=t_eval, **kw)
            if sol.status != 0:
                ok = False
                break
            grid[lo:hi] = sol.y[:, : hi - lo].T
            y = sol.y[:, -1].copy()
            at_bound[float(b)] = y
            nfev += sol.nfev
            njev += sol.njev
        feeds = inputs.feeds
        def lookup(times):
            out = []
            for t in np.clip(np.asarray(times), 0.0, horizon):
                out.append(at_bound.get(float(t), grid[-1] if t >= horizon else np.full_like(y, np.nan)))
            return np.asarray(out)
        starts = lookup(feeds.start_h)
        ends = lookup(feeds.end_h)
        info = dict(ok=ok, nfev=int(nfev), njev=int(njev), segments=int(len(bounds) - 1),
                    rhs_calls=int(self.n_rhs), jac_calls=int(self.n_jac))
        return grid, starts, ends, info

    def trajectory(self, grid, starts, ends, save_every_h: float = 1.0) -> Trajectory:
        to_state = lambda a: jax.vmap(self.unravel)(jnp.asarray(a))
        kw = dict(ts=jnp.arange(grid.shape[0]) * save_every_h, states=to_state(grid), feed_start=to_state(starts),
                  feed_end=to_state(ends), success=jnp.asarray(True), num_steps=jnp.asarray(-1))
        if "save_every_h" in getattr(Trajectory, "__dataclass_fields__", {}):
            kw["save_every_h"] = save_every_h
        return Trajectory(**kw)


def daily_observables(traj, params, inputs) -> dict[str, np.ndarray]:
    d = obs.daily(traj, params, inputs)
    return {label: np.asarray(d[o.source_key]) for label, o in ACCURACY_OUTPUTS.items()}


def max_rel_errors(test: dict, ref: dict) -> dict[str, float]:
    """Max over days of |test - ref| / |ref|, per observable."""
    out = {}
    for k in ref:
        r, x = np.asarray(ref[k], float), np.asarray(test[k], float)
        out[k] = float(np.max(np.abs(x - r) / np.maximum(np.abs(r), 1e-12)))
    return out


def timed_scipy_solve(model: ScipyModel, method, rtol, atol, repeats: int):
    """Repeated SciPy solves; returns (list of wall s, list of cpu s, last output)."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        model.n_rhs = model.n_jac = 0
        w, c = time.perf_counter(), time.process_time()
        out = model.solve(method, rtol, atol)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return walls, cpus, out
