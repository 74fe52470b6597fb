"""Metric helpers for scenario analysis, and the antibiotic non-response red flag.

Day indices follow `lactojax.observation.daily`: day index d covers hours [24 d, 24 d + 24)
after delivery, so index 0 is the first 24 h.
"""

from __future__ import annotations

import numpy as np

from lactojax import observation as obs
from lactojax.inputs import PAD_TIME_H

from lactojax.scenarios.core import ArmResult

NIGHT_CLOCK = (23.0, 5.0)  # feeds starting 23:00-05:00 count as night feeds
DAY_CLOCK = (11.0, 17.0)  # feeds starting 11:00-17:00 count as day feeds


def day(arm: ArmResult, key: str, d: int, gland: int | None = None) -> float:
    x = arm.daily[key][d]
    return float(x if gland is None else x[gland])


def mean_days(arm: ArmResult, key: str, d0: int, d1: int, gland: int | None = None) -> float:
    """Mean of a daily series over day indices d0..d1 inclusive."""
    x = arm.daily[key][d0 : d1 + 1]
    return float(np.mean(x if gland is None else x[:, gland]))


def hourly_at(arm: ArmResult, key: str, t_h: float, gland: int | None = None) -> float:
    ts = arm.hourly["time_h"]
    x = arm.hourly[key]
    x = x if gland is None else x[:, gland]
    return float(np.interp(t_h, ts, x))


def ratio(a: float, b: float) -> float:
    return float(a / b) if b != 0 else float("inf")


def _crossing(ts, y, level) -> float:
    return float(obs.crossing_time(np.asarray(ts), np.asarray(y), level))


def synthesis_crossing(arm: ArmResult, ref: ArmResult, frac: float, ref_day: int = 7) -> float:
    """First time (h) the total milk synthesis rate reaches `frac` of the normal reference's
    mean rate on day index `ref_day` (a common yardstick for delayed arms)."""
    synth = arm.hourly["synthesis_rate_ml_h"].sum(-1)
    ref_rate = ref.hourly["synthesis_rate_ml_h"].sum(-1)[24 * ref_day : 24 * ref_day + 24].mean()
    return _crossing(arm.hourly["time_h"], synth, frac * ref_rate)


def lactose_crossing(arm: ArmResult, ref: ArmResult, frac: float = 0.95, ref_day: int = 7) -> float:
    lac_ref = ref.hourly["milk_lactose"][24 * ref_day : 24 * ref_day + 24].mean()
    return _crossing(arm.hourly["time_h"], arm.hourly["milk_lactose"], frac * lac_ref)


def sodium_below(arm: ArmResult, level: float = 20.0) -> float:
    return _crossing(arm.hourly["time_h"], -arm.hourly["milk_sodium"], -level)


def lactogenesis_markers(arm: ArmResult, ref: ArmResult) -> dict[str, float]:
    """Marker times (h) measured against the normal reference's day-7 levels."""
    return {
        "onset": synthesis_crossing(arm, ref, 0.25),
        "milk_in": synthesis_crossing(arm, ref, 0.5),
        "lactose": lactose_crossing(arm, ref, 0.95),
        "sodium": sodium_below(arm, 20.0),
    }


def first_time_below(ts, y, level, after_h: float = 0.0) -> float:
    """First grid time >= after_h at which y < level (inf if never)."""
    ts, y = np.asarray(ts), np.asarray(y)
    idx = np.nonzero((ts >= after_h) & (y < level))[0]
    return float(ts[idx[0]]) if idx.size else float("inf")


def feed_prolactin_responses(arm: ArmResult, delivery_clock_h: float = 8.0, gap_h: float = 0.05):
    """Per feed: start time (h), clock time (h) and the prolactin rise from the start of
    the feed to the end of its last side (ng/mL). Consecutive sessions closer than `gap_h`
    belong to one feed."""
    start = np.asarray(arm.inputs.feeds.start_h)
    end = np.asarray(arm.inputs.feeds.end_h)
    real = start < min(arm.inputs.horizon_h, PAD_TIME_H)
    start, end = start[real], end[real]
    prl_start = np.asarray(arm.traj.feed_start.systemic.prolactin)[real]
    prl_end = np.asarray(arm.traj.feed_end.systemic.prolactin)[real]
    feeds = []
    i = 0
    while i < len(start):
        j = i
        while j + 1 < len(start) and start[j + 1] - end[j] < gap_h:
            j += 1
        feeds.append((start[i], (start[i] + delivery_clock_h) % 24.0, prl_end[j] - prl_start[i]))
        i = j + 1
    return np.array(feeds).reshape(-1, 3)


def removal_fraction_per_feed(arm: ArmResult, gland: int, d0: int, d1: int) -> float:
    """Mean fraction of the milk stored in `gland` at the start of a session that the session
    removes, over sessions draining that gland and starting on day indices d0..d1."""
    start = np.asarray(arm.inputs.feeds.start_h)
    mask = np.asarray(arm.inputs.feeds.gland_mask)[:, gland] > 0
    sel = mask & (start >= 24.0 * d0) & (start < 24.0 * (d1 + 1)) & (start < arm.inputs.horizon_h)
    v0 = np.asarray(arm.traj.feed_start.glands.milk_volume)[sel, gland]
    removed = (np.asarray(arm.traj.feed_end.glands.removed) - np.asarray(arm.traj.feed_start.glands.removed))[sel, gland]
    return float(np.mean(removed / np.maximum(v0, 1e-9)))


