"""The session solver: fixed-step exponential integration over the session grid.

The horizon is cut into pieces of at most `max_step_h` (`startup_step_h` over the first
`startup_h`), at every session's start and end (each session also into `session_steps`
pieces, each `session_growth` times the one before: short first, where milk ejection and the
infant's first minutes of intake change the state fastest), `recovery_h` after each session's end (hormones relaxing), at every course boundary
and at the removal of retained placenta. Each piece is one step of the exponential Runge-Kutta method ETDRK4 (Cox &
Matthews 2002): the diagonal first-order losses of `dynamics.linear_part.decay_rates` (oxytocin
clearance, dopamine tone, prolactin, gastric emptying, milk removal, paracellular exchange, ...)
are integrated exactly, so they do not limit the step, and the rest is 4th order. Inputs are
piecewise constant on every piece, so no step crosses a switch. Outputs on the hourly grid
come from one step of the method from the start of the piece holding each (default) or from
its continuous extension (`_dense`; a cow's default: `SolverSettings.dense_output`); session
starts and ends are grid points. The cumulative counters (milk removed, the infant's intake)
are set from the volume balance after every step and at every dense output (`_balance`), so
milk made = removed + stored holds to rounding, as in the reference.

Between these points, the fewest equal steps of at most `max_step_h` (`_fill_gaps`: the
uniform grid's points are moved there; those a gap does not need make empty pieces, which a
single solve skips). The number of steps is fixed by the shapes (horizon, schedule and course
rows), not by the parameters: every lane of a vmapped batch does the same work, and a
`lax.scan` over the pieces compiles once. Reverse mode is the solver's own VJP (`_scan_vjp`):
a reverse scan that recomputes each step from its stored start state and transposes it. `Trajectory` is the same as `simulate`'s adaptive path returns, so every
observation works unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lactojax.dynamics import drive as drive_mod
from lactojax.dynamics.linear_part import decay_rates
from lactojax.dynamics.vector_field import vector_field_with_drive
from lactojax.inputs import Inputs
from lactojax.parameters import Params
from lactojax.solver import DENSE_OUTPUTS
from lactojax.state import State

_SERIES_BELOW = 0.5  # |z| below which the phi functions use their Taylor series
_SERIES_TERMS = 10  # truncation error < 0.5^10 / 11! ~ 3e-11 at the switch


def _phi_values(z, ez):
    """phi_1 .. phi_4 of z (elementwise, z <= 0; ez = exp(z)): the series below |z| = 0.5,
    the recurrence phi_(k+1) = (phi_k - 1/k!) / z above it (there exp(z) - 1 has no
    cancellation, so no expm1 is needed). Each phi ends in a division: XLA:CPU does not
    copy a division into the kernels that read its result, so each phi is computed once per
    step (ending in a select, the series was recomputed inside every kernel that read it,
    making kernels large enough to be split across threads; optimization_barrier does not
    prevent this on XLA:CPU)."""
    small = jnp.abs(z) < _SERIES_BELOW
    zs = jnp.where(small, 1.0, z)  # the direct branch never sees z ~ 0 (no 0/0)
    zt = jnp.where(small, z, 0.0)

    def series(k):  # phi_k(z) = sum_j z^j / (j + k)!, Horner
        acc = 1.0 / math.factorial(_SERIES_TERMS - 1 + k)
        for j in range(_SERIES_TERMS - 2, -1, -1):
            acc = acc * zt + 1.0 / math.factorial(j + k)
        return acc

    phis, numerator = [], ez - 1.0
    for k in (1, 2, 3, 4):
        phis.append(jnp.where(small, series(k), numerator) / zs)
        numerator = phis[-1] - 1.0 / math.factorial(k)
    return tuple(phis)


@jax.custom_jvp
def _phi123(z, ez):
    return _phi_values(z, ez)[:3]


@_phi123.defjvp
def _phi123_jvp(primals, tangents):
    # phi_k'(z) = phi_k(z) - k phi_(k+1)(z): a multiply-add per phi, where differentiating
    # the series and the recurrence makes ~100 operations of the reverse step per chunk
    # (ez = exp(z) always, so its tangent is implied by z's)
    z, ez = primals
    dz = tangents[0]
    p1, p2, p3, p4 = _phi_values(z, ez)
    return (p1, p2, p3), ((p1 - p2) * dz, (p2 - 2.0 * p3) * dz, (p3 - 3.0 * p4) * dz)


def _phis(z, ez=None):
    """phi_1, phi_2, phi_3 of z (elementwise, z <= 0), accurate and differentiable at 0.
    ez: exp(z) if already computed."""
    return _phi123(z, jnp.exp(z) if ez is None else ez)


def _weights(rate, h):
    """The step's exponential weights for one chunk of decay rates: exp(z), exp(z/2),
    h/2 phi_1(z/2) and the three ETDRK4 combination weights (z = -rate h). One exp per state;
    grouped by an optimization_barrier (XLA:CPU still copies elementwise producers across it;
    what keeps the phi series from being recomputed in every kernel that reads the weights is
    that each phi ends in a division, `_phi_values`)."""
    z = -rate * h
    e2 = jnp.exp(0.5 * z)
    e = e2 * e2
    p1h = _phis(0.5 * z, e2)[0] * (0.5 * h)
    p1, p2, p3 = _phis(z, e)
    return jax.lax.optimization_barrier((e, e2, p1h, p1 - 3 * p2 + 4 * p3, 2 * (p2 - 2 * p3), 4 * p3 - p2))


def session_fractions(session_steps: int, growth: float = 1.0) -> np.ndarray:
    """Where a session's inner step boundaries sit, as fractions of its length: each step
    `growth` times as long as the one before it (1: equal steps)."""
    lengths = float(growth) ** np.arange(session_steps)
    return np.cumsum(lengths)[:-1] / np.sum(lengths)


def session_grid(inputs: Inputs, session_steps: int, max_step_h: float, recovery_h: tuple[float, ...] = (),
                 startup: tuple[float, ...] = (0.0, 1.0), growth: float = 1.0):
    """The step boundaries, sorted from 0 to the horizon, and where each session's start and end
    sit in them: (grid, start_index, end_index), NumPy arrays when the inputs are concrete. The grid is a uniform one of spacing <=
    `max_step_h` merged with every session's start, end and `session_steps - 1` inner points,
    every course boundary and the removal of retained placenta. startup = (hours, step[, step_growth]):
    steps no longer than `step + step_growth * t` over the first `hours` after delivery
    (progesterone withdrawal, the colostral transition; `startup_points`).
    growth: each step of a session this many times the one before (`session_fractions`)."""
    horizon = inputs.horizon_h
    feeds = inputs.feeds
    courses = [c for c in (inputs.dopamine_agonist, inputs.dopamine_antagonist, inputs.antibiotic,
                           inputs.nipple_breach) for c in (c.start_h, c.end_h)]
    leaves = [feeds.start_h, feeds.end_h, inputs.profile.placenta_removal_h] + courses
    # concrete inputs (closed over by a jitted function): build the grid in NumPy, so that XLA
    # does not constant-fold a sort of thousands of elements at every compilation
    xp = jnp if any(isinstance(x, jax.core.Tracer) for x in leaves) else np
    clip = lambda x: xp.clip(xp.asarray(x), 0.0, horizon)
    n_uniform = max(1, math.ceil(horizon / max_step_h - 1e-9)) + 1
    base = xp.linspace(0.0, horizon, n_uniform)
    early = startup_points(min(startup[0], horizon), *startup[1:], max_step_h=max_step_h)
    if early.size:
        base = xp.concatenate([base, xp.asarray(early)])
    start, end = clip(feeds.start_h), clip(feeds.end_h)
    frac = xp.asarray(session_fractions(session_steps, growth))
    inner = (start[:, None] + frac[None, :] * (end - start)[:, None]).ravel()
    # after a session the hormones relax over ~1 h (oxytocin, dopamine tone, prolactin): short
    # steps there, cut at the next session's start
    next_start = xp.concatenate([start[1:], xp.asarray([horizon])])
    after = xp.minimum(end[:, None] + xp.asarray(recovery_h, dtype=end.dtype)[None, :], next_start[:, None])
    other = [clip(xp.ravel(xp.asarray(x))) for x in courses]
    other.append(clip(xp.atleast_1d(xp.asarray(inputs.profile.placenta_removal_h))))
    fixed = [start, end, inner, clip(after.ravel())] + other
    base = _fill_gaps(xp, base, fixed, max_step_h, n_uniform)
    times = xp.concatenate([base] + fixed)
    order = xp.argsort(times, stable=True)
    position = xp.zeros_like(order)
    position = position.at[order].set(xp.arange(order.shape[0])) if xp is jnp else _scatter(position, order)
    n_base, n_f = base.shape[0], start.shape[0]
    return times[order], position[n_base : n_base + n_f], position[n_base + n_f : n_base + 2 * n_f]


def _fill_gaps(xp, base, fixed, max_step_h: float, n_uniform: int):
    """`base` with its uniform points (the first `n_uniform`, spacing <= max_step_h) moved so
    that each gap between consecutive fixed points (`fixed`, 0, the horizon and the startup
    points after the uniform ones in `base`) is cut into the fewest equal pieces of at
    most max_step_h; the points a gap does not need sit on its end (empty pieces, which the
    step's `lax.cond` skips). The count of points, and so of steps, stays fixed by the shapes:
    a single solve skips the empty pieces, while a vmapped batch runs both branches of the cond.
    A gap of length L holds at least ceil(L / spacing) - 1 uniform points, so enough of them."""
    if n_uniform <= 2:
        return base
    fixed = xp.sort(xp.concatenate([base[:1], base[n_uniform - 1 :], *fixed]))
    u = base[1 : n_uniform - 1]  # 0 and the horizon stay
    gap = xp.clip(xp.searchsorted(fixed, u, side="right") - 1, 0, fixed.shape[0] - 2)
    a, b = fixed[gap], fixed[gap + 1]
    pieces = xp.maximum(xp.ceil((b - a) / max_step_h - 1e-9), 1.0)
    rank = xp.arange(u.shape[0]) - xp.searchsorted(gap, gap, side="left")  # u sorted: gap nondecreasing
    moved = xp.where(rank + 1 < pieces, a + (rank + 1) * (b - a) / pieces, b)
    return xp.concatenate([base[:1], moved, base[n_uniform - 1 :]])


def startup_points(hours: float, step_h: float, growth: float = 0.0, max_step_h: float = np.inf) -> np.ndarray:
    """Step boundaries inside (0, hours): each step `step_h + growth * t` long at t hours after
    delivery (at most max_step_h); growth 0: equal steps of at most step_h. NumPy (static)."""
    if hours <= 0:
        return np.zeros(0)
    if growth <= 0:
        return np.linspace(0.0, hours, math.ceil(hours / step_h - 1e-9) + 1)[1:-1]
    points, t = [], 0.0
    while True:
        t += min(step_h + growth * t, max_step_h)
        if t >= hours - 1e-9:
            return np.asarray(points)
        points.append(t)


def _scatter(position, order):
    position[order] = np.arange(order.shape[0])
    return position


# XLA:CPU runs the kernels of a nested computation (here the step inside `lax.cond`) one after
# another in the calling thread only when every buffer they touch is at most 512 bytes
# (ThunkExecutor's execute_sequential_buffer_threshold); otherwise it dispatches each tiny
# kernel to its thread pool, which costs more than the kernel. So the step sees the state as
# chunks of at most 64 float64 and the inputs of its piece, never the schedule arrays: 2.1x
# (mother) and 1.7x (cow) faster per step (benchmarks/experiments/sequential_step.py).
CHUNK_ELEMENTS = 64


class _Layout:
    """The State as a tuple of flat chunks (each <= CHUNK_ELEMENTS, leaves never split)."""

    def __init__(self, y0: State):
        leaves, self.treedef = jax.tree.flatten(y0)
        self.shapes = [jnp.shape(x) for x in leaves]
        sizes = [int(np.prod(s, dtype=int)) for s in self.shapes]
        self.groups, group, used = [], [], 0
        for i, n in enumerate(sizes):
            if group and used + n > CHUNK_ELEMENTS:
                self.groups.append(group)
                group, used = [], 0
            group.append(i)
            used += n
        self.groups.append(group)
        self.sizes = sizes

    def ravel(self, state: State) -> tuple:
        leaves = jax.tree.leaves(state)
        return tuple(jnp.concatenate([jnp.ravel(leaves[i]) for i in g]) for g in self.groups)

    def ravel_stacked(self, states) -> tuple:
        """The chunks of a pytree whose leaves carry one leading axis (n, ...): (n, chunk) each."""
        leaves = jax.tree.leaves(states)
        n = leaves[0].shape[0]
        return tuple(jnp.concatenate([jnp.reshape(leaves[i], (n, -1)) for i in g], axis=-1) for g in self.groups)

    def unravel(self, chunks: tuple) -> State:
        # jnp.split, not one slice per leaf: its transpose (reverse mode) is one concatenate,
        # where per-leaf slices become a pad and an add per leaf
        leaves = []
        for g, chunk in zip(self.groups, chunks):
            parts = jnp.split(chunk, np.cumsum([self.sizes[i] for i in g])[:-1], axis=-1)
            leaves += [x.reshape(x.shape[:-1] + self.shapes[i]) for i, x in zip(g, parts)]
        return jax.tree.unflatten(self.treedef, leaves)

    def chunks(self, flat) -> tuple:
        """The chunks of a flat state vector (the chunks concatenated, as `unravel_flat` reads)."""
        sizes = [sum(self.sizes[i] for i in g) for g in self.groups]
        return tuple(jnp.split(flat, np.cumsum(sizes)[:-1], axis=-1))

    def unravel_flat(self, flat) -> State:
        """The State from the chunks concatenated (the last axis; leaves in order)."""
        parts = jnp.split(flat, np.cumsum(self.sizes)[:-1], axis=-1)
        return jax.tree.unflatten(self.treedef, [x.reshape(x.shape[:-1] + s) for x, s in zip(parts, self.shapes)])


def piece_sessions(feeds, mid):
    """(row, active): the schedule row of the session holding each piece's middle `mid` and
    whether one does (`drive._active_session` for many times at once; NumPy when `mid` is)."""
    xp = np if isinstance(mid, np.ndarray) else jnp
    cast = np.asarray if xp is np else jnp.asarray
    starts = cast(feeds.start_h)
    idx = xp.searchsorted(starts, mid, side="right") - 1
    row = xp.clip(idx, 0, starts.shape[0] - 1)
    return row, (idx >= 0) & (mid < cast(feeds.end_h)[row])


def piece_drives(inputs: Inputs, mid, row, active) -> drive_mod.Drive:
    """The drive of every piece (leading axis: pieces), read at its middle; clock_h is the
    middle's clock time (each stage sets its own)."""
    return jax.vmap(lambda m, r, a: drive_mod.evaluate(inputs, m, at=m, session=(r, a)))(
        jnp.asarray(mid), jnp.asarray(row), jnp.asarray(active))


def _etdrk4_step(params: Params, inputs: Inputs, layout: _Layout, y: tuple, t, h, base: drive_mod.Drive):
    """One ETDRK4 step of length h from (t, y) (y: the layout's chunks); `base` is the
    piece's drive (piecewise-constant inputs), only its clock moves with the stages."""
    lin = lambda f, *xs: jax.tree.map(f, *xs)  # elementwise over the chunks

    def field(tt, yy):
        state = layout.unravel(yy)
        drive = dataclasses.replace(base, clock_h=drive_mod.clock_time(inputs, tt))
        d, env, fluxes = vector_field_with_drive(tt, state, params, inputs, drive)
        return layout.ravel(d), (state, drive, env, fluxes)

    f0, (state, drive, env, fluxes) = field(t, y)
    rate = layout.ravel(decay_rates(params, inputs, state, drive, env, fluxes))
    N = lambda tt, yy: lin(lambda f, r, x: f + r * x, field(tt, yy)[0], rate, yy)
    weights = tuple(_weights(r, h) for r in rate)
    e, e2, p1h = (tuple(w[i] for w in weights) for i in range(3))
    nu = lin(lambda f, r, x: f + r * x, f0, rate, y)
    a = lin(lambda w, x, p, n: w * x + p * n, e2, y, p1h, nu)
    na = N(t + 0.5 * h, a)
    b = lin(lambda w, x, p, n: w * x + p * n, e2, y, p1h, na)
    nb = N(t + 0.5 * h, b)
    c = lin(lambda w, x, p, m, n: w * x + p * (2.0 * m - n), e2, a, p1h, nb, nu)
    nc = N(t + h, c)

    def combine(w, x, n0, n1, n2, n3):
        ex, _, _, w0, w12, w3 = w
        return ex * x + h * (w0 * n0 + w12 * (n1 + n2) + w3 * n3)

    y1 = tuple(combine(*args) for args in zip(weights, y, nu, na, nb, nc))
    return y1, (nu, lin(jnp.add, na, nb), nc, rate)


def _balance(start: State, states: State) -> State:
    """`states` with the cumulative counters made consistent with the volume balance since
    `start` (same shapes, or `start` broadcast against them): removed = removed_start + delta(synthesized) -
    delta(volume) in every gland, and the infant's intake scaled by the same correction (it
    is the infant's share of removal). The exponential weights of volume (rate = removal) and
    of the counters (rate 0) differ, so the raw counters drift from the balance by the
    method's error; the counters feed nothing back, so this only makes 'milk made = removed
    + stored' exact, as in the reference. Applied after every step (measured: cheaper in a
    vmapped reverse-mode herd gradient than balancing only the returned states, 1.6 s
    against 2.4 s for 16 lactations) and to the dense output within a step."""
    ga, gb = start.glands, states.glands
    removed = ga.removed + (gb.synthesized - ga.synthesized) - (gb.milk_volume - ga.milk_volume)
    raw = jnp.sum(gb.removed - ga.removed, axis=-1)
    new = jnp.sum(removed - ga.removed, axis=-1)
    nonzero = jnp.abs(raw) > 1e-300
    scale = jnp.where(nonzero, new / jnp.where(nonzero, raw, 1.0), 1.0)
    a0 = start.systemic.infant_intake
    intake = a0 + (states.systemic.infant_intake - a0) * scale
    return dataclasses.replace(states, glands=dataclasses.replace(gb, removed=removed),
                               systemic=dataclasses.replace(states.systemic, infant_intake=intake))


def _dense(y, theta, h, stages):
    """The state a fraction theta into a step (3rd-order continuous extension of ETDRK4: the
    classical RK4 one with theta^k / k! replaced by theta^k phi_k(theta z); exact at theta = 1)."""
    nu, nab, nc, rate = stages
    z = -rate * h * theta
    ez = jnp.exp(z)
    p1, p2, p3 = _phis(z, ez)
    th = h * theta
    return ez * y + th * (
        (p1 - 3 * theta * p2 + 4 * theta**2 * p3) * nu
        + (2 * theta * p2 - 4 * theta**2 * p3) * nab
        + (4 * theta**2 * p3 - theta * p2) * nc
    )


class _Stepper:
    """One step of the session grid as a function of arrays: the layouts and the static parts
    of the inputs and parameters (hashable Python objects, closed over)."""

    def __init__(self, layout, drive_layout, inputs_static, params_static, with_stages: bool = False):
        self.layout, self.drive_layout = layout, drive_layout
        self.inputs_static, self.params_static = inputs_static, params_static
        self.with_stages = with_stages  # the scan also stores each step's stages (dense='extension')

    def piece(self, params, inputs, y, t, hh, base):
        """The step from (t, y) of length hh under the drive chunk `base`: (y1 chunks, stages)."""
        p = eqx.combine(params, self.params_static)
        i = eqx.combine(inputs, self.inputs_static)
        y1, stages = _etdrk4_step(p, i, self.layout, y, t, hh, self.drive_layout.unravel(base))
        return self.layout.ravel(_balance(self.layout.unravel(y), self.layout.unravel(y1))), stages

    def empty(self, y):
        return y, (jax.tree.map(jnp.zeros_like, y),) * 4

    def step(self, params, inputs, y, xs):
        """One scan step: the branch is a nested computation that XLA:CPU runs inline
        (CHUNK_ELEMENTS); it also lets empty pieces (back-to-back sessions, unneeded uniform
        points) cost nothing in a single solve. Stacked outputs per step: the end state (its
        chunks in order) and, with `with_stages`, the four stage vectors as a second output.
        Every stacked output costs a kernel per step outside the inline branch (measured:
        305-day cow 135 -> 110 ms with one output instead of its 2 chunks x 5), and in reverse
        mode every per-step slice of a cotangent does too (`solve_sessions`, `dense`). The
        states stay apart from the stages so that reading states (sessions, hours) does not
        make reverse mode build cotangents as wide as all five (a vmapped herd gradient of 253
        lactations took 45 s with one output)."""
        t, hh, base = xs
        if not self.with_stages:
            y1 = jax.lax.cond(hh > 0.0, lambda: self.piece(params, inputs, y, t, hh, base)[0], lambda: y)
            return y1, (jnp.concatenate(y1),)
        y1, stages = jax.lax.cond(hh > 0.0, lambda: self.piece(params, inputs, y, t, hh, base),
                                  lambda: self.empty(y))
        return y1, (jnp.concatenate(y1), jnp.concatenate(jax.tree.leaves(stages)))


def _scan(stepper: _Stepper, params, inputs, y0, xs):
    """The forward scan: every step's end state (steps, states) and, with the stepper's
    `with_stages`, its stages (steps, 4 x states), as a tuple."""
    return jax.lax.scan(lambda y, x: stepper.step(params, inputs, y, x), y0, xs)[1]


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _scan_vjp(stepper: _Stepper, params, inputs, y0, xs):
    """`_scan` whose reverse mode is a reverse scan of per-step VJPs: each step is recomputed
    from its stored start state and transposed inside one `lax.cond` (one nested computation
    that XLA:CPU runs inline), and only the parameters and inputs being differentiated get
    cotangents. JAX's own reverse mode of the checkpointed scan copied every parameter and
    input scalar out of a recomputing `lax.cond` per step as residuals (~150 kernels of a
    ~870-kernel backward step for a cow)."""
    return _scan(stepper, params, inputs, y0, xs)


def _scan_fwd(stepper, params, inputs, y0, xs):
    values = [jax.tree.map(lambda p: p.value, x, is_leaf=_is_primal) for x in (params, inputs, y0, xs)]
    flags = tuple(tuple(bool(p.perturbed) for p in jax.tree.leaves(x, is_leaf=_is_primal)) for x in (params, inputs, xs))
    outs = _scan(stepper, *values)
    return outs, (values, outs, _Static(flags))


class _Static(eqx.Module):
    """Which leaves of (params, inputs, xs) are differentiated: static, so a residual."""

    flags: tuple = eqx.field(static=True)


def _is_primal(x) -> bool:
    return isinstance(x, jax.custom_derivatives.CustomVJPPrimal)


def _scan_bwd(stepper, residuals, ct_outs):
    (params, inputs, y0, xs), outs, static = residuals
    flags_p, flags_i, flags_x = static.flags
    ct_outs = tuple(jnp.zeros(c.shape, c.dtype) if isinstance(c, jax.custom_derivatives.SymbolicZero) else c
                    for c in ct_outs)
    ends = outs[0]
    split = stepper.layout.chunks
    # the differentiated leaves: loop-invariant (params, inputs) and per step (t, hh, drive)
    leaves_p, tree_p = jax.tree.flatten(params)
    leaves_i, tree_i = jax.tree.flatten(inputs)
    leaves_x, tree_x = jax.tree.flatten(xs)
    inv = [x for x, f in zip(leaves_p + leaves_i, flags_p + flags_i) if f]

    def rebuild(inv_diff, x_diff, x_all):
        it = iter(inv_diff)
        lp = [next(it) if f else x for x, f in zip(leaves_p, flags_p)]
        li = [next(it) if f else x for x, f in zip(leaves_i, flags_i)]
        ix = iter(x_diff)
        lx = [next(ix) if f else x for x, f in zip(x_all, flags_x)]
        return jax.tree.unflatten(tree_p, lp), jax.tree.unflatten(tree_i, li), jax.tree.unflatten(tree_x, lx)

    y0_flat = jnp.concatenate(y0)

    def back(carry, k_xs):
        ct_y, ct_inv = carry
        k, x_all, ct_k = k_xs
        # the step's start state: a row of `ends` (no shifted copy of the whole array)
        previous = jax.lax.dynamic_index_in_dim(ends, jnp.maximum(k - 1, 0), keepdims=False)
        y_start = jnp.where(k > 0, previous, y0_flat)
        ct_end, ct_stages = ct_k[0], ct_k[1:]
        # chunk-sized operands only (CHUNK_ELEMENTS); the sums sit inside the branch, where
        # they run inline, rather than one top-level kernel each
        ct_rows = split(ct_end)
        ct_stage_rows = tuple(split(r) for r in ct_stages[0].reshape(4, -1)) if ct_stages else ()
        y_chunks = split(y_start)
        x_diff = [x for x, f in zip(x_all, flags_x) if f]

        def through():
            def f(y, inv_diff, x_diff):
                p, i, (t, hh, base) = rebuild(inv_diff, x_diff, x_all)
                y1, stages = stepper.piece(p, i, y, t, hh, base)
                return (y1, stages) if stepper.with_stages else y1

            _, vjp = jax.vjp(f, y_chunks, inv, x_diff)
            ct_y1 = tuple(a + b for a, b in zip(ct_y, ct_rows))
            ct_y0, d_inv, d_x = vjp((ct_y1, ct_stage_rows) if stepper.with_stages else ct_y1)
            return ct_y0, [a + b for a, b in zip(ct_inv, d_inv)], d_x

        def skip():  # an empty piece: y1 = y (stages zero)
            return tuple(a + b for a, b in zip(ct_y, ct_rows)), list(ct_inv), [jnp.zeros_like(x) for x in x_diff]

        hh = x_all[1]  # xs = (t0, h, drive chunk)
        ct_y0, ct_inv, d_x = jax.lax.cond(hh > 0.0, through, skip)
        return (ct_y0, ct_inv), d_x

    init = (tuple(jnp.zeros_like(c) for c in y0), [jnp.zeros_like(x) for x in inv])
    (ct_y0, ct_inv), ct_x = jax.lax.scan(back, init, (jnp.arange(ends.shape[0]), leaves_x, ct_outs), reverse=True)
    it = iter(ct_inv)
    ct_p = jax.tree.unflatten(tree_p, [next(it) if f else None for f in flags_p])
    ct_i = jax.tree.unflatten(tree_i, [next(it) if f else None for f in flags_i])
    ix = iter(ct_x)
    ct_xs = jax.tree.unflatten(tree_x, [next(ix) if f else None for f in flags_x])
    return ct_p, ct_i, ct_y0, ct_xs


_scan_vjp.defvjp(_scan_fwd, _scan_bwd, symbolic_zeros=True)


def solve_sessions(params: Params, inputs: Inputs, ts: jnp.ndarray, y0: State, session_steps: int,
                   max_step_h: float, recovery_h: tuple[float, ...] = (), startup: tuple[float, ...] = (0.0, 1.0),
                   custom_vjp: bool = True, growth: float = 1.0, dense: str = "step"):
    """Integrate on the session grid. Returns (states at the output times ts (dense output), at
    session starts, at session ends (grid points), number of steps, all finite).
    custom_vjp: reverse mode by `_scan_vjp` (reverse only, like diffrax's checkpointed adjoint);
    False: JAX differentiates the scan itself (forward and reverse mode).
    dense: how states at the output times are made (`SolverSettings.dense_output`): 'step',
    one step of the method from the start of the piece holding each time; 'extension', the
    method's continuous extension from each step's stages, which the scan then stores."""
    if dense not in DENSE_OUTPUTS:
        raise ValueError(f"solve_sessions: dense={dense!r}; expected one of {DENSE_OUTPUTS}")
    grid, start_index, end_index = session_grid(inputs, session_steps, max_step_h, recovery_h, startup, growth)
    xp = np if isinstance(grid, np.ndarray) else jnp  # index arithmetic stays out of XLA when concrete
    t0, t1 = grid[:-1], grid[1:]
    h = t1 - t0
    mid = 0.5 * (t0 + t1)
    row, active = piece_sessions(inputs.feeds, mid)
    layout = _Layout(y0)
    y0_chunks = layout.ravel(y0)
    y0_flat = jnp.concatenate(y0_chunks)
    drives = piece_drives(inputs, mid, row, active)
    # each piece's drive enters the step as one flat chunk (one slice of the scan's inputs per
    # step, not one per leaf)
    drive_layout = _Layout(jax.tree.map(lambda x: x[0], drives))
    stepper = _Stepper(layout, drive_layout, eqx.partition(inputs, eqx.is_array)[1], eqx.partition(params, eqx.is_array)[1],
                       with_stages=dense == "extension")
    run = _scan_vjp if custom_vjp else _scan
    params_arrays, inputs_arrays = eqx.filter(params, eqx.is_array), eqx.filter(inputs, eqx.is_array)
    drive_chunks = drive_layout.ravel_stacked(drives)
    ends, *stages = run(stepper, params_arrays, inputs_arrays, y0_chunks, (jnp.asarray(t0), jnp.asarray(h), drive_chunks))
    # rows of the stacked outputs are gathered, never their columns: a column slice would copy
    # the array whole (for a vmapped herd, steps x lactations x states)

    def states_at(index):
        """The state at grid point `index` (0: y0; i: the end of step i - 1)."""
        rows = ends[jnp.maximum(jnp.asarray(index) - 1, 0)]
        return jnp.where((jnp.asarray(index) == 0)[..., None], y0_flat, rows)

    # output times: inside the piece that holds each
    xq = np if isinstance(ts, np.ndarray) and xp is np else jnp
    k = xq.clip(xq.searchsorted(grid, ts, side="right") - 1, 0, h.shape[0] - 1)
    kk = jnp.asarray(k)
    pick = layout.unravel_flat
    if dense == "step":
        # one ETDRK4 step of length theta h from the piece's start under its drive (4th order,
        # as the grid's own steps), vectorised over the output times: the scan stores no stages
        out = jax.vmap(lambda y, t, hh, base: jnp.concatenate(
            stepper.piece(params_arrays, inputs_arrays, layout.chunks(y), t, hh, base)[0]))(
            states_at(k), jnp.asarray(t0)[kk], jnp.asarray(xq.clip(ts - t0[k], 0.0, h[k])),
            tuple(c[kk] for c in drive_chunks))
        states = pick(out)
    else:
        # the method's continuous extension from the step's stored stages
        n_state = y0_flat.shape[0]
        theta = jnp.asarray(xq.clip((ts - t0[k]) / xq.where(h[k] > 0, h[k], 1.0), 0.0, 1.0))
        hk = jnp.asarray(h[k])
        at_k = pick(states_at(k))
        stage_rows = stages[0][kk]

        # per leaf, so that each leaf's dense output is one fusion: on the flat state, XLA splits
        # the exp / phi arithmetic out of the leaves' slices (measured: 19 -> 6 ms, 305-day cow)
        def extension(y, nu, nab, nc, rate):
            shape = (-1,) + (1,) * (y.ndim - 1)
            return _dense(y, theta.reshape(shape), hk.reshape(shape), (nu, nab, nc, rate))

        states = _balance(at_k, jax.tree.map(extension, at_k, *(pick(stage_rows[:, i * n_state:(i + 1) * n_state])
                                                                for i in range(4))))
    return (states, pick(states_at(start_index)), pick(states_at(end_index)), h.shape[0],
            jnp.all(jnp.isfinite(ends[-1])))


DAILY_AMOUNTS = ("milk_intake_ml", "milk_removed_ml")
DAILY_COMPOSITION = ("milk_lactose_g_l", "milk_protein_g_l", "milk_fat_g_l", "milk_sodium_mmol_l",
                     "milk_potassium_mmol_l", "milk_chloride_mmol_l", "milk_citrate_mmol_l")


def agreement(reference, trajectory, params: Params, inputs: Inputs, min_session_ml: float = 1.0) -> dict:
    """Largest relative differences of `trajectory` from `reference` (NumPy floats):
    each daily amount and daily mean composition over the days where the reference is above
    1e-3 of its largest value (an all-zero series, e.g. intake under machine milking, is
    skipped), and the volume removed per session over the real sessions that remove at least
    `min_session_ml` in the reference ('per_session_removed_ml')."""
    from lactojax.observation import daily, per_session

    # jitted: run eagerly, the first call dispatches (and compiles) every operation on its own
    # (~9 s for a 6-day cow against ~1 s)
    daily, per_session = eqx.filter_jit(daily), eqx.filter_jit(per_session)
    d_ref, d_new = daily(reference, params, inputs), daily(trajectory, params, inputs)
    out = {}
    for key in DAILY_AMOUNTS + DAILY_COMPOSITION:
        r, f = np.asarray(d_ref[key]), np.asarray(d_new[key])
        keep = np.abs(r) > 1e-3 * np.max(np.abs(r), initial=0.0)
        if keep.any():
            out[key] = float(np.max(np.abs(f - r)[keep] / np.abs(r)[keep]))
    s_ref, s_new = per_session(reference, params, inputs), per_session(trajectory, params, inputs)
    r, f = np.asarray(s_ref["removed_ml"]), np.asarray(s_new["removed_ml"])
    keep = np.asarray(s_ref["valid"]) & (r >= min_session_ml)
    out["per_session_removed_ml"] = float(np.max(np.abs(f - r)[keep] / r[keep])) if keep.any() else 0.0
    out["daily_max"] = max(v for k, v in out.items() if k != "per_session_removed_ml")
    return out


__all__ = ["agreement", "session_fractions", "session_grid", "solve_sessions"]
