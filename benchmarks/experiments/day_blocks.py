"""Day blocks (projective integration over days) vs the plain session solver: accuracy and time.

An experiment for issue 11 (not used by `simulate`): in a block of days whose sessions repeat
exactly, the first two days are integrated with the session solver's ETDRK4 steps and the
state jumps to the block's end, each state's daily change extrapolated geometrically with its
own day-to-day ratio. Measured 2026-11-30 (2-core CPU, nominal parameters, against the plain
session solver): 4-day blocks from day 42 give a 305-day cow in 197 vs 300 ms and a 365-day
mother in 1.18 vs 1.58 s, daily outputs within 0.3 % and per-session removal within 0.6 %;
7-day blocks put daily fat 4 % off (STAT3, UPR and quiescent cells exchange on a day scale, which
per-state extrapolation cannot follow). A one-day variant that took each state's rate from
`decay_rates` diverged (the active/quiescent cell exchange is not on the diagonal).

    python benchmarks/experiments/day_blocks.py [--k 1,4,7] [--d0 42]
"""

import argparse
import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

import lactojax
from lactojax.inputs import Inputs, make_inputs, milkings, regular_feeds
from lactojax.parameters import Params
from lactojax.dynamics import drive as drive_mod
from lactojax.sessions import _balance, _dense, _etdrk4_step, _Layout, agreement, piece_sessions, session_grid
from lactojax.simulate import Trajectory, output_grid, simulate
from lactojax.solver import SolverSettings
from lactojax.state import State, initial_state


class SessionPlan(eqx.Module):
    """The step sequence of a session solve, built in NumPy from concrete inputs
    (`plan_sessions`). Elements are steps (h > 0), empty pieces (h = 0) and day-block jumps
    (`jump_days` > 0, h = 0). Queries (the output grid, session starts, session ends) name
    the step that holds their representative time, the fraction theta into it, and, for a
    time in an extrapolated day, its block's second simulated day (`mid_index`: the element
    starting it; `jump_index`: the block's jump element) and how many days past that day it
    lies (`days`)."""

    t0: jnp.ndarray  # (E,) hours
    h: jnp.ndarray  # (E,) hours
    at: jnp.ndarray  # (E,) where the piecewise-constant inputs are read
    row: jnp.ndarray  # (E,) session row active at `at` (int)
    active: jnp.ndarray  # (E,) bool
    block_start: jnp.ndarray  # (E,) bool: a day block starts here (remember the state)
    block_mid: jnp.ndarray  # (E,) bool: the block's second day starts here (remember the state)
    jump_days: jnp.ndarray  # (E,) float: days extrapolated at this element (0: none)
    grid: tuple  # (k, theta, mid_index, jump_index, days) for the output grid
    starts: tuple  # same for each session's start
    ends: tuple  # same for each session's end
    n_steps: int = eqx.field(static=True)


def _day_signatures(feeds, horizon: float, n_days: int):
    """Per whole day: its sessions relative to the day's start (rounded to 1e-6 h), and per
    day boundary whether a session runs across it."""
    start, end = np.asarray(feeds.start_h, float), np.asarray(feeds.end_h, float)
    real = start < horizon
    mask = np.asarray(feeds.gland_mask, float)
    eff, pump = np.asarray(feeds.effectiveness, float), np.asarray(feeds.is_pump, float)
    day_of = np.floor(start / 24.0).astype(int)
    boundary = 24.0 * np.arange(n_days + 1)
    straddle = np.any(real[None] & (start[None] < boundary[:, None]) & (end[None] > boundary[:, None]), axis=1)
    sigs = []
    for d in range(n_days):
        sel = real & (day_of == d)
        rel = np.column_stack([start[sel] - 24.0 * d, end[sel] - 24.0 * d, mask[sel], eff[sel], pump[sel]])
        sigs.append(np.round(rel, 6).tobytes())
    return sigs, straddle