def _in_clock(clock, window):
    lo, hi = window
    return (clock >= lo) | (clock < hi) if lo > hi else (clock >= lo) & (clock < hi)


def night_day_response_ratio(arm: ArmResult, from_day: int = 7, delivery_clock_h: float = 8.0) -> float:
    """Mean prolactin rise of night feeds / that of day feeds, from day index `from_day`."""
    f = feed_prolactin_responses(arm, delivery_clock_h)
    f = f[f[:, 0] >= 24.0 * from_day]
    night = f[_in_clock(f[:, 1], NIGHT_CLOCK), 2]
    dayf = f[_in_clock(f[:, 1], DAY_CLOCK), 2]
    return ratio(float(np.mean(night)), float(np.mean(dayf)))


def prolactin_auc(arm: ArmResult, d0: int, d1: int) -> float:
    """Integral of plasma prolactin over day indices d0..d1 inclusive, ng/mL x h."""
    prl = arm.hourly["plasma_prolactin"][24 * d0 : 24 * (d1 + 1) + 1]
    return float(np.trapezoid(prl, dx=1.0))


def secretory_capacity_ml_day(arm: ArmResult) -> np.ndarray:
    """Synthesis capacity with no FIL or pressure inhibition, mL/day summed over glands,
    on the hourly grid: lactose_vmax x active cells x lactose capacity / secreted lactose."""
    p = arm.params
    g = arm.traj.states.glands
    cap = (
        float(p.lactose_vmax_mmol_h)
        * np.maximum(np.asarray(g.active_cells), 0.0)
        * np.maximum(np.asarray(g.lactose_capacity), 0.0)
        / float(p.secreted_lactose_mmol_l)
        * 1000.0
        * 24.0
    )
    return cap.sum(-1)


# --------------------------------------------------------------------------------------
# Antibiotic non-response (the seeds' red flag for inflammatory breast cancer)
# --------------------------------------------------------------------------------------

RESPONSE_WINDOW_H = 72.0
REQUIRED_FALL = 0.5
FEBRILE_C = 0.5  # fever above 37.5 degC counts; below that a "50 % fall" is noise


def nonresponse_from_series(
    ts,
    inflammation,
    fever,
    start_h: float,
    window_h: float = RESPONSE_WINDOW_H,
    required_fall: float = REQUIRED_FALL,
    febrile_c: float = FEBRILE_C,
) -> dict[str, float]:
    """Antibiotic response from series: `inflammation` (e.g. the largest gland cytokine
    level) and `fever` (degC above 37) on the grid `ts` (h). Non-response: inflammation, or
    fever when febrile at the start, has not fallen by `required_fall` `window_h` after the
    start of antibiotics. Returns the numbers and `flag` (1.0 = red flag)."""
    ts = np.asarray(ts, dtype=float)
    infl = np.asarray(inflammation, dtype=float)
    fev = np.asarray(fever, dtype=float)
    end_h = start_h + window_h
    if end_h > ts[-1]:
        raise ValueError(f"response window ends at {end_h} h, after the simulation ({ts[-1]} h)")
    i0, i1 = np.interp(start_h, ts, infl), np.interp(end_h, ts, infl)
    f0, f1 = np.interp(start_h, ts, fev), np.interp(end_h, ts, fev)
    infl_fall = 1.0 - i1 / i0 if i0 > 0 else 0.0
    fever_fall = 1.0 - f1 / f0 if f0 > 0 else 0.0
    inflamed_fails = infl_fall < required_fall
    fever_fails = (f0 >= febrile_c) and (fever_fall < required_fall)
    return {
        "inflammation_start": float(i0),
        "inflammation_end": float(i1),
        "inflammation_fall": float(infl_fall),
        "fever_start_c": float(f0),
        "fever_end_c": float(f1),
        "fever_fall": float(fever_fall),
        "flag": float(inflamed_fails or fever_fails),
    }


def antibiotic_start_h(inputs) -> float:
    """Start of the first antibiotic course in `inputs` (raises if there is none)."""
    start = np.asarray(inputs.antibiotic.start_h)
    level = np.asarray(inputs.antibiotic.level)
    real = (start < inputs.horizon_h) & (level > 0)
    if not real.any():
        raise ValueError("these inputs contain no antibiotic course")
    return float(start[real].min())


def antibiotic_response(traj, inputs, start_h: float | None = None, **kw) -> dict[str, float]:
    """`nonresponse_from_series` on a simulated trajectory: inflammation = the largest
    gland cytokine level, fever = systemic fever; start = first antibiotic course."""
    start = antibiotic_start_h(inputs) if start_h is None else start_h
    cyt = np.asarray(traj.states.glands.cytokine).max(axis=-1)
    fever = np.asarray(traj.states.systemic.fever)
    return nonresponse_from_series(np.asarray(traj.ts), cyt, fever, start, **kw)


def antibiotic_nonresponse_flag(traj, inputs, start_h: float | None = None, **kw) -> bool:
    """True when inflammation or fever has not fallen by >= 50 % within 72 h of the start
    of antibiotics: the seeds' red flag (re-evaluate; think of inflammatory breast cancer)."""
    return bool(antibiotic_response(traj, inputs, start_h, **kw)["flag"])
