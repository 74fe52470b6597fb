"""`simulate`: jitted, differentiable in every parameter, vmap-able over subjects and draws."""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from lactojax.dynamics.vector_field import vector_field
from lactojax.inputs import Inputs
from lactojax.parameters import Params
from lactojax.precision import require_x64
from lactojax.sessions import solve_sessions
from lactojax.solver import SolverSettings
from lactojax.state import State, initial_state


class Trajectory(eqx.Module):
    """A solved simulation. Time axes lead every state field."""

    ts: jnp.ndarray  # (N,) regular output grid, hours since delivery
    states: State  # at ts
    feed_start: State  # at each session's start (padded rows: at the horizon)
    feed_end: State  # at each session's end
    success: jnp.ndarray  # bool: the solver reached the horizon
    num_steps: jnp.ndarray  # accepted + rejected steps taken
    save_every_h: float = eqx.field(static=True, default=1.0)  # spacing of `ts`

    @property
    def points_per_day(self) -> int:
        per_day = 24.0 / self.save_every_h
        if abs(per_day - round(per_day)) > 1e-9:
            raise ValueError(f"save_every_h={self.save_every_h} does not divide a day")
        return int(round(per_day))


def output_grid(inputs: Inputs, settings: SolverSettings) -> jnp.ndarray:
    n = int(round(inputs.horizon_h / settings.save_every_h)) + 1
    return jnp.linspace(0.0, (n - 1) * settings.save_every_h, n)


def _solve(params: Params, inputs: Inputs, settings: SolverSettings, y0: State) -> Trajectory:
    horizon = inputs.horizon_h
    ts = output_grid(inputs, settings)
    feeds = inputs.feeds
    clip = lambda x: jnp.clip(x, 0.0, horizon)
    saveat = diffrax.SaveAt(
        subs=[
            diffrax.SubSaveAt(ts=ts),
            diffrax.SubSaveAt(ts=clip(feeds.start_h)),
            diffrax.SubSaveAt(ts=clip(feeds.end_h)),
        ]
    )
    controller = diffrax.ClipStepSizeController(
        diffrax.PIDController(rtol=settings.rtol, atol=settings.atol),
        jump_ts=inputs.jump_times(),
    )
    # diffrax applies each per-step operation leaf by leaf; one flat vector instead of the
    # ~30-leaf State makes a CPU solve and its gradient ~2.7x faster
    # (benchmarks/experiments/simulate_flat.py). Same steps, same error norm.
    flat_y0, unravel = ravel_pytree(y0)

    def flat_vector_field(t, flat_y, args):
        return ravel_pytree(vector_field(t, unravel(flat_y), args))[0]

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(flat_vector_field),
        settings.make_solver(),
        t0=0.0,
        t1=horizon,
        dt0=settings.dt0_h,
        y0=flat_y0,
        args=(params, inputs),
        saveat=saveat,
        stepsize_controller=controller,
        max_steps=settings.max_steps,
        adjoint=settings.make_adjoint(),
        throw=settings.throw,
    )
    grid, starts, ends = (jax.vmap(unravel)(ys) for ys in sol.ys)
    return Trajectory(
        ts=ts,
        states=grid,
        feed_start=starts,
        feed_end=ends,
        success=sol.result == diffrax.RESULTS.successful,
        num_steps=sol.stats["num_steps"],
        save_every_h=settings.save_every_h,
    )


def _solve_sessions(params: Params, inputs: Inputs, settings: SolverSettings, y0: State) -> Trajectory:
    ts = output_grid(inputs, settings)
    n = ts.shape[0]
    ts_np = np.linspace(0.0, (n - 1) * settings.save_every_h, n)  # concrete: indices computed in NumPy
    grid, starts, ends, n_steps, finite = solve_sessions(
        params, inputs, ts_np, y0, settings.session_steps, settings.max_step_h, settings.recovery_h,
        (settings.startup_h, settings.startup_step_h, settings.startup_step_growth), growth=settings.session_growth,
        custom_vjp=settings.adjoint != "forward", dense=settings.dense_output,
    )
    return Trajectory(
        ts=ts,
        states=grid,
        feed_start=starts,
        feed_end=ends,
        success=finite,
        num_steps=jnp.asarray(n_steps),
        save_every_h=settings.save_every_h,
    )


@eqx.filter_jit
def _simulate(params: Params, inputs: Inputs, settings: SolverSettings) -> Trajectory:
    solve = _solve_sessions if settings.method == "sessions" else _solve
    return solve(params, inputs, settings, initial_state(params, inputs))


def simulate(params: Params, inputs: Inputs, settings: SolverSettings = SolverSettings()) -> Trajectory:
    """Solve the model from delivery (t = 0) to `inputs.horizon_h`.

    Jitted; differentiable w.r.t. every leaf of `params` (and of float inputs); vmap over
    a leading axis of `params` and/or `inputs` (see `lactojax.inputs.stack_inputs`). The
    solver never steps over a feed boundary or a course boundary (`Inputs.jump_times`).
    With `settings.throw=False` a failed solve returns `success=False` instead of raising.
    The default `settings.method="sessions"` is the fixed-step session solver
    (`lactojax.sessions`, uniform work per batch lane); "adaptive" is the detailed
    reference. Needs float64 (`lactojax.enable_x64()`); raises `lactojax.Float64Error`
    otherwise.
    """
    # Python-level check, before tracing: a float32 solve of this stiff model fails or
    # drifts without saying why.
    require_x64("lactojax.simulate")
    return _simulate(params, inputs, settings)


def compile_simulate(params: Params, inputs: Inputs, settings: SolverSettings = SolverSettings()):
    """`simulate` compiled ahead of time for the shapes of these arguments (or loaded from JAX's
    persistent compilation cache): a callable `(params, inputs, settings) -> Trajectory`, the
    same program and results as `simulate`. For callers that show the compilation and the
    solve as separate stages (`lactojax simulate`)."""
    require_x64("lactojax.simulate")
    return _simulate.lower(params, inputs, settings).compile()