def day_blocks(inputs: Inputs, block_days: int, from_day: int) -> list[tuple[int, int]]:
    """(first day, days) of each block: every day before `from_day` alone; from there,
    up to `block_days` whole days together when each repeats the first day's sessions
    exactly (same times of day, glands, effectiveness, infant or pump), no session runs
    across their boundaries, and no course boundary or placenta removal falls inside.
    A block of n >= 3 days integrates its first two and extrapolates the other n - 2."""
    horizon = float(inputs.horizon_h)
    n_days = int(math.ceil(horizon / 24.0 - 1e-9))
    whole = int(math.floor(horizon / 24.0 + 1e-9))
    if block_days < 3:
        return [(d, 1) for d in range(n_days)]
    sigs, straddle = _day_signatures(inputs.feeds, horizon, n_days)
    courses = (inputs.dopamine_agonist, inputs.dopamine_antagonist, inputs.antibiotic, inputs.nipple_breach)
    switches = np.concatenate([np.ravel(np.asarray(x, float)) for c in courses for x in (c.start_h, c.end_h)]
                              + [np.atleast_1d(np.asarray(inputs.profile.placenta_removal_h, float))])
    switches = switches[(switches > 0) & (switches < horizon)]
    blocks, d = [], 0
    while d < n_days:
        n = 1
        if from_day <= d < whole and not straddle[d]:
            while (n < block_days and d + n < whole and not straddle[d + n + 1] and sigs[d + n] == sigs[d]
                   and not np.any((switches > 24.0 * d) & (switches < 24.0 * (d + n + 1)))):
                n += 1
        if n < 3:  # nothing to extrapolate: integrate the days one by one
            blocks += [(d + i, 1) for i in range(n)]
        else:
            blocks.append((d, n))
        d += n
    return blocks


def plan_sessions(inputs: Inputs, ts: np.ndarray, session_steps: int, max_step_h: float,
                  recovery_h: tuple[float, ...] = (), startup: tuple[float, float] = (0.0, 1.0),
                  growth: float = 1.0, block_days: int = 1, block_from_day: int = 0) -> SessionPlan:
    """The `SessionPlan` of these concrete inputs (NumPy): the session grid of `session_grid`
    over the integrated days of `day_blocks`, a jump element after each block's second day."""
    if any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(inputs)):
        raise TypeError("plan_sessions needs concrete inputs (build the plan outside jit)")
    horizon = float(inputs.horizon_h)
    grid = np.asarray(session_grid(inputs, session_steps, max_step_h, recovery_h, startup, growth)[0], float)
    t0s, hs, first, mid, jump = [], [], [], [], []
    info = []  # per block: (start day, days, mid element, jump element)
    for d, n in day_blocks(inputs, block_days, block_from_day):
        lo, hi = 24.0 * d, min(24.0 * (d + (2 if n > 1 else 1)), horizon)
        pts = np.unique(np.concatenate([[lo, hi], grid[(grid > lo) & (grid < hi)]]))
        e0 = len(t0s)
        t0s += list(pts[:-1]); hs += list(np.diff(pts))
        first += [n > 1] + [False] * (len(pts) - 2)
        mid += [n > 1 and t == 24.0 * (d + 1) for t in pts[:-1]]
        jump += [0.0] * (len(pts) - 1)
        mid_index = jump_index = 0
        if n > 1:
            mid_index = e0 + int(np.flatnonzero(pts[:-1] == 24.0 * (d + 1))[0])
            jump_index = len(t0s)
            t0s.append(hi); hs.append(0.0); first.append(False); mid.append(False); jump.append(float(n - 2))
        info.append((d, n, mid_index, jump_index))
    t0, h = np.asarray(t0s), np.asarray(hs)
    at = t0 + 0.5 * h
    row, active = piece_sessions(inputs.feeds, at)
    active = active & (h > 0)
    block_day = np.asarray([d for d, *_ in info], float)
    block_n = np.asarray([n for _, n, *_ in info], float)
    block_mid = np.asarray([m for *_, m, _ in info])
    block_jump = np.asarray([j for *_, j in info])
    steps = np.flatnonzero(h > 0)

    def queries(times):
        times = np.clip(np.asarray(times, float), 0.0, horizon)
        b = np.clip(np.searchsorted(24.0 * block_day, times, side="right") - 1, 0, len(info) - 1)
        d, n = block_day[b], block_n[b]
        # days past the block's second (integrated) day
        days = np.where(n > 1, np.clip(np.floor((times - 24.0 * (d + 1)) / 24.0), 0, n - 2), 0)
        tau = times - 24.0 * days
        k = steps[np.clip(np.searchsorted(t0[steps], tau, side="right") - 1, 0, steps.size - 1)]
        theta = np.clip((tau - t0[k]) / h[k], 0.0, 1.0)
        on = days > 0
        return (k, theta, np.where(on, block_mid[b], 0), np.where(on, block_jump[b], 0), days)

    return SessionPlan(
        t0=t0, h=h, at=at, row=row, active=active, block_start=np.asarray(first), block_mid=np.asarray(mid),
        jump_days=np.asarray(jump), grid=queries(ts), starts=queries(inputs.feeds.start_h),
        ends=queries(inputs.feeds.end_h), n_steps=int(steps.size),
    )


