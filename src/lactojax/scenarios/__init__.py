"""Named virtual experiments (issues 3 and 12): every behaviour in the seeds and the
whole-lactation physiology, runnable and tested.

    from lactojax.scenarios import SCENARIOS, get, run_scenario
    res = run_scenario(get("sheehan"))
    res.metrics, res.checks()

`lactojax scenario list` / `lactojax scenario run NAME --out DIR` drive the same code;
docs/physiology.md describes every scenario, its figure and the criterion its test checks.
"""

from __future__ import annotations

from lactojax.scenarios.core import (
    Arm,
    ArmResult,
    Criterion,
    Panel,
    Scenario,
    ScenarioResult,
    Setup,
    canonical_inputs,
    count_runs,
    run_many,
    run_scenario,
    simulate_arms,
)
from lactojax.scenarios.metrics import (
    antibiotic_nonresponse_flag,
    antibiotic_response,
    nonresponse_from_series,
)
from lactojax.scenarios.registry import BY_NAME, SCENARIOS
from lactojax.scenarios import whole_lactation as _whole_lactation  # noqa: F401  (registers 20-25)


def names() -> list[str]:
    return [s.name for s in SCENARIOS]


def get(name_or_number: str | int) -> Scenario:
    """A scenario by name or by its number (as `lactojax scenario list` shows it)."""
    key = str(name_or_number)
    if key in BY_NAME:
        return BY_NAME[key]
    if key.isdigit():
        for s in SCENARIOS:
            if s.number == int(key):
                return s
    raise KeyError(f"unknown scenario {name_or_number!r}; expected one of: {', '.join(names())}")


__all__ = [
    "Arm",
    "ArmResult",
    "BY_NAME",
    "Criterion",
    "Panel",
    "SCENARIOS",
    "Scenario",
    "ScenarioResult",
    "Setup",
    "antibiotic_nonresponse_flag",
    "antibiotic_response",
    "canonical_inputs",
    "count_runs",
    "get",
    "names",
    "nonresponse_from_series",
    "run_many",
    "run_scenario",
    "simulate_arms",
]
