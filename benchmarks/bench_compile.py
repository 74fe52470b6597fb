"""Benchmark 4 - compile time of `simulate` and of a gradient through it (target < 60 s
each on CPU), each measured in a fresh Python process with JAX's persistent compilation
cache switched off, split into trace + lower (Python / JAX) and XLA compile.

Targets:
- simulate: `lactojax.simulate` for a 30-day, 2-gland, 10 feeds/day design (default solver
  settings);
- gradient: `jax.value_and_grad` of the 30-day synthetic log-likelihood of benchmark 2
  (reverse mode through diffrax, six parameters);
- default_fit_gradient (when `lactojax.inference` is importable): the default fit's
  `density.value_and_grad` (jitted).

  .venv/bin/python benchmarks/bench_compile.py [--quick] [--repeats N]
Writes benchmarks/results/compile_<backend>.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

NAME = "compile"
TARGET_S = 60.0
TARGETS = ("simulate", "gradient", "default_fit_gradient")
# experimental: the same with the flat-state simulate proposed in benchmarks/experiments/simulate_flat.py
EXPERIMENTAL_TARGETS = ("simulate_flat", "gradient_flat")


def child(target: str, days: int) -> dict:
    """Runs in a fresh process: trace+lower and compile one target, print JSON."""
    os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
    import jax

    jax.config.update("jax_enable_compilation_cache", False)
    import jax.numpy as jnp

    import lactojax

    lactojax.enable_x64()

    if target.endswith("_flat"):
        sys.path.insert(0, str(HERE / "experiments"))
        sim_mod = importlib.import_module("lactojax.simulate")  # the module (lactojax.simulate is the function)
        from simulate_flat import simulate_flat

        sim_mod.simulate = simulate_flat
        target = target[: -len("_flat")]
    from lactojax.inputs import make_inputs, regular_feeds
    from lactojax.parameters import Params
    from lactojax.simulate import simulate
    from lactojax.solver import SolverSettings

    if target == "simulate":
        params = Params.nominal()
        inputs = make_inputs(regular_feeds(days, 10, n_glands=2), days)
        fn = jax.jit(lambda p, i: simulate(p, i, SolverSettings(method="adaptive")))
        args = (params, inputs)
    elif target == "gradient":
        from bench_gradient import synthetic_problem

        loglik, grads, _, z0, _ = synthetic_problem(days, modes=())
        fn = jax.jit(jax.value_and_grad(loglik))
        args = (jnp.asarray(z0),)
    elif target == "default_fit_gradient":
        from bench_gradient import default_fit_problem

        _, grads, _, z0, _ = default_fit_problem(quick=days < 10)
        fn = next(iter(grads.values()))
        args = (jnp.asarray(z0),)
    else:
        raise ValueError(target)
    t0 = time.perf_counter()
    lowered = fn.lower(*args)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    t2 = time.perf_counter()
    out = jax.block_until_ready(compiled(*args))
    t3 = time.perf_counter()
    del out
    return dict(trace_lower_s=t1 - t0, xla_compile_s=t2 - t1, total_s=t2 - t0, first_run_s=t3 - t2)


def run(quick=False, repeats=None, targets=TARGETS) -> dict:
    import common

    days = 1 if quick else 30
    repeats = repeats or (1 if quick else 3)
    result = dict(settings=dict(days=days, repeats=repeats, quick=quick, persistent_cache="disabled",
                                process="fresh Python process per measurement", target_s=TARGET_S),
                  targets={})
    for target in targets:
        samples, err = [], None
        for _ in range(repeats):
            env = dict(os.environ)
            env.pop("JAX_COMPILATION_CACHE_DIR", None)
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", target, "--days", str(days)],
                                  capture_output=True, text=True, env=env, timeout=1800)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not lines:
                err = (proc.stderr or proc.stdout)[-1500:]
                break
            samples.append(json.loads(lines[-1]))
        if not samples:
            reason = "inference package not available" if "ModuleNotFoundError" in (err or "") or "ImportError" in (err or "") else "error"
            result["targets"][target] = dict(skipped=f"skipped: {reason}", detail=err)
            print(f"[compile] {target}: skipped ({reason})", flush=True)
            continue
        row = {k: common.summarize([s[k] for s in samples]) for k in samples[0]}
        row["target_s"] = TARGET_S
        row["target_met"] = bool(row["total_s"]["median"] < TARGET_S)
        result["targets"][target] = row
        print(f"[compile] {target}: trace+lower {row['trace_lower_s']['median']:.1f} s + XLA "
              f"{row['xla_compile_s']['median']:.1f} s = {row['total_s']['median']:.1f} s", flush=True)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--targets", nargs="+", default=list(TARGETS), choices=TARGETS + EXPERIMENTAL_TARGETS)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--days", type=int, default=30, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.days)))
        return
    import common

    res = run(args.quick, args.repeats, tuple(args.targets))
    name = NAME + ("_quick" if args.quick else "")
    if set(args.targets) <= set(EXPERIMENTAL_TARGETS):
        name = "profile_compile_flat" + ("_quick" if args.quick else "")
    print(f"wrote {common.write_json(name, res)}")


if __name__ == "__main__":
    main()
