"""Profiling experiment, part 3: per-step cost split into vector-field evaluations and
diffrax's own per-step overhead, measured with interleaved repeats (min of CPU time).

  .venv/bin/python benchmarks/experiments/overhead.py
Writes benchmarks/results/profile_overhead_<backend>.json.
"""

from __future__ import annotations

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

from lactojax.dynamics import drive as drive_mod
from lactojax.dynamics.vector_field import vector_field
from lactojax.inputs import make_inputs, regular_feeds
from lactojax.parameters import Params
from lactojax.state import initial_state

from solve_variants import _ORIGINAL_ACTIVE_SESSION, _ORIGINAL_EVALUATE, _active_session_method, evaluate_masked

N_EVALS = 4000


def rhs_loop(params, inputs, ravel, lookup):
    y0 = initial_state(params, inputs)
    flat0, unravel = ravel_pytree(y0)
    if lookup == "none":  # lower bound: a fixed row, still a runtime value (not folded)
        def fake(feeds, t):
            row = (t * 0.0).astype(jnp.int32) + 3
            return row, t < feeds.end_h[row]
        impl = fake
    elif lookup in ("searchsorted", "masked_sum"):
        impl = _ORIGINAL_ACTIVE_SESSION
    else:
        impl = _active_session_method(lookup)

    def body(i, y, params, inputs):
        drive_mod._active_session = impl
        if lookup == "masked_sum":
            drive_mod.evaluate = evaluate_masked
        t = 0.0073 * i
        if ravel:
            dy = ravel_pytree(vector_field(t, unravel(y), (params, inputs)))[0]
            out = y + 1e-9 * dy
        else:
            st = jax.tree.map(lambda a: a, unravel(y))
            dy = vector_field(t, st, (params, inputs))
            out = ravel_pytree(jax.tree.map(lambda a, b: a + 1e-9 * b, st, dy))[0]
        drive_mod._active_session = _ORIGINAL_ACTIVE_SESSION
        drive_mod.evaluate = _ORIGINAL_EVALUATE
        return out

    # params and inputs are arguments (as in the solver), not constants XLA could fold
    loop = jax.jit(lambda y, p, inp: jax.lax.fori_loop(0, N_EVALS, lambda i, y: body(i, y, p, inp), y))
    fn = lambda y: loop(y, params, inputs)
    jax.block_until_ready(fn(flat0))
    return fn, flat0


def solver_overhead(inputs, n_state, pytree_leaves, saveat_full=True):
    """Tsit5 + the same controller / jump_ts / SaveAt on a trivial linear RHS."""
    horizon = inputs.horizon_h
    ts = jnp.linspace(0.0, horizon, int(horizon) + 1)
    clip = lambda x: jnp.clip(x, 0.0, horizon)
    rates = jnp.linspace(0.5, 3.0, n_state)  # fast enough to need steps of ~the same size

    if pytree_leaves:
        sizes = np.array_split(np.arange(n_state), pytree_leaves)
        y0 = [jnp.ones(len(s)) for s in sizes]
        rs = [rates[s] for s in sizes]
        f = lambda t, y, a: [-r * (yy - jnp.cos(t)) for r, yy in zip(rs, y)]
    else:
        y0 = jnp.ones(n_state)
        f = lambda t, y, a: -rates * (y - jnp.cos(t))
    if saveat_full == "merged":  # one sorted SubSaveAt holding grid + feed starts + feed ends
        sa = diffrax.SaveAt(ts=jnp.sort(jnp.concatenate([ts, clip(inputs.feeds.start_h), clip(inputs.feeds.end_h)])))
    elif saveat_full:
        sa = diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(ts=clip(inputs.feeds.start_h)),
                                  diffrax.SubSaveAt(ts=clip(inputs.feeds.end_h))])
    else:
        sa = diffrax.SaveAt(t1=True)

    def solve(y0):
        sol = diffrax.diffeqsolve(diffrax.ODETerm(f), diffrax.Tsit5(), 0.0, horizon, 0.01, y0,
                                  saveat=sa, stepsize_controller=diffrax.ClipStepSizeController(
                                      diffrax.PIDController(rtol=1e-6, atol=1e-6), jump_ts=inputs.jump_times()),
                                  max_steps=100_000)
        return sol.stats["num_steps"]

    fn = jax.jit(solve)
    steps = int(fn(y0))
    return fn, y0, steps


def main():
    from common import machine_info, write_json

    params = Params.nominal()
    inputs = make_inputs(regular_feeds(30, 10), 30)
    cands = {}
    for ravel in (False, True):
        for lookup in ("searchsorted", "scan_unrolled", "sort", "compare_all_sum", "masked_sum", "none"):
            cands[f"rhs ravel={ravel} lookup={lookup}"] = (*rhs_loop(params, inputs, ravel, lookup), N_EVALS)
    for leaves, label in ((30, "pytree 30 leaves"), (0, "flat vector")):
        for full in (True, "merged", False):
            fn, y0, steps = solver_overhead(inputs, 52, leaves, full)
            lab = {True: "full (3 subs)", "merged": "merged (1 sorted sub)", False: "t1"}[full]
            cands[f"solver overhead, trivial RHS, {label}, saveat={lab}"] = (fn, y0, steps)
    best = {k: np.inf for k in cands}
    for _ in range(7):  # interleaved: load changes hit every candidate alike
        for k, (fn, arg, n) in cands.items():
            c = time.process_time()
            jax.block_until_ready(fn(arg))
            best[k] = min(best[k], time.process_time() - c)
    out = {}
    for k, (fn, arg, n) in cands.items():
        out[k] = dict(us_per_unit=1e6 * best[k] / n, units=n, unit="RHS evaluation" if k.startswith("rhs") else "step")
        print(f"{k:70s} {out[k]['us_per_unit']:7.2f} us per {out[k]['unit']} (n={n})", flush=True)
    write_json("profile_overhead", dict(results=out, machine=machine_info(),
                                        method="min CPU time over 7 interleaved repeats"))


if __name__ == "__main__":
    main()
