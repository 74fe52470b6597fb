"""The change adopted in `lactojax.simulate._solve` (2026-11-21): integrate the state as ONE
flat float vector (`jax.flatten_util.ravel_pytree`) and unflatten the saved outputs, instead
of handing diffrax the State pytree (~30 leaves). This experiment keeps a copy of the
previous pytree solve (`simulate_pytree`) so that the comparison can be re-run.

Why: diffrax applies every per-step operation (the 7 Runge-Kutta stage combinations, the
error norm, the dense-output interpolation for each SaveAt) leaf by leaf; on the XLA CPU
backend each leaf op is its own small kernel. Measured with a trivial right-hand side of
the same size (experiments/overhead.py): ~87 us of solver overhead per step with 30 leaves
vs ~16 us with one flat vector. Same steps, same numbers (the error norm is the RMS over
all components either way).

`python benchmarks/experiments/simulate_flat.py` compares simulate_pytree vs simulate:
forward time, reverse-mode gradient time, vmap over 100 subjects, and max difference of
every saved state. Writes benchmarks/results/profile_simulate_flat_<backend>.json.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lactojax

lactojax.enable_x64()  # float64 model; importing lactojax does not switch it on

from lactojax.dynamics.vector_field import vector_field
from lactojax.simulate import Trajectory, output_grid, simulate
from lactojax.solver import SolverSettings
from lactojax.state import initial_state


def _solve_pytree(params, inputs, settings, y0):
    """== lactojax.simulate._solve before the flat-vector change (diffrax gets the State)."""
    horizon = inputs.horizon_h
    ts = output_grid(inputs, settings)
    feeds = inputs.feeds
    clip = lambda x: jnp.clip(x, 0.0, horizon)
    saveat = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(ts=clip(feeds.start_h)),
                                  diffrax.SubSaveAt(ts=clip(feeds.end_h))])
    controller = diffrax.ClipStepSizeController(diffrax.PIDController(rtol=settings.rtol, atol=settings.atol),
                                                jump_ts=inputs.jump_times())
    sol = diffrax.diffeqsolve(diffrax.ODETerm(vector_field), settings.make_solver(), t0=0.0, t1=horizon,
                              dt0=settings.dt0_h, y0=y0, args=(params, inputs), saveat=saveat,
                              stepsize_controller=controller, max_steps=settings.max_steps,
                              adjoint=settings.make_adjoint(), throw=settings.throw)
    grid, starts, ends = sol.ys
    return Trajectory(ts=ts, states=grid, feed_start=starts, feed_end=ends,
                      success=sol.result == diffrax.RESULTS.successful, num_steps=sol.stats["num_steps"],
                      save_every_h=settings.save_every_h)


@eqx.filter_jit
def simulate_pytree(params, inputs, settings: SolverSettings = SolverSettings()):
    return _solve_pytree(params, inputs, settings, initial_state(params, inputs))


def _best_cpu(fn, *args, repeats=5):
    jax.block_until_ready(fn(*args))
    best, walls = np.inf, []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn(*args))
        best = min(best, time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return best, float(np.median(walls))


def main():
    from common import machine_info, write_json

    from bench_cohort import schedule_bank, subject_batch
    from bench_gradient import synthetic_problem
    from lactojax.inputs import make_inputs, regular_feeds
    from lactojax.parameters import Params

    p = Params.nominal()
    inputs = make_inputs(regular_feeds(30, 10), 30)
    out = {}
    a = simulate_pytree(p, inputs)
    b = simulate(p, inputs)
    leaves_a, leaves_b = jax.tree.leaves((a.states, a.feed_start, a.feed_end)), jax.tree.leaves((b.states, b.feed_start, b.feed_end))
    rel = max(float(jnp.max(jnp.abs(x - y) / (jnp.abs(x) + 1e-9))) for x, y in zip(leaves_a, leaves_b))
    out["agreement"] = dict(steps_pytree=int(a.num_steps), steps_flat=int(b.num_steps), max_rel_diff_all_saved_states=rel)
    print(out["agreement"], flush=True)

    # forward, interleaved
    fa, fb = jax.jit(lambda p: simulate_pytree(p, inputs)), jax.jit(lambda p: simulate(p, inputs))
    res = {}
    for name, fn in (("pytree", fa), ("flat", fb), ("pytree_again", fa), ("flat_again", fb)):
        res[name] = _best_cpu(fn, p)
    out["forward_30d"] = {k: dict(cpu_min_s=v[0], wall_median_s=v[1]) for k, v in res.items()}
    print(out["forward_30d"], flush=True)

    # reverse-mode gradient of the synthetic 30-day log-likelihood (benchmark 2), both ways
    sim_mod = importlib.import_module("lactojax.simulate")  # the module (lactojax.simulate is the function)

    loglik_f, grads_f, _, z0, _ = synthetic_problem(30, modes=("reverse",))
    g_flat = next(iter(grads_f.values()))
    orig = sim_mod.simulate
    # rebuild the problem with simulate_pytree patched in (synthetic_problem imports it at call time)
    sim_mod.simulate = simulate_pytree
    try:
        loglik, grads, _, _, _ = synthetic_problem(30, modes=("reverse",))
        g_pytree = next(iter(grads.values()))
        z = jnp.asarray(z0)
        gv_p, gv_f = g_pytree(z), g_flat(z)
        gd = float(jnp.max(jnp.abs(gv_p[1] - gv_f[1])) / jnp.max(jnp.abs(gv_p[1])))
        gres = {}
        for name, fn in (("pytree", g_pytree), ("flat", g_flat), ("pytree_again", g_pytree), ("flat_again", g_flat)):
            gres[name] = _best_cpu(fn, z, repeats=3)
        out["reverse_gradient_30d"] = {k: dict(cpu_min_s=v[0], wall_median_s=v[1]) for k, v in gres.items()}
        out["reverse_gradient_30d"]["max_diff_rel_to_largest_component"] = gd
        print(out["reverse_gradient_30d"], flush=True)
    finally:
        sim_mod.simulate = orig

    # vmap over 100 subjects (cohort benchmark's subjects)
    bank, _ = schedule_bank(30, 32)
    bp, bi = subject_batch(bank, 32, p, np.arange(100))
    va = jax.jit(jax.vmap(lambda p, i: simulate_pytree(p, i).states.systemic.infant_intake[-1]))
    vb = jax.jit(jax.vmap(lambda p, i: simulate(p, i).states.systemic.infant_intake[-1]))
    vres = {}
    for name, fn in (("pytree", va), ("flat", vb)):
        vres[name] = _best_cpu(fn, bp, bi, repeats=2)
    out["vmap100_30d"] = {k: dict(cpu_min_s=v[0], wall_median_s=v[1]) for k, v in vres.items()}
    print(out["vmap100_30d"], flush=True)
    write_json("profile_simulate_flat", dict(results=out, machine=machine_info(),
                                             method="min CPU time of repeats, interleaved"))


if __name__ == "__main__":
    main()
