"""Does a solve's time depend on what ran just before it? The 305-day cow on its session grid
(the default), timed in rounds three ways in one process: alone (solve after solve), each
round after the 8-parameter fit gradient (as bench_long's per-path blocks time it), and each
round after the adaptive solve (paired rounds, as a solve-vs-solve ratio would be timed).
Prints median and range (ms) per way and the paired adaptive / sessions ratio.

Two runs on 2026-12-02 (7 rounds each): alone 93 / 122 ms, after the gradient 89 / 90 ms,
after the adaptive solve 88 / 87 ms (paired ratio 24.8x both times): what precedes the solve
does not slow it; the spread between runs is the machine's drift.

  .venv/bin/python benchmarks/experiments/solve_neighbours.py [rounds]   # ~2 min on 2 cores
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import bench_long  # noqa: E402
import common  # noqa: E402,F401  (its import fixes the allocator, as in the benchmarks)
from lactojax.simulate import simulate  # noqa: E402
from lactojax.solver import SolverSettings  # noqa: E402

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
params, inputs = bench_long._case("cow", 305.0)
sessions = SolverSettings.for_species("cow")
adaptive = SolverSettings(method="adaptive", max_steps=1_000_000)
names = list(bench_long.FIT_NAMES)
theta0 = params.subset_vector(names)


grad = jax.jit(jax.grad(lambda th: bench_long.benchmark_loss(params.with_vector(names, th), inputs, sessions)))
solve = lambda s: jax.block_until_ready(simulate(params, inputs, s))
solve(sessions), solve(adaptive), jax.block_until_ready(grad(theta0))


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


ways = {"alone": lambda: None, "after the fit gradient": lambda: jax.block_until_ready(grad(theta0)),
        "after the adaptive solve": lambda: solve(adaptive)}
for way, before in ways.items():
    ts, ratios = [], []
    for _ in range(rounds):
        ta = timed(before)
        ts.append(timed(lambda: solve(sessions)))
        ratios.append(ta / ts[-1])
    ms = np.asarray(ts) * 1e3
    extra = f"; adaptive / sessions per round, median {np.median(ratios):.1f}x" if "adaptive" in way else ""
    print(f"{way}: median {np.median(ms):.0f} ms (range {ms.min():.0f}-{ms.max():.0f}){extra}", flush=True)
