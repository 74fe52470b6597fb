"""Benchmark 6 - hierarchical dairy fit: time per gradient of the full herd log-density
(the `milkman` lactations, `lactojax.inference.problem.hierarchical_problem`) against
the number of lactations included (1 ... all 288), CPU and GPU.

The timed function is what NUTS evaluates at every leapfrog step: the guarded value and
gradient of `density.log_density` of the hierarchical problem (population means and
spreads, non-centred subject effects, every subject's records through one vmapped
`simulate`), at the starting point (population at the nominal values, spread 0.1, every
subject at the centre). Records up to `--days` after calving (default: the whole 305-day
lactation), twice-daily milkings as in the dataset design, the session solver (the default
`SolverSettings`: the same steps for every lane of the vmapped herd). `--adaptive-sizes`
also times the previous path (adaptive Tsit5, rtol = atol = 1e-4) at those sizes in the
same run, side by side.

When `lactojax.inference` is not importable the JSON says
'skipped: inference package not available'.

  .venv/bin/python benchmarks/bench_herd.py [--quick] [--sizes 1 4 ...] [--days D]
Writes benchmarks/results/herd_<backend>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAME = "herd"
ALL_LACTATIONS = 288
DATASET = "milkman"
# the parameters of the hierarchical smoke test (tests/test_inference_hierarchical.py)
ESTIMATE = ("lactose_vmax_mmol_h", "secreted_fat_g_l")


def _skip(reason, exc=None):
    out = {"skipped": f"skipped: {reason}" + (f" ({exc!r})" if exc else "")}
    if exc is not None:
        out["traceback"] = traceback.format_exc()[-2000:]
    print(f"[herd] {out['skipped']}", flush=True)
    return out


def potential_value_and_grad(problem):
    """Jitted (value, grad) of the potential -log_density of a problem, and its start point."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from lactojax.inference import density

    x0 = jnp.asarray(density.embed(problem, np.asarray(problem.prior.nominal_z())))
    return jax.jit(jax.value_and_grad(lambda x: -density.log_density(problem, x))), x0


def _synthetic_cohort(n, days):
    """Quick mode: n cows with one record per milking (model units, value 1), no dataset."""
    import numpy as np
    import pandas as pd

    from lactojax.inference.problem import cow_inputs

    inputs = cow_inputs(days)
    starts = np.asarray(inputs.feeds.start_h)
    starts = starts[starts < inputs.horizon_h]
    rows = [dict(subject=f"cow{i}", observable=obs, t_start_h=t - 12, t_end_h=t, value=1.0)
            for i in range(n) for t in starts[1:] for obs in ("milk_yield_per_milking", "fat_pct")]
    return pd.DataFrame(rows), {f"cow{i}": inputs for i in range(n)}


def _time_sizes(sizes, days, quick, repeats, estimate, settings, label) -> dict:
    import jax
    import numpy as np

    from lactojax.inference.problem import dataset_cohort, hierarchical_problem

    rows = {}
    for n in sizes:
        rep = repeats or (1 if quick else (3 if n <= 16 else 2))
        t = time.perf_counter()
        table, inputs = _synthetic_cohort(n, days) if quick else dataset_cohort([DATASET], days, max_subjects=n)
        data = hierarchical_problem(table, inputs, estimate, species="cow", settings=settings)
        build_s = time.perf_counter() - t
        vg, z0 = potential_value_and_grad(data.problem)
        t = time.perf_counter()
        v, g = jax.block_until_ready(vg(z0))
        first = time.perf_counter() - t
        tm = common.time_call(vg, z0, repeats=rep, warmup=0)
        tm.pop("result")
        n_grad = int(sum(np.size(x) for x in jax.tree.leaves(g)))
        finite = bool(np.isfinite(float(v)) and all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(g)))
        rows[str(n)] = dict(n_lactations=int(data.problem.n_subjects), n_records=int(len(data.rows)),
                            n_unconstrained_params=n_grad, build_s=build_s, first_call_s=first,
                            wall_s=tm["wall"], cpu_s=tm["cpu"], per_lactation_s=tm["wall"]["median"] / int(data.problem.n_subjects),
                            potential=float(v), finite=finite,
                            device_peak_mb=common.device_peak_memory_mb(), peak_rss_process_mb=common.peak_rss_mb())
        print(f"[herd {label}] {n} lactations ({len(data.rows)} records): {tm['wall']['median']:.3f} s per "
              f"gradient (first call {first:.1f} s)", flush=True)
    return rows


def run(quick=False, sizes=None, repeats=None, days=None, estimate=ESTIMATE, adaptive_sizes=None) -> dict:
    try:
        import lactojax.datasets as datasets
        from lactojax.inference.problem import dataset_cohort  # noqa: F401
    except ImportError as e:
        return _skip("inference package not available", e)
    import functools

    # dataset_cohort loads the dataset on every call (674k rows): load it once
    if not isinstance(datasets.load_dataset, functools._lru_cache_wrapper):
        datasets.load_dataset = functools.lru_cache(maxsize=4)(datasets.load_dataset)

    from lactojax.solver import SolverSettings

    days = days or (2 if quick else 305)
    sizes = sizes or ([2] if quick else [1, 16, 64, ALL_LACTATIONS])
    adaptive_sizes = ([2] if quick else [1, 16]) if adaptive_sizes is None else adaptive_sizes
    rows = _time_sizes(sizes, days, quick, repeats, estimate, SolverSettings.for_species("cow", throw=False),
                       "sessions")
    previous = _time_sizes(adaptive_sizes, days, quick, repeats, estimate,
                           SolverSettings(method="adaptive", rtol=1e-4, atol=1e-4, max_steps=500_000, throw=False),
                           "adaptive")
    speedup = {n: previous[n]["wall_s"]["median"] / rows[n]["wall_s"]["median"] for n in previous if n in rows}
    return dict(settings=dict(quick=quick, sizes=sizes, days=days,
                              dataset="synthetic records (quick mode)" if quick else DATASET, estimate=list(estimate),
                              solver="SolverSettings.for_species('cow') (session solver, the cow's grid); adaptive: tsit5 rtol=atol=1e-4",
                              timed="jax.value_and_grad of -density.log_density at the start point"),
                sizes=rows, adaptive=previous, speedup_wall=speedup)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", type=int, nargs="+", default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--days", type=float, default=None)
    ap.add_argument("--adaptive-sizes", type=int, nargs="*", default=None,
                    help="sizes also timed on the adaptive path (default 1 16; none: skip)")
    args = ap.parse_args(argv)
    try:
        res = run(args.quick, args.sizes, args.repeats, args.days, adaptive_sizes=args.adaptive_sizes)
    except Exception as e:  # noqa: BLE001 - recorded in the JSON
        res = _skip("error while running", e)
    print(f"wrote {common.write_json(NAME + ('_quick' if args.quick else ''), res)}")


if __name__ == "__main__":
    main()