def _geometric(rate, days):
    """sum_{i < days} exp(-i rate), elementwise (rate >= 0, days >= 0): how far a state moves
    over `days` days in units of its first day's change, when its change shrinks by
    exp(-rate) a day."""
    small = rate < 1e-9
    safe = jnp.where(small, 1.0, rate)
    return jnp.where(small, days, jnp.expm1(-days * safe) / jnp.expm1(-safe))


def _day_ratio_rate(day1, day2, scale):
    """-log of each state's day-to-day ratio of change (day2 / day1), in [0, 60]: 0 (a steady
    drift, extrapolated linearly) where the changes are below `scale` or grow, large where
    the state has relaxed (it stays where the second day left it)."""
    tiny = jnp.abs(day1) <= scale
    ratio = jnp.where(tiny, 1.0, day2 / jnp.where(tiny, 1.0, day1))
    return -jnp.log(jnp.clip(ratio, jnp.exp(-60.0), 1.0))


def solve_plan(params: Params, inputs: Inputs, plan: SessionPlan, y0: State, checkpoint: bool = True):
    """Integrate along `plan`. Returns (states at the plan's output times, at session starts,
    at session ends, number of steps, all finite). A day block's first two days are
    integrated; the state then jumps to the block's end by extrapolating each state's daily
    change geometrically with its own day-to-day ratio (projective integration over days,
    `_day_ratio_rate`, `_geometric`): a drifting state moves by its second day's change per
    day, a relaxed one stays, one in between relaxes geometrically."""
    flat_y0, unravel = ravel_pytree(y0)
    zero = jnp.zeros_like(flat_y0)
    empty = (zero, zero, zero, zero)
    scale = 1e-9 * (1.0 + jnp.abs(flat_y0))
    layout = _Layout(y0)

    def session_step(y, t0, h, at, row, active):  # the solver's step on a flat state vector
        base = drive_mod.evaluate(inputs, at, at=at, session=(row, active))
        y1, stages = _etdrk4_step(params, inputs, layout, layout.chunks(y), t0, h, base)
        return jnp.concatenate(y1), tuple(jnp.concatenate(x) for x in stages)

    def step(carry, xs):
        y, y_start, y_mid = carry
        t0, h, at, row, active, block_start, block_mid, jump_days = xs
        y_start = jnp.where(block_start, y, y_start)
        y_mid = jnp.where(block_mid, y, y_mid)

        def advance():
            y1, stages = jax.lax.cond(
                h > 0.0,
                lambda: session_step(y, t0, h, at, row, active),
                lambda: (y, empty),
            )
            return ravel_pytree(_balance(unravel(y), unravel(y1)))[0], stages, zero

        def extrapolate():
            rate = _day_ratio_rate(y_mid - y_start, y - y_mid, scale * (1.0 + jnp.abs(y)))
            moved = y + (y - y_mid) * (_geometric(rate, 1.0 + jump_days) - 1.0)
            return ravel_pytree(_balance(unravel(y), unravel(moved)))[0], empty, rate

        y1, stages, rate = jax.lax.cond(jump_days > 0, extrapolate, advance)
        return (y1, y_start, y_mid), (y1, stages, rate)

    if checkpoint:
        step = jax.checkpoint(step)
    xs = (plan.t0, plan.h, plan.at, plan.row, plan.active, plan.block_start, plan.block_mid, plan.jump_days)
    _, (ys, stages, rates) = jax.lax.scan(step, (flat_y0, flat_y0, flat_y0), tuple(jnp.asarray(x) for x in xs))
    ys = jnp.concatenate([flat_y0[None], ys])  # ys[i]: the state at element i's start

    def at_queries(q):
        k, theta, mid, jump, days = q
        out = jax.vmap(_dense)(ys[k], theta, plan.h[k], jax.tree.map(lambda x: x[k], stages))
        # in an extrapolated day: the second day's state at the same time plus the drift
        shift = (ys[jump] - ys[mid]) * _geometric(rates[jump], jnp.asarray(days)[:, None])
        pick = lambda rows: jax.vmap(unravel)(rows)
        return _balance(pick(ys[k] + shift), pick(out + shift))

    return (at_queries(plan.grid), at_queries(plan.starts), at_queries(plan.ends), plan.n_steps,
            jnp.all(jnp.isfinite(ys[-1])))




