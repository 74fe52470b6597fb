"""lactojax: a differentiable mechanistic model of lactation with Bayesian fitting.

Time is in hours since delivery of the placenta. Volumes in mL, concentrations in
mmol/L or g/L, hormones in ng/mL (prolactin, progesterone) and pg/mL (oxytocin).

The public API is re-exported here (`lactojax.simulate`, `lactojax.Params`, ...; the list
is `__all__`, the guide docs/api.md). Names resolve on first use (PEP 562), so
`import lactojax` is cheap and changes no global state: call `lactojax.enable_x64()`
once before creating arrays (the model needs float64; the `lactojax` CLI does it).
"""

from __future__ import annotations

import importlib
import types

from lactojax.precision import Float64Error, enable_compilation_cache, enable_x64, require_x64, x64_enabled

__version__ = "0.1.0"

# Public name -> module that defines it. The one place to change when a name moves.
_EXPORTS: dict[str, str] = {
    # parameters: the declarative table, species presets, the Params pytree
    "Params": "lactojax.parameters",
    "ParamSpec": "lactojax.parameters",
    "PARAMETER_TABLE": "lactojax.parameters",
    "PARAMETERS": "lactojax.parameters",
    "SPECIES_PRESETS": "lactojax.parameters",
    "SPECIES_BOUNDS": "lactojax.parameters",
    "species_spec": "lactojax.parameters",
    "check_within_bounds": "lactojax.parameters",
    # inputs: data types and validated builders
    "Inputs": "lactojax.inputs",
    "FeedSchedule": "lactojax.inputs",
    "Courses": "lactojax.inputs",
    "Profile": "lactojax.inputs",
    "InputError": "lactojax.inputs",
    "make_inputs": "lactojax.inputs",
    "feed_schedule": "lactojax.inputs",
    "regular_feeds": "lactojax.inputs",
    "feeds_by_age": "lactojax.inputs",
    "milkings": "lactojax.inputs",
    "merge_schedules": "lactojax.inputs",
    "courses": "lactojax.inputs",
    "profile": "lactojax.inputs",
    "stack_inputs": "lactojax.inputs",
    # solving
    "SolverSettings": "lactojax.solver",
    "State": "lactojax.state",
    "Trajectory": "lactojax.simulate",
    "simulate": "lactojax.simulate",
    # observation model and tables
    "hourly": "lactojax.observation",
    "daily": "lactojax.observation",
    "per_session": "lactojax.observation",
    "event_times": "lactojax.observation",
    "mass_balance_error": "lactojax.observation",
    "daily_table": "lactojax.tables",
    "plot_daily": "lactojax.tables",
    # fitting (issue 10: typed config, pure log-density, one fit entry point, one writer)
    "FitConfig": "lactojax.inference.config",
    "ConfigError": "lactojax.inference.config",
    "load_config": "lactojax.inference.config",
    "FitProblem": "lactojax.inference.problem",
    "FitData": "lactojax.inference.problem",
    "problem_from_config": "lactojax.inference.adapter",
    "fit_from_config": "lactojax.inference.adapter",
    "log_density": "lactojax.inference.density",
    "fit": "lactojax.inference.runner",
    "FitResult": "lactojax.inference.runner",
    "write_fit": "lactojax.inference.outputs",
    # dairy herds (issue 13): forecasts of herd fits, lactation curves and their summaries
    "herd_forecast": "lactojax.inference.forecast",
    "forecast_from_config": "lactojax.inference.adapter",
    "lactation_inputs": "lactojax.inference.problem",
    "lactation_metrics": "lactojax.dairy.metrics",
    "fit_curve": "lactojax.dairy.curves",
    "fit_herd": "lactojax.dairy.curves",
    "import_testday": "lactojax.datasets.testday",
    # your own data (issue 15): observation tables, feed logs, their checks
    "load_user_dataset": "lactojax.datasets.user",
    "observation_problems": "lactojax.datasets.user",
    "read_feed_log": "lactojax.datasets.feedlog",
    "feed_log_problems": "lactojax.datasets.feedlog",
    "feed_log_schedule": "lactojax.datasets.feedlog",
}

__all__ = sorted(
    [*_EXPORTS, "Float64Error", "enable_compilation_cache", "enable_x64", "require_x64", "x64_enabled"]
)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lactojax' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except AttributeError:
        raise AttributeError(f"lactojax.{name}: {module} defines no {name!r}") from None
    globals()[name] = value  # resolve once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps `lactojax.simulate` the function: importing the submodule of the same name
    would otherwise set the package attribute to the module. The module stays at
    `sys.modules["lactojax.simulate"]` (`importlib.import_module("lactojax.simulate")`)."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and name in _EXPORTS:
            return
        super().__setattr__(name, value)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _Package
del _sys
