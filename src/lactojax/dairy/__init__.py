"""Dairy baselines: the standard empirical lactation curves and the summaries dairy
scientists judge a lactation model by.

- `curves`: Wood, Wilmink and MilkBot curves of daily yield (kg/d) against days in milk,
  per-lactation least squares (`fit_curve`) and herd fits with a pooled empirical-Bayes
  prior (`fit_herd`);
- `metrics`: 305-day yield, peak yield and day, persistency (`lactation_metrics`);
- `records`: daily yields (kg/d) per lactation from a lactojax dataset table
  (`daily_yield_records`).

Numpy/scipy only: nothing here imports JAX.
"""

from lactojax.dairy.curves import (
    CURVES,
    MILKBOT,
    WILMINK,
    WILMINK_K_PER_DAY,
    WOOD,
    Curve,
    CurveFit,
    HerdFit,
    fit_curve,
    fit_herd,
    milkbot,
    wilmink,
    wilmink_yield,
    wood,
)
from lactojax.dairy.metrics import PERSISTENCY_DIM, lactation_metrics
from lactojax.dairy.records import DailyYields, daily_yield_records

__all__ = [
    "CURVES",
    "Curve",
    "CurveFit",
    "DailyYields",
    "HerdFit",
    "MILKBOT",
    "PERSISTENCY_DIM",
    "WILMINK",
    "WILMINK_K_PER_DAY",
    "WOOD",
    "daily_yield_records",
    "fit_curve",
    "fit_herd",
    "lactation_metrics",
    "milkbot",
    "wilmink",
    "wilmink_yield",
    "wood",
]
