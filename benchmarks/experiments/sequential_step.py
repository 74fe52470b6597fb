"""Profiling experiment: why the session solver's step sees the state in chunks of at most 64
float64 and its piece's drive precomputed (`lactojax.sessions.CHUNK_ELEMENTS`).

XLA:CPU's thunk executor runs the kernels of a nested computation (the step inside
`lax.cond`) one after another in the calling thread only when every buffer they touch is at
most 512 bytes; otherwise it hands each small kernel to its thread pool. The step is ~270
small kernels, so the hand-off costs more than the arithmetic. This times, in the same
process, a `lax.scan` of ETDRK4 steps over a 60-day session grid (no dense output), two ways:

- `flat`: the previous step: the state as one flat vector (56 float64 for a mother, 104 for
  a 4-quarter cow) and the drive looked up inside the step from the schedule arrays;
- `chunks`: `sessions._etdrk4_step` as `simulate` runs it: the state in chunks of <= 64
  float64, each piece's drive precomputed outside the scan.

Wall and process CPU time (min of 5 after compilation) per step. Measured 2026-11-30 (2-core
CPU): mother 32.6 -> 15.5 us per step (2.1x), cow 33.4 -> 19.7 us (1.7x); CPU / wall ~2 both
ways (XLA's idle pool threads spin), so the gain is the hand-offs, not a second core.

  .venv/bin/python benchmarks/experiments/sequential_step.py
Writes benchmarks/results/profile_sequential_step_<backend>.json.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lactojax

lactojax.enable_x64()

import common  # noqa: E402

from lactojax import sessions  # noqa: E402
from lactojax.dynamics import drive as drive_mod  # noqa: E402
from lactojax.dynamics.linear_part import decay_rates  # noqa: E402
from lactojax.dynamics.vector_field import vector_field_with_drive  # noqa: E402
from lactojax.inputs import make_inputs, milkings, regular_feeds  # noqa: E402
from lactojax.parameters import Params  # noqa: E402
from lactojax.solver import SolverSettings  # noqa: E402
from lactojax.state import initial_state  # noqa: E402

DAYS = 60


def flat_step(params, inputs, unravel, y, t, h, at, row, active):
    """The previous step: one flat state vector, the drive read from the schedule arrays."""
    base = drive_mod.evaluate(inputs, t, at=at, session=(row, active))

    def field(tt, yy):
        state = unravel(yy)
        drive = dataclasses.replace(base, clock_h=drive_mod.clock_time(inputs, tt))
        d, env, fluxes = vector_field_with_drive(tt, state, params, inputs, drive)
        return ravel_pytree(d)[0], (state, drive, env, fluxes)

    f0, (state, drive, env, fluxes) = field(t, y)
    rate = ravel_pytree(decay_rates(params, inputs, state, drive, env, fluxes))[0]
    n = lambda tt, yy: field(tt, yy)[0] + rate * yy  # noqa: E731
    z = -rate * h
    e, e2 = jnp.exp(z), jnp.exp(0.5 * z)
    p1h = sessions._phis(0.5 * z)[0] * (0.5 * h)
    p1, p2, p3 = sessions._phis(z)
    nu = f0 + rate * y
    a = e2 * y + p1h * nu
    na = n(t + 0.5 * h, a)
    b = e2 * y + p1h * na
    nb = n(t + 0.5 * h, b)
    c = e2 * a + p1h * (2.0 * nb - nu)
    nc = n(t + h, c)
    return e * y + h * ((p1 - 3 * p2 + 4 * p3) * nu + 2 * (p2 - 2 * p3) * (na + nb) + (4 * p3 - p2) * nc)


def case(name):
    if name == "cow":
        return Params.nominal("cow"), make_inputs(milkings(DAYS, n_glands=4), DAYS), SolverSettings.for_species("cow")
    return Params.nominal(), make_inputs(regular_feeds(DAYS, 10, n_glands=2), DAYS), SolverSettings()


def grid_pieces(inputs, s):
    grid, _, _ = sessions.session_grid(inputs, s.session_steps, s.max_step_h, s.recovery_h,
                                       (s.startup_h, s.startup_step_h, s.startup_step_growth), s.session_growth)
    grid = np.asarray(grid)
    t0, h = grid[:-1], np.diff(grid)
    keep = h > 0
    t0, h = t0[keep], h[keep]
    mid = t0 + 0.5 * h
    return (t0, h, mid, *sessions.piece_sessions(inputs.feeds, mid))


def scan_flat(params, inputs, pieces):
    flat0, unravel = ravel_pytree(initial_state(params, inputs))

    def body(y, xs):
        return jax.lax.cond(xs[1] > 0, lambda: flat_step(params, inputs, unravel, y, *xs), lambda: y), None

    return jax.lax.scan(body, flat0, tuple(jnp.asarray(x) for x in pieces))[0]


def scan_chunks(params, inputs, pieces):
    t0, h, mid, row, active = pieces
    layout = sessions._Layout(initial_state(params, inputs))
    drives = sessions.piece_drives(inputs, mid, row, active)

    def body(y, xs):
        t, hh, base = xs
        return jax.lax.cond(hh > 0, lambda: sessions._etdrk4_step(params, inputs, layout, y, t, hh, base)[0],
                            lambda: y), None

    out = jax.lax.scan(body, layout.ravel(initial_state(params, inputs)), (jnp.asarray(t0), jnp.asarray(h), drives))[0]
    return jnp.concatenate(out)


def main() -> int:
    rows = {}
    for name in ("mother", "cow"):
        params, inputs, settings = case(name)
        pieces = grid_pieces(inputs, settings)
        n = int(pieces[0].size)
        entry = {"days": DAYS, "steps": n, "states": int(ravel_pytree(initial_state(params, inputs))[0].size)}
        results = {}
        for label, fn in (("flat", scan_flat), ("chunks", scan_chunks)):
            f = jax.jit(lambda p, fn=fn: fn(p, inputs, pieces))
            results[label] = np.asarray(jax.block_until_ready(f(params)))
            t = common.time_call(f, params, repeats=5, warmup=0)
            wall, cpu = t["wall"]["min"], t["cpu"]["min"]
            entry[label] = {"wall_s": wall, "cpu_s": cpu, "us_per_step_wall": wall / n * 1e6,
                            "cpu_over_wall": cpu / wall}
            print(f"{name} {label}: {wall / n * 1e6:.1f} us/step wall, CPU/wall {cpu / wall:.2f}", flush=True)
        entry["speedup_wall"] = entry["flat"]["wall_s"] / entry["chunks"]["wall_s"]
        entry["max_rel_difference"] = float(np.max(np.abs(results["flat"] - results["chunks"])
                                                   / (np.abs(results["flat"]) + 1e-12)))
        rows[name] = entry
    print(f"wrote {common.write_json('profile_sequential_step', rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
