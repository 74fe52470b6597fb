"""Feed-schedule helpers for scenarios, built only from `lactojax.inputs` builders."""

from __future__ import annotations

import numpy as np

from lactojax.inputs import FeedSchedule, feed_schedule, merge_schedules


def rows(fs: FeedSchedule):
    """(start_h, duration_h, gland_mask, effectiveness, is_pump) as NumPy arrays."""
    start = np.asarray(fs.start_h)
    real = start < 1e6
    return (
        start[real],
        (np.asarray(fs.end_h) - start)[real],
        np.asarray(fs.gland_mask)[real],
        np.asarray(fs.effectiveness)[real],
        np.asarray(fs.is_pump)[real],
    )


def without(fs: FeedSchedule, t0: float, t1: float, source: str = "schedule") -> FeedSchedule:
    """The schedule without the sessions that start in [t0, t1) (missed feeds)."""
    start, dur, mask, eff, pump = rows(fs)
    keep = ~((start >= t0) & (start < t1))
    return feed_schedule(start[keep], dur[keep], mask[keep], eff[keep], pump[keep], source=source)


def simultaneous_feeds(days: float, per_day: float, minutes: float, n_glands: int = 2,
                       first_h: float = 1.0, source: str = "simultaneous feeds") -> FeedSchedule:
    """Feeds draining all glands at once (twins feeding together, or a double pump)."""
    starts = np.arange(first_h, days * 24.0, 24.0 / per_day)
    return feed_schedule(starts, [minutes / 60.0] * len(starts), np.ones((len(starts), n_glands)),
                         source=source)


def feed_ends(fs: FeedSchedule, gap_h: float = 0.05) -> np.ndarray:
    """End time of each feed (consecutive sessions closer than gap_h form one feed)."""
    start, dur, *_ = rows(fs)
    end = start + dur
    out = []
    for i in range(len(start)):
        if i + 1 == len(start) or start[i + 1] - end[i] >= gap_h:
            out.append(end[i])
    return np.asarray(out)


def pump_after_feeds(fs: FeedSchedule, t0: float, t1: float, minutes: float = 15.0,
                     delay_min: float = 5.0, n_glands: int = 2) -> FeedSchedule:
    """`fs` plus a double-pump session `delay_min` after every feed that ends in [t0, t1)."""
    ends = feed_ends(fs)
    ends = ends[(ends >= t0) & (ends < t1)]
    pumps = feed_schedule(ends + delay_min / 60.0, [minutes / 60.0] * len(ends),
                          np.ones((len(ends), n_glands)), 1.0, 1.0, source="pumping after feeds")
    return merge_schedules(fs, pumps, source="feeds + pumping")
