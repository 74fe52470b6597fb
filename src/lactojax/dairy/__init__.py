"""Dairy baselines: the standard empirical lactation curves and the summaries dairy
scientists judge a lactation model by.

- `curves`: Wood, Wilmink and MilkBot curves of daily yield (kg/d) against days in milk,
  per-lactation least squares (`fit_curve`) and herd fits with a pooled empirical-Bayes
  prior (`fit_herd`);
- `metrics`: 305-day yield, peak yield and day, persistency (`lactation_metrics`);
- `records`: daily yields (kg/d) per lactation from a lactojax dataset table
  (`daily_yield_records`);
- `tables`: a simulated cow's or goat's daily table in dairy units (kg/d, %, SCC, days in
  milk) for `lactojax simulate` and the scenarios.

Numpy/scipy only: nothing here imports JAX. The names below are loaded on first use, so
importing one submodule (the CLI's `tables`) does not import scipy.
"""

import importlib

_SUBMODULE = {
    "CURVES": "curves",
    "MILKBOT": "curves",
    "WILMINK": "curves",
    "WILMINK_K_PER_DAY": "curves",
    "WOOD": "curves",
    "Curve": "curves",
    "CurveFit": "curves",
    "HerdFit": "curves",
    "fit_curve": "curves",
    "fit_herd": "curves",
    "milkbot": "curves",
    "wilmink": "curves",
    "wilmink_yield": "curves",
    "wood": "curves",
    "PERSISTENCY_DIM": "metrics",
    "lactation_metrics": "metrics",
    "DailyYields": "records",
    "daily_yield_records": "records",
}


def __getattr__(name):
    if name in _SUBMODULE:
        return getattr(importlib.import_module(f"lactojax.dairy.{_SUBMODULE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_SUBMODULE)
