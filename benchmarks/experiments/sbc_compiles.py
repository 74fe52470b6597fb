"""Compilations during 10 SBC replicates (`calibration.sbc_ranks`, Laplace), counted from
JAX's 'Compiling' log records (jax_log_compiles) after a warm-up run of the same shapes.
Runs on this tree, or on a checkout from before the FitProblem pytree (issue 10) with
`PYTHONPATH=<old>/src`, to compare. `--list` prints each compilation.

Measured 2026-11-29 on the shared 2-core CPU (2-day, 2-parameter problem, 5 MAP steps):
before (360228b) 21 compilations (2 per replicate: each replicate built a new LogDensity,
whose jitted closures held the data as constants, and a new Adam step), 215 s; after, 0
compilations, 30 s.
"""
import logging, sys, time
import numpy as np
import lactojax
if hasattr(lactojax, "enable_x64"):
    lactojax.enable_x64()
import jax
new = hasattr(lactojax, "enable_x64")
from lactojax.inference.priors import PriorSet
from lactojax.inference.problem import design_inputs, synthetic_rows
from lactojax.inference.calibration import sbc_ranks
from lactojax.parameters import Params
from lactojax.solver import SolverSettings
NAMES = ("lactose_vmax_mmol_h", "tj_tau_h")
DESIGN = dict(feeds_per_day=10, feed_duration_min=15, n_glands=2, both_sides=True, night_feeds=True)
spec = [(o, 24 * d, 24 * d + 24) for d in range(2) for o in ("milk_intake_24h", "milk_sodium")]
rows = synthetic_rows(spec).assign(value=1.0, scale=0.05, sd=0.05)
settings = SolverSettings(rtol=1e-4, atol=1e-4, throw=False)
if new:
    from lactojax.inference.problem import group_problem
    problem = group_problem(rows, NAMES, PriorSet.from_table(NAMES), Params.nominal("human"),
                            design_inputs(DESIGN, 2), settings).problem
else:
    from lactojax.datasets.vocabulary import default_noise_sigma
    from lactojax.inference.problem import FitProblem
    problem = FitProblem(names=NAMES, prior=PriorSet.from_table(NAMES), base=Params.nominal("human"),
                         inputs=design_inputs(DESIGN, 2), settings=settings, rows=rows, excluded=rows.iloc[:0],
                         noise_sigma=default_noise_sigma())
count = [0]
class H(logging.Handler):
    def emit(self, r):
        if "Compiling" in r.getMessage() or "compiling" in r.getMessage().lower():
            count[0] += 1; print("C:", r.getMessage()[:110]) if "--list" in sys.argv else None
jax.config.update("jax_log_compiles", True)
logging.getLogger("jax").addHandler(H()); logging.getLogger("jax").setLevel(logging.WARNING)
sbc_ranks(problem, n_sims=10, n_draws=9, method="laplace", seed=5, map_steps=5)  # warm-up: same shapes
c0, t0 = count[0], time.time()
r = sbc_ranks(problem, n_sims=10, n_draws=9, method="laplace", seed=0, map_steps=5)
print(("new" if new else "old"), "compilations during 10 replicates:", count[0] - c0, "wall", round(time.time() - t0, 1), "s", r.shape)
