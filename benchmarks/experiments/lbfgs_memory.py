"""L-BFGS memory on the milkman MAP problem fitted to day 60 (9 lactations, d = 120): the same
Adam start (100 steps), then L-BFGS with each memory; prints the best log-density by evaluations.

  .venv/bin/python benchmarks/experiments/lbfgs_memory.py 700 60 10,50,120   # ~8 min on 2 cores
"""
import sys, time, functools
import numpy as np
import lactojax; lactojax.enable_x64()
from lactojax.inference.config import load_config
from lactojax.inference.adapter import problem_from_config
from lactojax.inference import density
from lactojax.inference.map import _lbfgs
from lactojax.inference.runner import map_fit

iters = int(sys.argv[1]) if len(sys.argv) > 1 else 200
until = int(sys.argv[2]) if len(sys.argv) > 2 else 60
cfg = load_config("fits/dairy_milkman_map.toml").with_overrides(until_day=until)
data = problem_from_config(cfg)
p = data.problem
print("d =", p.dim, "rows", len(data.rows), flush=True)
t = time.perf_counter()
res = map_fit(p, starts=1, steps=100, learning_rate=0.05, seed=0, hessian=False, lbfgs_steps=0)
print(f"adam: logp {res.logp:.2f} gnorm {res.grad_norm:.1f} {time.perf_counter()-t:.0f}s", flush=True)
vg = functools.partial(density.value_and_grad_many, p, batch=1)
for mem in [int(m) for m in (sys.argv[3] if len(sys.argv) > 3 else "10,50").split(",")]:
    t = time.perf_counter()
    hist = []
    def vg_log(z):
        v, g = vg(z)
        hist.append(float(np.asarray(v)[0]))
        return v, g
    z, rep = _lbfgs(vg_log, np.asarray(res.z), iters, memory=mem)
    best = np.maximum.accumulate(np.where(np.isfinite(hist), hist, -np.inf))
    marks = [best[min(i, len(best) - 1)] for i in (100, 200, 300, 400, 500, 600, 700) if i < len(best)]
    print(f"memory {mem}: logp {-rep['neg_logp']:.2f} gnorm {rep['grad_norm']:.2f} it {rep['iterations']} "
          f"evals {rep['n_evals']} {rep['message']} {time.perf_counter()-t:.0f}s; best by evaluation 100/200/../700: "
          + " ".join(f"{m:.1f}" for m in marks), flush=True)
