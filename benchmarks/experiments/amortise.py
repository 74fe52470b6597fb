"""Profiling experiment, part 2: batching (vmap) amortisation, float32, implicit solver on
the raveled state, tolerance vs step count vs accuracy, and where the steps are spent.

  .venv/bin/python benchmarks/experiments/amortise.py [--part vmap|f32|kvaerno|tol|steps ...]
Writes benchmarks/results/profile_amortise_<backend>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lactojax

lactojax.enable_x64()  # float64 model; importing lactojax does not switch it on

from lactojax.dynamics.vector_field import vector_field
from lactojax.inputs import make_inputs, regular_feeds
from lactojax.parameters import Params
from lactojax.solver import SolverSettings
from lactojax.state import initial_state

from solve_variants import feed_lookup, make_solver_fn


def cpu_time(fn, *args, repeats=3):
    jax.block_until_ready(fn(*args))
    best, walls = np.inf, []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(fn(*args))
        best = min(best, time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return best, float(np.median(walls)), out


def batched_params(n, seed=0):
    """n draws: +-20% lognormal jitter of a few influential parameters."""
    p = Params.nominal()
    names = ["lactose_vmax_mmol_h", "storage_capacity_ml", "tj_permeability_l_h", "infant_stomach_mature_ml"]
    rng = np.random.default_rng(seed)
    vals = {k: jnp.asarray(p[k] * np.exp(0.2 * rng.standard_normal(n))) for k in names}
    batched = {k: (vals[k] if k in vals else jnp.full((n,), v)) for k, v in p.values.items()}
    return Params(values=batched), names


def part_vmap(inputs, out):
    res = {}
    for ravel in (False, True):
        for n in (1, 10, 100):
            bp, _ = batched_params(n)
            fn = make_solver_fn(ravel, "full", "all", SolverSettings())
            vfn = jax.jit(jax.vmap(fn, in_axes=(0, None)))
            t = time.perf_counter()
            jax.block_until_ready(vfn(bp, inputs))
            comp = time.perf_counter() - t
            cpu, wall, (steps, _, _) = cpu_time(vfn, bp, inputs, repeats=2 if n == 100 else 3)
            steps = np.asarray(steps)
            # vmap over a while loop runs until every member is done: the loop trip count
            # is the max over the batch.
            row = dict(n=n, ravel=ravel, compile_s=comp, cpu_min_s=cpu, wall_median_s=wall,
                       steps_max=int(steps.max()), steps_mean=float(steps.mean()),
                       us_per_subject_step=1e6 * cpu / (n * steps.max()),
                       us_per_loop_iteration=1e6 * cpu / steps.max())
            res[f"ravel={ravel},n={n}"] = row
            print(row, flush=True)
    out["vmap"] = res


def part_f32(inputs, out):
    """float32 state, params, inputs and time (x64 stays enabled for everything else)."""
    p = Params.nominal()
    to32 = lambda tree: jax.tree.map(lambda a: jnp.asarray(a, jnp.float32) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating) else a, tree)
    res = {}
    for dtype in ("float64", "float32"):
        pp, ii = (p, inputs) if dtype == "float64" else (to32(p), to32(inputs))

        def solve(params, inp):
            y0 = initial_state(params, inp)
            flat0, unravel = ravel_pytree(y0)
            dt = flat0.dtype
            term = diffrax.ODETerm(lambda t, y, args: ravel_pytree(vector_field(t, unravel(y), args))[0].astype(dt))
            jumps = inp.jump_times().astype(dt)
            ctrl = diffrax.ClipStepSizeController(diffrax.PIDController(rtol=1e-6 if dtype == "float64" else 1e-5, atol=1e-6 if dtype == "float64" else 1e-5), jump_ts=jumps)
            sol = diffrax.diffeqsolve(term, diffrax.Tsit5(), t0=jnp.asarray(0.0, dt), t1=jnp.asarray(inp.horizon_h, dt),
                                      dt0=jnp.asarray(0.01, dt), y0=flat0, args=(params, inp),
                                      saveat=diffrax.SaveAt(t1=True), stepsize_controller=ctrl,
                                      max_steps=200_000, throw=False)
            return sol.stats["num_steps"], sol.ys[-1], sol.result == diffrax.RESULTS.successful

        fn = jax.jit(solve)
        try:
            cpu, wall, (steps, last, ok) = cpu_time(fn, pp, ii)
            res[dtype] = dict(cpu_min_s=cpu, wall_median_s=wall, steps=int(steps), ok=bool(ok),
                              us_per_step=1e6 * cpu / int(steps), tol=1e-6 if dtype == "float64" else 1e-5)
        except Exception as e:  # noqa: BLE001
            res[dtype] = dict(error=repr(e)[:500])
        print(dtype, res[dtype], flush=True)
    out["float32"] = res


def part_kvaerno(inputs, out):
    p = Params.nominal()
    res = {}
    for solver in ("kvaerno5", "kvaerno3"):
        fn = make_solver_fn(True, "t1", "all", SolverSettings(solver=solver))
        t = time.perf_counter()
        jax.block_until_ready(fn(p, inputs))
        comp = time.perf_counter() - t
        cpu, wall, (steps, _, acc) = cpu_time(fn, p, inputs, repeats=2)
        res[solver] = dict(ravel=True, compile_s=comp, cpu_min_s=cpu, wall_median_s=wall, steps=int(steps),
                           accepted=int(acc), us_per_step=1e6 * cpu / int(steps))
        print(solver, res[solver], flush=True)
    out["implicit_raveled"] = res


def _daily_obs(flat_grid, unravel, p, inputs):
    from lactojax import observation as obs
    from lactojax.simulate import Trajectory

    states = jax.vmap(unravel)(flat_grid)
    ts = jnp.arange(flat_grid.shape[0], dtype=float)
    kw = dict(ts=ts, states=states, feed_start=states, feed_end=states, success=jnp.asarray(True),
              num_steps=jnp.asarray(0))
    traj = Trajectory(**kw)
    d = obs.daily(traj, p, inputs)
    return {k: np.asarray(d[k]) for k in ("milk_intake_ml", "milk_sodium_mmol_l", "milk_lactose_g_l", "milk_protein_g_l")}


def part_tol(inputs, out):
    """Steps and accuracy of daily observables vs a tight reference, per tolerance."""
    p = Params.nominal()
    y0 = initial_state(p, inputs)
    _, unravel = ravel_pytree(y0)
    res = {}
    ref = None
    for rtol, atol in ((1e-10, 1e-10), (1e-8, 1e-8), (1e-6, 1e-6), (1e-5, 1e-6), (1e-4, 1e-6), (1e-4, 1e-4), (1e-3, 1e-4)):
        s = SolverSettings(rtol=rtol, atol=atol, max_steps=400_000)
        fn = make_solver_fn(True, "grid", "all", s)

        def grid(params, inp, fn=fn):
            return fn(params, inp)

        # make_solver_fn returns only the final state; re-solve to get the grid
        from lactojax.simulate import output_grid  # noqa: F401

        def solve_grid(params, inp, s=s):
            flat0, unr = ravel_pytree(initial_state(params, inp))
            term = diffrax.ODETerm(lambda t, y, a: ravel_pytree(vector_field(t, unr(y), a))[0])
            ts = jnp.arange(0.0, inp.horizon_h + 0.5, 1.0)
            sol = diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, inp.horizon_h, 0.01, flat0, args=(params, inp),
                                      saveat=diffrax.SaveAt(ts=ts),
                                      stepsize_controller=diffrax.ClipStepSizeController(
                                          diffrax.PIDController(rtol=s.rtol, atol=s.atol), jump_ts=inp.jump_times()),
                                      max_steps=s.max_steps, throw=False)
            return sol.ys, sol.stats["num_steps"]

        f = jax.jit(solve_grid)
        cpu, wall, (ys, steps) = cpu_time(f, p, inputs, repeats=1 if rtol < 1e-7 else 2)
        d = _daily_obs(ys, unravel, p, inputs)
        if ref is None:
            ref = d
        err = {k: float(np.max(np.abs(d[k] - ref[k]) / np.abs(ref[k]))) for k in d}
        res[f"rtol={rtol:g},atol={atol:g}"] = dict(rtol=rtol, atol=atol, steps=int(steps), cpu_min_s=cpu,
                                                   max_rel_err_vs_reference=err, reference="tsit5 rtol=atol=1e-10")
        print(rtol, atol, int(steps), f"{cpu:.3f}s", err, flush=True)
    out["tolerance"] = res


def part_steps(inputs, out):
    """Where the accepted steps are: inside removal sessions vs between them."""
    p = Params.nominal()
    flat0, unravel = ravel_pytree(initial_state(p, inputs))
    term = diffrax.ODETerm(lambda t, y, a: ravel_pytree(vector_field(t, unravel(y), a))[0])
    sol = diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, inputs.horizon_h, 0.01, flat0, args=(p, inputs),
                              saveat=diffrax.SaveAt(steps=True, t0=True),
                              stepsize_controller=diffrax.ClipStepSizeController(
                                  diffrax.PIDController(rtol=1e-6, atol=1e-6), jump_ts=inputs.jump_times()),
                              max_steps=100_000)
    ts = np.asarray(sol.ts)
    ts = ts[np.isfinite(ts)]
    dts = np.diff(ts)
    mids = 0.5 * (ts[1:] + ts[:-1])
    st, en = np.asarray(inputs.feeds.start_h), np.asarray(inputs.feeds.end_h)
    idx = np.searchsorted(st, mids, side="right") - 1
    inside = (idx >= 0) & (mids < en[np.clip(idx, 0, len(en) - 1)])
    # within 1 h after a session ends (oxytocin/prolactin decay tails)
    last_end = np.where(idx >= 0, en[np.clip(idx, 0, len(en) - 1)], -np.inf)
    tail = (~inside) & (mids - last_end < 1.0)
    day = (mids // 24).astype(int)
    per_day = np.bincount(day, minlength=30).tolist()
    res = dict(
        accepted_steps=int(len(dts)), num_steps=int(sol.stats["num_steps"]),
        in_sessions=int(inside.sum()), within_1h_after_session=int(tail.sum()),
        rest=int((~inside & ~tail).sum()),
        session_hours=float(np.sum(np.minimum(en, inputs.horizon_h) - np.minimum(st, inputs.horizon_h))),
        median_dt_in_sessions_h=float(np.median(dts[inside])), median_dt_rest_h=float(np.median(dts[~inside])),
        steps_per_day=per_day,
    )
    print(res, flush=True)
    out["step_distribution"] = res


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", nargs="*", default=["steps", "vmap", "f32", "tol", "kvaerno"])
    args = ap.parse_args(argv)
    from common import machine_info, read_json, write_json

    inputs = make_inputs(regular_feeds(30, 10), 30)
    import jax as _j

    prev = read_json("profile_amortise", _j.default_backend()) or {}
    out = {k: v for k, v in prev.items() if k not in ("benchmark", "schema_version", "machine", "versions", "command")}
    parts = {"steps": part_steps, "vmap": part_vmap, "f32": part_f32, "tol": part_tol, "kvaerno": part_kvaerno}
    for name in args.part:
        parts[name](inputs, out)
        write_json("profile_amortise", dict(out, machine=machine_info()))


if __name__ == "__main__":
    with feed_lookup("searchsorted"):
        main()
