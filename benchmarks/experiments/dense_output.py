"""What the hourly outputs cost the fit gradient: the 8-parameter fit gradient of
bench_long (FIT_NAMES) of three losses, against the solve, with one `dense_output` setting:
the benchmark's (daily milk removed + daily sodium), the sum of every hourly state, and the
sum of the states at session ends (grid points: no dense output). Median of 5 after
compilation, one process.

  .venv/bin/python benchmarks/experiments/dense_output.py DAYS [mother|cow] [step|extension]

Measured 2026-12-02 (2-core CPU), mother, 60 days: with 'extension' (stages stored, the
default until then) the gradients took 573 / 555 / 298 ms against a 74-ms solve (7.7x for
the benchmark's loss); with 'step' 304 / 311 / 297 ms against 75 ms (4.0x). 365 days,
'step': 1.85 s against a 399-ms solve (4.6x; 'extension' 3.2 s against 0.48 s the same day).
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import bench_long  # noqa: E402
from lactojax.simulate import simulate  # noqa: E402
from lactojax.solver import SolverSettings  # noqa: E402

days = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
case = sys.argv[2] if len(sys.argv) > 2 else "mother"
dense = sys.argv[3] if len(sys.argv) > 3 else "step"
params, inputs = bench_long._case(case, days)
settings = SolverSettings.for_species("cow" if case == "cow" else "human", dense_output=dense)
names = list(bench_long.FIT_NAMES)
theta0 = params.subset_vector(names)


def trajectory(th):
    return simulate(params.with_vector(names, th), inputs, settings)


losses = {"daily (benchmark)": lambda th: bench_long.benchmark_loss(params.with_vector(names, th), inputs, settings),
          "hourly states": lambda th: sum(jnp.sum(x) for x in jax.tree.leaves(trajectory(th).states)),
          "session ends": lambda th: sum(jnp.sum(x) for x in jax.tree.leaves(trajectory(th).feed_end))}


def median_time(fn, n=5):
    jax.block_until_ready(fn(theta0))
    times = []
    for _ in range(n):
        t = time.perf_counter()
        jax.block_until_ready(fn(theta0))
        times.append(time.perf_counter() - t)
    return float(np.median(times))


solve = median_time(jax.jit(trajectory))
for name, loss in losses.items():
    grad = median_time(jax.jit(jax.grad(loss)))
    print(f"{case} {days:.0f} d, dense_output={dense}, {name}: gradient {grad * 1e3:.0f} ms, "
          f"solve {solve * 1e3:.0f} ms, ratio {grad / solve:.1f}", flush=True)
