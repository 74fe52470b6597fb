"""Accuracy of session-solver grids on 50 prior draws (the slow test's draws, seed 11) against
the adaptive reference at rtol = atol = 1e-8: steps, draws off target (1 % daily, 2 % per
session) and the largest errors. The numbers of README "Why these grid settings".

  .venv/bin/python benchmarks/experiments/grid_accuracy.py cow 305 "[{}, dict(session_steps=3)]"
  .venv/bin/python benchmarks/experiments/grid_accuracy.py mother 365 "[{}]"

The reference solves are cached in /tmp/lactojax_refs_<case>_<days>.pkl (delete it after a
model change). ~10 min for the mother's references on 2 cores.
"""

import os
import pickle
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from lactojax.inference.priors import PriorSet  # noqa: E402
from lactojax.inputs import make_inputs, milkings, regular_feeds  # noqa: E402
from lactojax.parameters import PARAMETER_TABLE, Params  # noqa: E402
from lactojax.sessions import agreement  # noqa: E402
from lactojax.simulate import simulate  # noqa: E402
from lactojax.solver import SolverSettings  # noqa: E402

case, days, grids = sys.argv[1], float(sys.argv[2]), eval(sys.argv[3])  # noqa: S307 (a CLI for developers)
n, chunk = 50, 25
if case == "cow":
    params, inputs = Params.nominal("cow"), make_inputs(milkings(days, n_glands=4), days)
else:
    params, inputs = Params.nominal(), make_inputs(regular_feeds(days, 10, n_glands=2), days)
names = [s.name for s in PARAMETER_TABLE]
theta = np.asarray(PriorSet.from_table(names, species="cow" if case == "cow" else "human")
                   .sample_theta(jax.random.PRNGKey(11), (n,)))
mk = lambda th: params.with_vector(names, th)  # noqa: E731
path = f"/tmp/lactojax_refs_{case}_{days:.0f}.pkl"
if os.path.exists(path):
    refs = pickle.load(open(path, "rb"))
else:
    ref_s = SolverSettings(method="adaptive", rtol=1e-8, atol=1e-8, max_steps=5_000_000, throw=False)
    solve = jax.jit(jax.vmap(lambda th: simulate(mk(th), inputs, ref_s)))
    parts = [jax.tree.map(np.asarray, solve(jnp.asarray(theta[c:c + chunk]))) for c in range(0, n, chunk)]
    refs = jax.tree.map(lambda *x: np.concatenate(x), *parts)
    pickle.dump(refs, open(path, "wb"))
for kw in grids:
    fast_s = SolverSettings(**kw)
    solve = jax.jit(jax.vmap(lambda th: simulate(mk(th), inputs, fast_s)))
    parts = [jax.tree.map(np.asarray, solve(jnp.asarray(theta[c:c + chunk]))) for c in range(0, n, chunk)]
    fast = jax.tree.map(lambda *x: np.concatenate(x), *parts)
    off, worst_d, worst_s, skipped = [], 0.0, 0.0, 0
    for i in range(n):
        ref = jax.tree.map(lambda x: x[i], refs)
        if not bool(ref.success):
            skipped += 1
            continue
        a = agreement(ref, jax.tree.map(lambda x: x[i], fast), mk(jnp.asarray(theta[i])), inputs)
        worst_d, worst_s = max(worst_d, a["daily_max"]), max(worst_s, a["per_session_removed_ml"])
        if a["daily_max"] > 0.01 or a["per_session_removed_ml"] > 0.02:
            key = max((k for k in a if k not in ("daily_max", "per_session_removed_ml")), key=a.get)
            off.append(f"draw {i}: daily {a['daily_max'] * 100:.2f} % ({key}), per session "
                       f"{a['per_session_removed_ml'] * 100:.2f} %")
    print(f"{case} {kw}: {int(fast.num_steps[0])} steps; {len(off)} of {n - skipped} draws off target "
          f"({skipped} the reference could not solve); largest daily {worst_d * 100:.2f} %, per session "
          f"{worst_s * 100:.2f} %", flush=True)
    for line in off:
        print("   ", line)
