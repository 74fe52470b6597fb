"""Profiling experiment: where does the per-step time of a 30-day solve go?

Each variant is a copy of `lactojax.simulate._solve` with one thing changed, so that the
effect of that one thing on (a) step count and (b) time per step can be measured on the
same machine in the same process:

  ravel   : integrate the state as one flat float vector (ravel_pytree) instead of the
            pytree of ~30 leaves (the vector field itself is unchanged)
  lookup  : how `drive._active_session` finds the current feed row:
            'searchsorted' (current code: jnp.searchsorted, default method='scan', i.e. a
            nested while loop inside every RHS evaluation), 'compare_all' (count of
            start_h <= t: one vectorised comparison), 'scan_unrolled', 'sort'
  saveat  : 'full' (current: grid + feed starts + feed ends, 3 SubSaveAts), 'grid' (only
            the hourly grid), 'feeds' (only feed starts/ends), 't1' (final state only)
  jumps   : 'all' (current: every feed/course boundary), 'none' (no ClipStepSizeController
            -- wrong physics, only to price the controller)
  solver  : tsit5 | dopri5 | kvaerno5 ...

Usage:
  .venv/bin/python benchmarks/experiments/solve_variants.py [--repeats 5] [--only NAME ...]
Writes benchmarks/results/profile_solve_variants.json.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lactojax

lactojax.enable_x64()  # float64 model; importing lactojax does not switch it on

from lactojax.dynamics import drive as drive_mod
from lactojax.dynamics.vector_field import vector_field
from lactojax.inputs import make_inputs, regular_feeds
from lactojax.parameters import Params
from lactojax.solver import SolverSettings
from lactojax.state import initial_state

_ORIGINAL_ACTIVE_SESSION = drive_mod._active_session


def _active_session_method(method):
    def active_session(feeds, t):
        if method == "compare_all_sum":
            idx = jnp.sum(feeds.start_h <= t) - 1
        else:
            idx = jnp.searchsorted(feeds.start_h, t, side="right", method=method) - 1
        safe = jnp.clip(idx, 0, feeds.start_h.shape[0] - 1)
        active = (idx >= 0) & (t < feeds.end_h[safe])
        return safe, active

    return active_session


_ORIGINAL_EVALUATE = drive_mod.evaluate


def evaluate_masked(inputs, t):
    """Proposed `drive.evaluate`: no row lookup at all. Sessions never overlap (validated
    by `feed_schedule`), so the stimulus is a masked sum over all rows -- one vectorised
    compare / multiply / reduce over (F, G) instead of a search and three gathers."""
    feeds = inputs.feeds
    on = (feeds.start_h <= t) & (t < feeds.end_h)
    w = jnp.where(on, feeds.effectiveness, 0.0)
    stim = jnp.sum(w[:, None] * feeds.gland_mask, axis=0)
    pumping = jnp.sum((w * feeds.is_pump)[:, None] * feeds.gland_mask, axis=0)
    profile = inputs.profile
    clock = jnp.mod(t + profile.delivery_clock_h, 24.0)
    cl = drive_mod._course_level
    return drive_mod.Drive(
        suckling=stim - pumping,
        pumping=pumping,
        session_active=jnp.where(jnp.any(on), 1.0, 0.0),
        dopamine_agonist=jnp.max(cl(inputs.dopamine_agonist, t)),
        dopamine_antagonist=jnp.max(cl(inputs.dopamine_antagonist, t)),
        antibiotic=cl(inputs.antibiotic, t),
        inoculum=cl(inputs.nipple_breach, t),
        placenta_retained=jnp.where(t < profile.placenta_removal_h, 1.0, 0.0),
        clock_h=clock,
    )


@contextlib.contextmanager
def feed_lookup(method: str):
    """Temporarily replace the feed lookup used by the vector field (trace-time patch)."""
    if method == "searchsorted":
        yield
        return
    if method == "masked_sum":
        drive_mod.evaluate = evaluate_masked
    else:
        drive_mod._active_session = _active_session_method(method)
    try:
        yield
    finally:
        drive_mod._active_session = _ORIGINAL_ACTIVE_SESSION
        drive_mod.evaluate = _ORIGINAL_EVALUATE


def make_solver_fn(ravel: bool, saveat: str, jumps: str, settings: SolverSettings):
    """A jitted (params, inputs) -> (num_steps, final flat state) for one variant."""

    def solve(params, inputs):
        y0 = initial_state(params, inputs)
        horizon = inputs.horizon_h
        n = int(round(horizon / settings.save_every_h)) + 1
        ts = jnp.linspace(0.0, (n - 1) * settings.save_every_h, n)
        clip = lambda x: jnp.clip(x, 0.0, horizon)
        if ravel:
            flat0, unravel = ravel_pytree(y0)
            term = diffrax.ODETerm(lambda t, y, args: ravel_pytree(vector_field(t, unravel(y), args))[0])
            y_init = flat0
        else:
            term = diffrax.ODETerm(vector_field)
            y_init = y0
        if saveat == "full":
            sa = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(ts=clip(inputs.feeds.start_h)),
                                      diffrax.SubSaveAt(ts=clip(inputs.feeds.end_h))])
        elif saveat == "grid":
            sa = diffrax.SaveAt(ts=ts)
        elif saveat == "feeds":
            sa = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=clip(inputs.feeds.start_h)),
                                      diffrax.SubSaveAt(ts=clip(inputs.feeds.end_h))])
        else:
            sa = diffrax.SaveAt(t1=True)
        pid = diffrax.PIDController(rtol=settings.rtol, atol=settings.atol)
        controller = pid if jumps == "none" else diffrax.ClipStepSizeController(pid, jump_ts=inputs.jump_times())
        sol = diffrax.diffeqsolve(
            term, settings.make_solver(), t0=0.0, t1=horizon, dt0=settings.dt0_h, y0=y_init,
            args=(params, inputs), saveat=sa, stepsize_controller=controller,
            max_steps=settings.max_steps, adjoint=settings.make_adjoint(), throw=False,
        )
        ys = sol.ys
        last = jax.tree.map(lambda a: a[-1], ys[0] if isinstance(ys, (list, tuple)) else ys)
        last_flat = last if ravel else ravel_pytree(last)[0]
        return sol.stats["num_steps"], last_flat, sol.stats["num_accepted_steps"]

    return jax.jit(solve)


def time_variant(fn, params, inputs, repeats):
    t = time.perf_counter()
    out = jax.block_until_ready(fn(params, inputs))
    compile_s = time.perf_counter() - t
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(fn(params, inputs))
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return compile_s, walls, cpus, out


VARIANTS = {
    # name: (ravel, lookup, saveat, jumps, solver)
    "baseline": (False, "searchsorted", "full", "all", "tsit5"),
    "lookup_compare_all": (False, "compare_all_sum", "full", "all", "tsit5"),
    "lookup_scan_unrolled": (False, "scan_unrolled", "full", "all", "tsit5"),
    "ravel": (True, "searchsorted", "full", "all", "tsit5"),
    "saveat_grid": (False, "searchsorted", "grid", "all", "tsit5"),
    "saveat_t1": (False, "searchsorted", "t1", "all", "tsit5"),
    "no_jumps": (False, "searchsorted", "full", "none", "tsit5"),
    "lookup_masked_sum": (False, "masked_sum", "full", "all", "tsit5"),
    "ravel+compare_all": (True, "compare_all_sum", "full", "all", "tsit5"),
    "ravel+masked_sum": (True, "masked_sum", "full", "all", "tsit5"),
    "ravel+masked_sum+t1": (True, "masked_sum", "t1", "all", "tsit5"),
    "dopri5": (False, "searchsorted", "full", "all", "dopri5"),
}


def rhs_cost(params, inputs, ravel: bool, lookup: str, n_evals: int = 2000):
    """Seconds per vector-field evaluation inside a compiled loop (no solver around it)."""
    with feed_lookup(lookup):
        y0 = initial_state(params, inputs)
        flat0, unravel = ravel_pytree(y0)

        @jax.jit
        def loop(y):
            def body(i, y):
                t = 0.013 * i
                if ravel:
                    dy = ravel_pytree(vector_field(t, unravel(y), (params, inputs)))[0]
                    return y + 1e-9 * dy
                st = unravel(y)
                dy = vector_field(t, st, (params, inputs))
                return ravel_pytree(jax.tree.map(lambda a, b: a + 1e-9 * b, st, dy))[0]

            return jax.lax.fori_loop(0, n_evals, body, y)

        jax.block_until_ready(loop(flat0))
        best = np.inf
        for _ in range(3):
            t = time.process_time()
            jax.block_until_ready(loop(flat0))
            best = min(best, time.process_time() - t)
    return best / n_evals


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    from common import machine_info, write_json  # noqa: E402

    params = Params.nominal()
    inputs = make_inputs(regular_feeds(args.days, 10), args.days)
    ref_state = None
    rows = {}
    for name, (ravel, lookup, saveat, jumps, solver) in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        settings = SolverSettings(solver=solver)
        with feed_lookup(lookup):
            fn = make_solver_fn(ravel, saveat, jumps, settings)
            compile_s, walls, cpus, (steps, last, accepted) = time_variant(fn, params, inputs, args.repeats)
        last = np.asarray(last)
        if ref_state is None:
            ref_state = last
        rel = float(np.max(np.abs(last - ref_state) / (np.abs(ref_state) + 1e-6)))
        steps = int(steps)
        row = dict(
            ravel=ravel, lookup=lookup, saveat=saveat, jumps=jumps, solver=solver,
            compile_s=compile_s, wall_median_s=float(np.median(walls)), wall_min_s=float(np.min(walls)),
            cpu_median_s=float(np.median(cpus)), cpu_min_s=float(np.min(cpus)), num_steps=steps,
            num_accepted=int(accepted), us_per_step_cpu_min=1e6 * float(np.min(cpus)) / steps,
            max_rel_diff_final_state_vs_baseline=rel,
        )
        rows[name] = row
        print(f"{name:24s} steps={steps:6d} compile={compile_s:6.1f}s cpu_min={row['cpu_min_s']:.3f}s "
              f"wall_med={row['wall_median_s']:.3f}s us/step={row['us_per_step_cpu_min']:.1f} d={rel:.1e}", flush=True)
    rhs = {}
    if not args.only or "rhs" in args.only:
        for ravel in (False, True):
            for lookup in ("searchsorted", "compare_all_sum", "masked_sum"):
                us = 1e6 * rhs_cost(params, inputs, ravel, lookup)
                rhs[f"ravel={ravel},lookup={lookup}"] = us
                print(f"RHS eval ravel={ravel} lookup={lookup}: {us:.2f} us", flush=True)
    write_json(args.out or "profile_solve_variants",
               dict(settings=dict(days=args.days, feeds_per_day=10, n_glands=2, repeats=args.repeats,
                                  rtol=1e-6, atol=1e-6),
                    variants=rows, rhs_us_per_eval=rhs, machine=machine_info()))


if __name__ == "__main__":
    main()
