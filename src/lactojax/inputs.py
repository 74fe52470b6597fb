"""Inputs as data: feeds / milkings / pump sessions, drug and antibiotic courses, nipple
breach, retained placenta and the physiology profile.

All arrays are fixed-size so that schedules of different lengths batch together: a
schedule is padded with no-op rows that start after any horizon (`PAD_TIME_H`). Builders
validate with NumPy (before tracing) and raise `InputError` naming what was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

PAD_TIME_H = 1.0e7  # no-op rows start and end here, far beyond any horizon
# The longest horizon any command simulates (days from birth; `simulate --days`, [fit]
# horizon_days, the scenarios): the model describes a lactation up to two years (README,
# "Whole lactations"; the session solver is tested to solve a two-year horizon,
# tests/test_sessions.py), so three years leaves room and still refuses a typo such as 100000
# days, which would run for minutes with no output.
MAX_HORIZON_DAYS = 1096


class InputError(ValueError):
    """A schedule, course or profile that cannot describe a real experiment."""


class FeedSchedule(eqx.Module):
    """Milk-removal sessions, one row each, sorted by start time and not overlapping.

    A feed from both breasts at once is one row with both glands in `gland_mask`;
    sequential breasts are consecutive rows.
    """

    start_h: jnp.ndarray  # (F,) hours since delivery
    end_h: jnp.ndarray  # (F,)
    gland_mask: jnp.ndarray  # (F, G) 1 = this gland is drained in this session
    effectiveness: jnp.ndarray  # (F,) 0..1, latch or pump effectiveness
    is_pump: jnp.ndarray  # (F,) 1 = pump / milking machine (no infant appetite), 0 = infant

    @property
    def n_glands(self) -> int:
        return self.gland_mask.shape[-1]

    @property
    def n_rows(self) -> int:
        return self.start_h.shape[-1]


class Courses(eqx.Module):
    """Piecewise-constant exposures (drug dose level, antibiotic efficacy, inoculum rate)."""

    start_h: jnp.ndarray  # (K,)
    end_h: jnp.ndarray  # (K,)
    level: jnp.ndarray  # (K,) dose level (dimensionless; 1 = standard dose) or rate
    gland_mask: jnp.ndarray  # (K, G) glands exposed (systemic drugs: all ones)


class Profile(eqx.Module):
    """Physiology / pathology profile. Scalars unless marked per gland (G,)."""

    pituitary_function: jnp.ndarray  # 1 normal, 0 = Sheehan syndrome (no prolactin)
    thyroid_function: jnp.ndarray  # 0..1: 1 normal, < 1 hypothyroid (lower synthesis capacity)
    insulin_action: jnp.ndarray  # 0..1: 1 normal, < 1 insulin resistance / PCOS (lower capacity, delayed activation)
    type1_diabetes: jnp.ndarray  # 0 or 1
    obesity: jnp.ndarray  # 0..1: 0 normal weight, 1 obese (pre-pregnancy BMI >= 30; blunted early prolactin response)
    preterm: jnp.ndarray  # 0 term, 1 preterm delivery
    oxytocin_function: jnp.ndarray  # 1 normal, 0 = no let-down
    stress: jnp.ndarray  # 0..1 inhibition of oxytocin release
    n_infants: jnp.ndarray  # 1 singleton, 2 twins (appetite scales)
    retained_placenta_fraction: jnp.ndarray  # 0..1 of the term progesterone source
    placenta_removal_h: jnp.ndarray  # h; when retained tissue is removed
    delivery_clock_h: jnp.ndarray  # clock time of delivery, 0..24 (circadian phase)
    complementary_start_h: jnp.ndarray  # h after delivery when other food starts (default never)
    complementary_share: jnp.ndarray  # 0..1, share of the infant's energy from other food once established
    alveolar_fraction: jnp.ndarray  # (G,) 1 normal; < 1 glandular hypoplasia
    gland_capacity_scale: jnp.ndarray  # (G,) storage capacity relative to nominal
    duct_blockage: jnp.ndarray  # (G,) extra duct resistance (0 = patent)
    noninfective_inflammation: jnp.ndarray  # (G,) non-bacterial inflammatory drive


class Inputs(eqx.Module):
    feeds: FeedSchedule
    dopamine_agonist: Courses
    dopamine_antagonist: Courses
    antibiotic: Courses
    nipple_breach: Courses  # level = bacterial inoculum, 1e6 CFU/h
    profile: Profile
    horizon_h: float = eqx.field(static=True)

    @property
    def n_glands(self) -> int:
        return self.feeds.n_glands

    def jump_times(self) -> jnp.ndarray:
        """Every time at which an input switches: the solver must not step over these."""
        parts = [self.feeds.start_h, self.feeds.end_h]
        for c in (self.dopamine_agonist, self.dopamine_antagonist, self.antibiotic, self.nipple_breach):
            parts += [c.start_h, c.end_h]
        parts.append(jnp.atleast_1d(self.profile.placenta_removal_h))
        # concrete inputs (closed over by a jitted function): sort in NumPy, so that XLA does
        # not constant-fold a sort of thousands of elements at every compilation
        xp = jnp if any(isinstance(p, jax.core.Tracer) for p in parts) else np
        times = xp.concatenate([xp.ravel(xp.asarray(p)) for p in parts])
        # Only times strictly inside the horizon matter; the rest become no-op padding.
        times = xp.where((times > 0.0) & (times < self.horizon_h), times, PAD_TIME_H)
        return jnp.asarray(xp.sort(times))


# --------------------------------------------------------------------------------------
# Builders (NumPy, validated)
# --------------------------------------------------------------------------------------


def profile(n_glands: int = 2, **overrides) -> Profile:
    """A normal term profile; override any field, e.g. `profile(pituitary_function=0.0)`.

    Per-gland fields accept a scalar (broadcast) or a sequence of length `n_glands`.
    """
    scalars = dict(
        pituitary_function=1.0, thyroid_function=1.0, insulin_action=1.0, type1_diabetes=0.0,
        obesity=0.0, preterm=0.0, oxytocin_function=1.0, stress=0.0, n_infants=1.0,
        retained_placenta_fraction=0.0, placenta_removal_h=0.0, delivery_clock_h=8.0,
        complementary_start_h=PAD_TIME_H, complementary_share=0.0,
    )
    per_gland = dict(
        alveolar_fraction=1.0, gland_capacity_scale=1.0, duct_blockage=0.0,
        noninfective_inflammation=0.0,
    )
    unknown = set(overrides) - set(scalars) - set(per_gland)
    if unknown:
        raise InputError(
            f"unknown profile field(s) {sorted(unknown)}; expected some of "
            f"{sorted(set(scalars) | set(per_gland))}"
        )
    values = {}
    for name, default in scalars.items():
        v = np.asarray(overrides.get(name, default), dtype=float)
        if v.shape != ():
            raise InputError(f"profile field {name!r} must be a scalar, got shape {v.shape}")
        if not np.isfinite(v) or v < 0:
            raise InputError(f"profile field {name!r} must be finite and >= 0, got {v}")
        values[name] = jnp.asarray(v)
    for name, default in per_gland.items():
        v = np.broadcast_to(np.asarray(overrides.get(name, default), dtype=float), (n_glands,))
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise InputError(f"profile field {name!r} must be finite and >= 0 per gland, got {v}")
        values[name] = jnp.asarray(np.array(v))
    if not 0 <= float(values["delivery_clock_h"]) < 24:
        raise InputError("profile field 'delivery_clock_h' must be a clock time in [0, 24)")
    for name in ("retained_placenta_fraction", "thyroid_function", "insulin_action", "obesity", "type1_diabetes",
                 "complementary_share"):
        if float(values[name]) > 1:
            raise InputError(f"profile field {name!r} must be in [0, 1], got {float(values[name])}")
    return Profile(**values)


def feed_schedule(
    start_h: Sequence[float],
    duration_h: Sequence[float],
    gland_mask: Sequence[Sequence[float]],
    effectiveness: Sequence[float] | float = 1.0,
    is_pump: Sequence[float] | float = 0.0,
    source: str = "feed schedule",
) -> FeedSchedule:
    """Validated schedule from rows. `source` names the file or caller in error messages."""
    start = np.asarray(start_h, dtype=float).reshape(-1)
    duration = np.asarray(duration_h, dtype=float).reshape(-1)
    mask = np.asarray(gland_mask, dtype=float)
    n = start.shape[0]
    if mask.ndim != 2 or mask.shape[0] != n:
        raise InputError(f"{source}: gland_mask must have shape (rows={n}, glands), got {mask.shape}")
    eff = np.broadcast_to(np.asarray(effectiveness, dtype=float), (n,)).copy()
    pump = np.broadcast_to(np.asarray(is_pump, dtype=float), (n,)).copy()
    if duration.shape[0] != n:
        raise InputError(f"{source}: {duration.shape[0]} durations for {n} start times")
    for name, arr in (("start_h", start), ("duration_h", duration), ("effectiveness", eff), ("gland_mask", mask)):
        bad = np.argwhere(~np.isfinite(arr))
        if bad.size:
            raise InputError(f"{source}: row {int(bad[0][0])} column {name!r} is not finite")
    if np.any(start < 0):
        i = int(np.argmax(start < 0))
        raise InputError(f"{source}: row {i} column 'start_h' = {start[i]} is before delivery (expected >= 0)")
    if np.any(duration <= 0):
        i = int(np.argmax(duration <= 0))
        raise InputError(f"{source}: row {i} column 'duration_h' = {duration[i]} (expected > 0)")
    if np.any((eff < 0) | (eff > 1)):
        i = int(np.argmax((eff < 0) | (eff > 1)))
        raise InputError(f"{source}: row {i} column 'effectiveness' = {eff[i]} (expected 0..1)")
    if np.any((mask < 0) | (mask > 1)):
        raise InputError(f"{source}: column 'gland_mask' must be 0..1")
    order = np.argsort(start, kind="stable")
    start, duration, mask, eff, pump = start[order], duration[order], mask[order], eff[order], pump[order]
    end = start + duration
    overlap = np.nonzero(start[1:] < end[:-1] - 1e-9)[0]
    if overlap.size:
        i = int(overlap[0])
        raise InputError(
            f"{source}: sessions overlap (a session at {start[i]:.3f} h ends at {end[i]:.3f} h, after "
            f"the next starts at {start[i + 1]:.3f} h); drain simultaneous glands in one row "
            "with both in gland_mask"
        )
    return FeedSchedule(
        start_h=jnp.asarray(start), end_h=jnp.asarray(end), gland_mask=jnp.asarray(mask),
        effectiveness=jnp.asarray(eff), is_pump=jnp.asarray(pump),
    )


def _clock_ok(clock_h: float, night: bool) -> bool:
    return night or not (clock_h >= 23.0 or clock_h < 6.0)


def regular_feeds(
    days: float,
    feeds_per_day: float = 10,
    n_glands: int = 2,
    duration_min: float = 15.0,
    effectiveness: float = 1.0,
    first_feed_h: float = 1.0,
    both_sides: bool = True,
    night_feeds: bool = True,
    delivery_clock_h: float = 8.0,
    glands: Sequence[int] | None = None,
    until_h: float | None = None,
) -> FeedSchedule:
    """Evenly spaced breastfeeds. Each feed drains `glands` (default: all) one after the
    other for `duration_min` each (alternating which side goes first), or only one side
    per feed, alternating, when `both_sides=False`. Without night feeds, feeds falling
    between 23:00 and 06:00 clock time are skipped.
    """
    if feeds_per_day <= 0:
        raise InputError(f"feeds_per_day must be > 0, got {feeds_per_day}")
    glands = list(range(n_glands)) if glands is None else list(glands)
    if any(g < 0 or g >= n_glands for g in glands):
        raise InputError(f"glands {glands} out of range for n_glands={n_glands}")
    interval = 24.0 / feeds_per_day
    dur = duration_min / 60.0
    if (len(glands) if both_sides else 1) * dur > interval:
        raise InputError(
            f"a feed of {len(glands) if both_sides else 1} x {duration_min} min does not fit in the "
            f"{interval * 60:.0f}-min interval between {feeds_per_day} feeds per day"
        )
    until = days * 24.0 if until_h is None else until_h
    starts, durs, masks = [], [], []
    t, k = first_feed_h, 0
    while t < until:
        clock = (t + delivery_clock_h) % 24.0
        if _clock_ok(clock, night_feeds):
            order = glands if k % 2 == 0 else glands[::-1]
            sides = order if both_sides else [order[0]]
            for j, g in enumerate(sides):
                row = np.zeros(n_glands)
                row[g] = 1.0
                starts.append(t + j * dur)
                durs.append(dur)
                masks.append(row)
            k += 1
        t += interval
    return feed_schedule(starts, durs, np.array(masks).reshape(-1, n_glands), effectiveness, 0.0)


def feeds_by_age(
    days: float,
    plan: Sequence[tuple[float, float]],
    n_glands: int = 2,
    **feed_kw,
) -> FeedSchedule:
    """Breastfeeds whose frequency changes with the infant's age: `plan` = ((from_day,
    feeds_per_day), ...), sorted, the first from day 0, e.g. ((0, 10), (90, 8), (180, 6)).
    Each stretch is `regular_feeds(...)` with `feed_kw` (duration_min, night_feeds, ...)."""
    plan = [(float(d), float(n)) for d, n in plan]
    if not plan or plan[0][0] != 0.0:
        raise InputError(f"feeds_by_age: the plan must start at day 0, got {plan}")
    for (d0, _), (d1, _) in zip(plan, plan[1:]):
        if d1 <= d0:
            raise InputError(f"feeds_by_age: plan days must increase, got {d0:g} then {d1:g}")
    for d, n in plan:
        if not n > 0:
            raise InputError(f"feeds_by_age: feeds_per_day from day {d:g} must be > 0, got {n:g}")
    bounds = [d for d, _ in plan if d < days] + [float(days)]
    first_feed_h = feed_kw.pop("first_feed_h", 1.0)
    parts = []
    for (d0, n), d1 in zip(plan, bounds[1:]):
        # a new stretch starts half an interval into its first day
        first = first_feed_h if d0 == 0.0 else d0 * 24.0 + 24.0 / n / 2.0
        parts.append(regular_feeds(days, n, n_glands=n_glands, first_feed_h=first, until_h=d1 * 24.0, **feed_kw))
    return merge_schedules(*parts, source="feeds by age") if len(parts) > 1 else parts[0]


def milkings(
    days: float,
    clock_times_h: Sequence[float] = (5.0, 16.0),
    n_glands: int = 4,
    duration_min: float = 8.0,
    calving_clock_h: float = 8.0,
    glands: Sequence[int] | None = None,
    start_day: float = 0.5,
) -> FeedSchedule:
    """Machine/hand milkings of `glands` (default all quarters at once) at fixed clock times."""
    glands = list(range(n_glands)) if glands is None else list(glands)
    row = np.zeros(n_glands)
    row[glands] = 1.0
    starts = []
    for d in range(int(np.ceil(days)) + 1):
        for c in clock_times_h:
            t = d * 24.0 + (c - calving_clock_h) % 24.0
            if start_day * 24.0 <= t < days * 24.0:
                starts.append(t)
    starts = sorted(starts)
    return feed_schedule(starts, [duration_min / 60.0] * len(starts), [row] * len(starts), 1.0, 1.0)


def merge_schedules(*schedules: FeedSchedule, source: str = "merged schedule") -> FeedSchedule:
    """Union of several schedules (validated again for overlaps)."""
    rows = [np.asarray(s.start_h) < PAD_TIME_H for s in schedules]
    cat = lambda f: np.concatenate([np.asarray(f(s))[r] for s, r in zip(schedules, rows)])
    return feed_schedule(
        cat(lambda s: s.start_h), cat(lambda s: s.end_h - s.start_h),
        np.concatenate([np.asarray(s.gland_mask)[r] for s, r in zip(schedules, rows)]),
        cat(lambda s: s.effectiveness), cat(lambda s: s.is_pump), source=source,
    )


def courses(
    rows: Sequence[tuple[float, float, float]] = (),
    n_glands: int = 2,
    glands: Sequence[Sequence[int]] | None = None,
    name: str = "course",
) -> Courses:
    """Courses from (start_h, end_h, level) rows; `glands[i]` limits row i to some glands."""
    arr = np.asarray(rows, dtype=float).reshape(-1, 3)
    mask = np.ones((arr.shape[0], n_glands))
    if glands is not None:
        mask[:] = 0.0
        for i, gs in enumerate(glands):
            mask[i, list(gs)] = 1.0
    for i, (s, e, lvl) in enumerate(arr):
        if not (np.isfinite(s) and np.isfinite(e) and np.isfinite(lvl)):
            raise InputError(f"{name} row {i}: values must be finite, got {(s, e, lvl)}")
        if s < 0 or e <= s:
            raise InputError(f"{name} row {i}: expected 0 <= start_h < end_h, got start={s}, end={e}")
        if lvl < 0:
            raise InputError(f"{name} row {i}: level must be >= 0, got {lvl}")
    if arr.shape[0] == 0:  # one inert row keeps shapes uniform
        arr = np.array([[PAD_TIME_H, PAD_TIME_H, 0.0]])
        mask = np.zeros((1, n_glands))
    return Courses(
        start_h=jnp.asarray(arr[:, 0]), end_h=jnp.asarray(arr[:, 1]), level=jnp.asarray(arr[:, 2]),
        gland_mask=jnp.asarray(mask),
    )


def make_inputs(
    feeds: FeedSchedule,
    days: float,
    profile_: Profile | None = None,
    dopamine_agonist: Courses | None = None,
    dopamine_antagonist: Courses | None = None,
    antibiotic: Courses | None = None,
    nipple_breach: Courses | None = None,
) -> Inputs:
    """Bundle inputs for a simulation of `days` days after delivery."""
    g = feeds.n_glands
    prof = profile(g) if profile_ is None else profile_
    if prof.alveolar_fraction.shape[-1] != g:
        raise InputError(f"profile has {prof.alveolar_fraction.shape[-1]} glands, feeds have {g}")
    if days <= 0:
        raise InputError(f"days must be > 0, got {days}")
    empty = courses((), g)
    return Inputs(
        feeds=feeds,
        dopamine_agonist=empty if dopamine_agonist is None else dopamine_agonist,
        dopamine_antagonist=empty if dopamine_antagonist is None else dopamine_antagonist,
        antibiotic=empty if antibiotic is None else antibiotic,
        nipple_breach=empty if nipple_breach is None else nipple_breach,
        profile=prof,
        horizon_h=float(days) * 24.0,
    )


# --------------------------------------------------------------------------------------
# Padding and batching
# --------------------------------------------------------------------------------------


def _pad_rows(arr: jnp.ndarray, n: int, fill: float) -> jnp.ndarray:
    extra = n - arr.shape[0]
    if extra < 0:
        raise InputError(f"cannot pad {arr.shape[0]} rows down to {n}")
    pad = jnp.full((extra,) + arr.shape[1:], fill, dtype=arr.dtype)
    return jnp.concatenate([arr, pad], axis=0)


def pad_feeds(feeds: FeedSchedule, n_rows: int) -> FeedSchedule:
    """Pad with no-op sessions (zero mask, starting at PAD_TIME_H)."""
    return FeedSchedule(
        start_h=_pad_rows(feeds.start_h, n_rows, PAD_TIME_H),
        end_h=_pad_rows(feeds.end_h, n_rows, PAD_TIME_H),
        gland_mask=_pad_rows(feeds.gland_mask, n_rows, 0.0),
        effectiveness=_pad_rows(feeds.effectiveness, n_rows, 0.0),
        is_pump=_pad_rows(feeds.is_pump, n_rows, 0.0),
    )


def pad_courses(c: Courses, n_rows: int) -> Courses:
    return Courses(
        start_h=_pad_rows(c.start_h, n_rows, PAD_TIME_H),
        end_h=_pad_rows(c.end_h, n_rows, PAD_TIME_H),
        level=_pad_rows(c.level, n_rows, 0.0),
        gland_mask=_pad_rows(c.gland_mask, n_rows, 0.0),
    )


def stack_inputs(items: Sequence[Inputs]) -> Inputs:
    """Pad schedules to a common length and stack along a new leading (subject) axis."""
    if not items:
        raise InputError("stack_inputs needs at least one Inputs")
    horizons = {it.horizon_h for it in items}
    glands = {it.n_glands for it in items}
    if len(horizons) != 1 or len(glands) != 1:
        raise InputError(
            f"batched subjects need one horizon and one gland count; got horizons "
            f"{sorted(horizons)} h and gland counts {sorted(glands)}"
        )
    nf = max(it.feeds.n_rows for it in items)
    padded = []
    for it in items:
        fields = {}
        for name in ("dopamine_agonist", "dopamine_antagonist", "antibiotic", "nipple_breach"):
            k = max(getattr(x, name).start_h.shape[0] for x in items)
            fields[name] = pad_courses(getattr(it, name), k)
        padded.append(
            Inputs(feeds=pad_feeds(it.feeds, nf), profile=it.profile, horizon_h=it.horizon_h, **fields)
        )
    return jax.tree.map(lambda *xs: jnp.stack(xs), *padded)
