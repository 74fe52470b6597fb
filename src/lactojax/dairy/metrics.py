"""Summaries of a 305-day lactation from its daily yields (kg/d for DIM 1..305).

- yield_305_kg: the 305-day yield, the sum of the daily yields (kg);
- peak_yield_kg_d: the largest daily yield (kg/d);
- peak_dim: the day in milk of that peak (1..305; the first one on ties);
- persistency: the mean daily yield over DIM 201-300 divided by the peak yield
  (unitless; 1 would be a flat lactation after the peak). Persistency has many
  definitions in the literature (ratios of the yields of two periods, slopes after the
  peak, ...); this ratio of late to peak yield is the one used here because it needs
  nothing but the daily curve and is comparable between curves, models and posterior
  draws.

All work on arrays of shape (..., 305) and broadcast over the leading axes (lactations,
posterior draws), returning arrays of shape (...).
"""

from __future__ import annotations

import numpy as np

DAYS = 305
PERSISTENCY_DIM = (201, 300)  # inclusive window of days in milk averaged for persistency


def lactation_metrics(daily_yield) -> dict[str, np.ndarray]:
    """305-day yield (kg), peak yield (kg/d), peak day (DIM) and persistency of daily
    yields `daily_yield` (kg/d), shape (..., 305) with index 0 = DIM 1."""
    y = np.asarray(daily_yield, dtype=float)
    if y.ndim < 1 or y.shape[-1] != DAYS:
        raise ValueError(f"daily_yield must have shape (..., {DAYS}) (DIM 1..{DAYS}); got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("daily_yield has non-finite values; interpolate missing days first")
    peak = y.max(axis=-1)
    first, last = PERSISTENCY_DIM
    late = y[..., first - 1:last].mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        persistency = np.where(peak > 0, late / np.where(peak > 0, peak, 1.0), np.nan)
    return {
        "yield_305_kg": y.sum(axis=-1),
        "peak_yield_kg_d": peak,
        "peak_dim": y.argmax(axis=-1) + 1,
        "persistency": persistency,
    }