def case(name, days):
    if name == "cow":
        return Params.nominal("cow"), make_inputs(milkings(days, n_glands=4), days)
    return Params.nominal(), make_inputs(regular_feeds(days, 10, n_glands=2), days)


def blocked(params, inputs, s, k, d0):
    ts = np.asarray(output_grid(inputs, s))
    plan = plan_sessions(inputs, ts, s.session_steps, s.max_step_h, s.recovery_h, (s.startup_h, s.startup_step_h),
                         s.session_growth, k, d0)

    @jax.jit
    def run(p, plan):
        g, a, b, n, ok = solve_plan(p, inputs, plan, initial_state(p, inputs))
        return Trajectory(ts=jnp.asarray(ts), states=g, feed_start=a, feed_end=b, success=ok, num_steps=jnp.asarray(n))
    return run, plan


def main():
    lactojax.enable_x64()
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=0)
    ap.add_argument("--k", default="1,3,5,7")
    ap.add_argument("--d0", type=int, default=14)
    ap.add_argument("--days-cow", type=float, default=305)
    ap.add_argument("--days-mother", type=float, default=365)
    a = ap.parse_args()
    s = SolverSettings()
    for name, days in (("cow", a.days_cow), ("mother", a.days_mother)):
        p, inputs = case(name, days)
        ref = simulate(p, inputs, s)
        t = time.perf_counter(); jax.block_until_ready(simulate(p, inputs, s)); t_ref = time.perf_counter() - t
        for k in [int(x) for x in a.k.split(",")]:
            run, plan = blocked(p, inputs, s, k, a.d0)
            tr = run(p, plan); jax.block_until_ready(tr)
            t = time.perf_counter(); tr = run(p, plan); jax.block_until_ready(tr); t_new = time.perf_counter() - t
            acc = agreement(ref, tr, p, inputs)
            worst = max(acc, key=lambda kk: acc[kk] if kk != "daily_max" else -1)
            print(f"{name} K={k} d0={a.d0}: steps {plan.n_steps} (plain {int(ref.num_steps)}), {t_new*1e3:.0f} ms vs {t_ref*1e3:.0f} ms;"
                  f" daily_max {acc['daily_max']:.2e} per_session {acc['per_session_removed_ml']:.2e} worst {worst}", flush=True)


if __name__ == "__main__":
    main()
