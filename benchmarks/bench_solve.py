"""Benchmark 1 - one solve: a 30-day, 2-gland simulation with 10 feeds/day, after
compilation, against SciPy solve_ivp (LSODA, BDF) on the same vector field at the same
tolerances (SciPy gets a jitted RHS and a jitted jacfwd Jacobian and is solved segment by
segment between feed boundaries; see benchmarks/peers.py). Both are checked against a
tight-tolerance diffrax reference (Tsit5, rtol = atol = 1e-10) on daily intake and daily
mean sodium / lactose / protein.

  .venv/bin/python benchmarks/bench_solve.py [--quick] [--repeats N] [--scipy-repeats N]
Writes benchmarks/results/solve_<backend>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import common  # noqa: E402
from peers import ScipyModel, daily_observables, max_rel_errors, timed_scipy_solve  # noqa: E402

NAME = "solve"


def run(quick: bool = False, repeats: int | None = None, scipy_repeats: int | None = None,
        methods=("LSODA", "BDF")) -> dict:
    import lactojax  # noqa: F401
    from lactojax.inputs import make_inputs, regular_feeds
    from lactojax.parameters import Params
    from lactojax.simulate import simulate
    from lactojax.solver import SolverSettings

    days = 1 if quick else 30
    repeats = repeats or (2 if quick else 5)
    scipy_repeats = scipy_repeats or (1 if quick else 3)
    rtol = atol = 1e-6
    params = Params.nominal()
    inputs = make_inputs(regular_feeds(days, 10, n_glands=2), days)
    settings = SolverSettings(method="adaptive", rtol=rtol, atol=atol)  # diffrax vs SciPy: the adaptive path
    n_jumps = int(np.sum(np.asarray(inputs.jump_times()) < inputs.horizon_h))

    # --- diffrax (lactojax.simulate) -------------------------------------------------
    t = time.perf_counter()
    traj = jax.block_until_ready(simulate(params, inputs, settings))
    first_call_s = time.perf_counter() - t
    timing = common.time_call(simulate, params, inputs, settings, repeats=repeats, warmup=0)
    traj = timing.pop("result")
    steps = int(traj.num_steps)

    # --- references -----------------------------------------------------------------
    # Full mode: diffrax Tsit5 at rtol = atol = 1e-10, cross-checked against SciPy LSODA at
    # 1e-10 (an independent integrator). Quick mode: only the LSODA one (no extra compile).
    model = ScipyModel(params, inputs)
    model.warmup(jacobian=any(m != "LSODA" for m in methods))
    t = time.perf_counter()
    lsoda_ref_traj = model.trajectory(*model.solve("LSODA", 1e-10, 1e-10)[:3])
    lsoda_ref_s = time.perf_counter() - t
    lsoda_ref = daily_observables(lsoda_ref_traj, params, inputs)
    if quick:
        ref, ref_name, ref_info = lsoda_ref, "SciPy LSODA rtol=atol=1e-10 (quick mode)", dict(wall_s=lsoda_ref_s)
    else:
        ref_settings = SolverSettings(method="adaptive", rtol=1e-10, atol=1e-10, max_steps=2_000_000)
        t = time.perf_counter()
        ref_traj = jax.block_until_ready(simulate(params, inputs, ref_settings))
        ref = daily_observables(ref_traj, params, inputs)
        ref_name = "diffrax Tsit5 rtol=atol=1e-10 (lactojax.simulate)"
        ref_info = dict(num_steps=int(ref_traj.num_steps), first_call_s=time.perf_counter() - t,
                        lsoda_1e10_max_rel_diff_vs_this_reference=max_rel_errors(lsoda_ref, ref),
                        lsoda_1e10_wall_s=lsoda_ref_s)
    diffrax_err = max_rel_errors(daily_observables(traj, params, inputs), ref)

    result = {
        "settings": dict(days=days, feeds_per_day=10, n_glands=2, rtol=rtol, atol=atol, solver=settings.solver,
                         save_every_h=settings.save_every_h, n_jump_times=n_jumps, repeats=repeats,
                         scipy_repeats=scipy_repeats, quick=quick,
                         reference=ref_name,
                         accuracy_metric="max over days of |x - ref| / |ref| per daily observable",
                         persistent_compilation_cache=bool(jax.config.jax_compilation_cache_dir)),
        "reference": ref_info,
        "diffrax": dict(first_call_s=first_call_s, wall_s=timing["wall"], cpu_s=timing["cpu"], num_steps=steps,
                        us_per_step=1e6 * timing["wall"]["median"] / steps,
                        max_rel_err_vs_reference=diffrax_err),
        "scipy": {},
    }

    # --- SciPy peers ----------------------------------------------------------------
    for method in methods:
        walls, cpus, (grid, starts, ends, info) = timed_scipy_solve(model, method, rtol, atol, scipy_repeats)
        sp_traj = model.trajectory(grid, starts, ends)
        err = max_rel_errors(daily_observables(sp_traj, params, inputs), ref)
        result["scipy"][method] = dict(wall_s=common.summarize(walls), cpu_s=common.summarize(cpus), **info,
                                       max_rel_err_vs_reference=err)
        print(f"[solve] SciPy {method}: {np.median(walls):.2f} s (cpu {np.median(cpus):.2f} s) {info}", flush=True)

    ok = [m for m, r in result["scipy"].items() if r["ok"]]
    if ok:
        best = min(ok, key=lambda m: result["scipy"][m]["wall_s"]["median"])
        med = result["diffrax"]["wall_s"]["median"]
        result["comparison"] = dict(
            best_scipy_method=best,
            speedup_vs_best_scipy_wall=result["scipy"][best]["wall_s"]["median"] / med,
            speedup_vs_best_scipy_cpu=result["scipy"][best]["cpu_s"]["median"] / result["diffrax"]["cpu_s"]["median"],
            speedup_vs_each_wall={m: result["scipy"][m]["wall_s"]["median"] / med for m in ok},
            target_speedup=10.0,
        )
        result["comparison"]["target_met"] = result["comparison"]["speedup_vs_best_scipy_wall"] >= 10.0
    print(f"[solve] diffrax {result['diffrax']['wall_s']['median']:.3f} s, {steps} steps; "
          f"{result.get('comparison', {})}", flush=True)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--scipy-repeats", type=int, default=None)
    ap.add_argument("--methods", nargs="+", default=None, help="SciPy methods (default LSODA BDF; quick: LSODA)")
    args = ap.parse_args(argv)
    methods = tuple(args.methods or (["LSODA"] if args.quick else ["LSODA", "BDF"]))
    res = run(args.quick, args.repeats, args.scipy_repeats, methods)
    path = common.write_json(NAME + ("_quick" if args.quick else ""), res)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
