"""Scenario machinery: arms, criteria, batched simulation and results.

A *scenario* is a named virtual experiment: a builder that returns a `Setup` (the arms to
simulate, the first being the normal reference), an `analyse` function that turns the
simulated arms into named metrics, and the quantitative `Criterion`s those metrics must meet.
Inputs are built only through the core API (`lactojax.inputs`), parameters only through
`Params.nominal(...)`.

Batching: arms of every requested scenario are grouped by (horizon, gland count), identical
arms (same `key`) are simulated once, schedules are padded to a canonical length per horizon
and each group is solved in one `jax.vmap`-ed call, so a test module compiles once per group.
Progress (`run_many(report=...)`) is therefore per group, not per arm: solving the 10 arms of
`mastitis` one call each took 12.2 s against 3.5 s in one batch (compiled, CPU, measured).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lactojax import observation as obs
from lactojax.inputs import MAX_HORIZON_DAYS, Inputs, pad_courses, pad_feeds, stack_inputs
from lactojax.parameters import Params
from lactojax.simulate import Trajectory, simulate
from lactojax.solver import SolverSettings

FEED_ROWS_PER_DAY = 40  # canonical padding of feed schedules (12 feeds x 2 sides + pumping fits)
COURSE_ROWS = 4  # canonical padding of drug / antibiotic / breach courses
# Scenarios (<= 6 weeks, criteria from the literature) run on the detailed reference; their
# criteria also hold on the session solver (checked when it became the default), and
# docs/physiology.md's numbers are the reference's.
DEFAULT_SETTINGS = SolverSettings(method="adaptive", throw=False)
# Whole-lactation scenarios (longer than 6 weeks) run on the default session solver, the path
# whole-lactation fits use; the reference is checked against it in tests/test_sessions.py.
WHOLE_LACTATION_SETTINGS = SolverSettings(throw=False)
LONGEST_REFERENCE_DAYS = 42


def settings_for(horizon_h: float) -> SolverSettings:
    """The solver settings a scenario of this horizon runs on (see DEFAULT_SETTINGS)."""
    return DEFAULT_SETTINGS if horizon_h <= LONGEST_REFERENCE_DAYS * 24.0 else WHOLE_LACTATION_SETTINGS


# --------------------------------------------------------------------------------------
# Declarations
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Arm:
    """One simulated condition. Arms with the same non-empty `key` are identical
    simulations and are solved once when scenarios are batched together."""

    label: str
    params: Params
    inputs: Inputs
    key: str = ""
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Setup:
    """What a scenario simulates: `arms[0]` is the normal reference, `arms[1]` the main arm."""

    days: int
    arms: tuple[Arm, ...]

    def __post_init__(self):
        if not 0 < self.days <= MAX_HORIZON_DAYS:  # the limit of `simulate --days` and [fit] horizon_days
            raise ValueError(f"a scenario of {self.days:g} days: expected 1 to {MAX_HORIZON_DAYS} days (3 years); "
                             "the model describes lactations up to two years")
        labels = [a.label for a in self.arms]
        if len(set(labels)) != len(labels):
            raise ValueError(f"arm labels must be unique, got {labels}")
        for a in self.arms:
            if a.inputs.horizon_h != self.days * 24.0:
                raise ValueError(f"arm {a.label!r}: horizon {a.inputs.horizon_h} h != {self.days} days")

    @property
    def reference(self) -> Arm:
        return self.arms[0]

    @property
    def main(self) -> Arm:
        return self.arms[1] if len(self.arms) > 1 else self.arms[0]

    # The (params, inputs, reference_params, reference_inputs, days) view.
    @property
    def params(self) -> Params:
        return self.main.params

    @property
    def inputs(self) -> Inputs:
        return self.main.inputs

    @property
    def reference_params(self) -> Params:
        return self.reference.params

    @property
    def reference_inputs(self) -> Inputs:
        return self.reference.inputs

    def as_tuple(self):
        return self.params, self.inputs, self.reference_params, self.reference_inputs, self.days

    def arm(self, label: str) -> Arm:
        for a in self.arms:
            if a.label == label:
                return a
        raise KeyError(f"no arm {label!r}; arms are {[a.label for a in self.arms]}")


_OPS = {
    "<": lambda x, v: x < v,
    "<=": lambda x, v: x <= v,
    ">": lambda x, v: x > v,
    ">=": lambda x, v: x >= v,
    "between": lambda x, v: v[0] <= x <= v[1],
    "true": lambda x, v: bool(x),
    "false": lambda x, v: not bool(x),
}


@dataclasses.dataclass(frozen=True)
class Criterion:
    """A quantitative check on one metric. `basis` says where the number comes from.
    `defect` names a known model defect that makes the nominal model fail this check
    (the test is then a strict xfail and the defect is listed in docs/physiology.md)."""

    metric: str
    op: str
    value: float | tuple[float, float] | None
    basis: str
    defect: str | None = None

    def __post_init__(self):
        if self.op not in _OPS:
            raise ValueError(f"criterion op {self.op!r}; expected one of {sorted(_OPS)}")

    def passes(self, x) -> bool:
        if self.op not in ("true", "false") and not np.isfinite(x):
            return False
        return bool(_OPS[self.op](x, self.value))

    def describe(self) -> str:
        if self.op == "between":
            return f"{self.value[0]:g} <= {self.metric} <= {self.value[1]:g}"
        if self.op in ("true", "false"):
            return f"{self.metric} is {self.op}"
        return f"{self.metric} {self.op} {self.value:g}"


@dataclasses.dataclass(frozen=True)
class Panel:
    """One plot panel: a daily or hourly series for some arms.

    source: "daily" (key of `obs.daily`), "hourly" (key of `obs.hourly`) or "dairy" (key of
    `lactojax.dairy.tables.dairy_daily`: yield in kg/d, composition in %, SCC; cow/goat scenarios);
    gland: None for a pooled/systemic series, an index, or "each" (one line per gland);
    arms: labels to draw (None = all); days: x-range in days.
    """

    key: str
    title: str
    source: str = "daily"
    gland: int | str | None = None
    arms: tuple[str, ...] | None = None
    days: tuple[float, float] | None = None
    log: bool = False


@dataclasses.dataclass(frozen=True)
class Scenario:
    number: int
    name: str
    title: str
    description: str
    seed: str  # what the seeds say (quoted or closely paraphrased)
    seed_ref: str  # which seed file / literature
    build: Callable[[], Setup]
    analyse: Callable[["ScenarioResult"], dict[str, float]]
    criteria: tuple[Criterion, ...]
    panels: tuple[Panel, ...]
    slow: bool = False
    # the simulated animals: "cow" / "goat" scenarios report their daily tables in dairy
    # units and plot against days in milk (presentation only; criteria read their metrics)
    species: str = "human"

    @property
    def known_defects(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.defect)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class ArmResult:
    arm: Arm
    inputs: Inputs  # the padded inputs actually simulated
    traj: Trajectory
    daily: dict[str, np.ndarray]
    hourly: dict[str, np.ndarray]
    success: bool
    num_steps: int

    @property
    def label(self) -> str:
        return self.arm.label

    @property
    def params(self) -> Params:
        return self.arm.params


@dataclasses.dataclass
class ScenarioResult:
    scenario: Scenario
    setup: Setup
    arms: dict[str, ArmResult]
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)

    def __getitem__(self, label: str) -> ArmResult:
        return self.arms[label]

    @property
    def reference(self) -> ArmResult:
        return self.arms[self.setup.reference.label]

    @property
    def success(self) -> bool:
        return all(a.success for a in self.arms.values())

    def checks(self) -> list[tuple[Criterion, float, bool]]:
        out = []
        for c in self.scenario.criteria:
            x = self.metrics.get(c.metric, float("nan"))
            out.append((c, x, c.passes(x)))
        return out


# --------------------------------------------------------------------------------------
# Batched simulation
# --------------------------------------------------------------------------------------


def canonical_rows(days: float, n_rows: int) -> int:
    rows = int(math.ceil(days * FEED_ROWS_PER_DAY))
    if n_rows > rows:  # rare: an unusually dense schedule gets its own bucket
        rows = int(math.ceil(n_rows / 256.0)) * 256
    return rows


def canonical_inputs(inputs: Inputs) -> Inputs:
    """Pad schedules and courses to the canonical shapes of this horizon (no-op rows)."""
    days = inputs.horizon_h / 24.0
    courses = {}
    for name in ("dopamine_agonist", "dopamine_antagonist", "antibiotic", "nipple_breach"):
        c = getattr(inputs, name)
        courses[name] = pad_courses(c, max(COURSE_ROWS, c.start_h.shape[0]))
    return Inputs(
        feeds=pad_feeds(inputs.feeds, canonical_rows(days, inputs.feeds.n_rows)),
        profile=inputs.profile,
        horizon_h=inputs.horizon_h,
        **courses,
    )


@functools.lru_cache(maxsize=None)
def _batched_solver(settings: SolverSettings):
    @eqx.filter_jit
    def solve(params: Params, inputs: Inputs):
        traj = jax.vmap(lambda p, i: simulate(p, i, settings))(params, inputs)
        daily, hourly = jax.vmap(lambda t, p, i: (obs.daily(t, p, i), obs.hourly(t, p, i)))(traj, params, inputs)
        return traj, daily, hourly

    return solve


def _stack_params(items: Sequence[Params]) -> Params:
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x, dtype=float) for x in xs]), *items)


def simulate_arms(arms: Sequence[Arm], settings: SolverSettings = DEFAULT_SETTINGS) -> list[ArmResult]:
    """Simulate arms sharing one horizon and gland count in one vmapped call."""
    if not arms:
        return []
    padded = [canonical_inputs(a.inputs) for a in arms]
    rows = {p.feeds.n_rows for p in padded}
    if len(rows) > 1:  # a dense schedule: bring all to the largest bucket
        n = max(rows)
        padded = [Inputs(feeds=pad_feeds(p.feeds, n), dopamine_agonist=p.dopamine_agonist,
                         dopamine_antagonist=p.dopamine_antagonist, antibiotic=p.antibiotic,
                         nipple_breach=p.nipple_breach, profile=p.profile, horizon_h=p.horizon_h)
                  for p in padded]
    batch_inputs = stack_inputs(padded)
    batch_params = _stack_params([a.params for a in arms])
    traj, daily, hourly = _batched_solver(settings)(batch_params, batch_inputs)
    traj, daily, hourly = jax.device_get((traj, daily, hourly))
    out = []
    for k, (arm, inp) in enumerate(zip(arms, padded)):
        t_k = jax.tree.map(lambda x: x[k], traj)
        out.append(
            ArmResult(
                arm=arm,
                inputs=inp,
                traj=t_k,
                daily={name: np.asarray(v[k]) for name, v in daily.items()},
                hourly={name: np.asarray(v[k]) for name, v in hourly.items()},
                success=bool(np.asarray(t_k.success)),
                num_steps=int(np.asarray(t_k.num_steps)),
            )
        )
    return out


def _unique_arms(setups: dict[str, Setup]) -> tuple[dict[str, Arm], dict[tuple[str, str], str]]:
    """The distinct simulations of these setups (arms with a key are shared between
    scenarios) and, per (scenario, arm label), the id of the simulation it reads."""
    unique: dict[str, Arm] = {}
    owner: dict[tuple[str, str], str] = {}
    for name, setup in setups.items():
        for arm in setup.arms:
            uid = arm.key or f"{name}/{arm.label}"
            unique.setdefault(uid, arm)
            owner[(name, arm.label)] = uid
    return unique, owner


def count_runs(setups: dict[str, Setup]) -> int:
    """How many simulations `run_many` makes for these setups (name -> `Scenario.build()`)."""
    return len(_unique_arms(setups)[0])


def run_many(
    scenarios: Sequence[Scenario], settings: SolverSettings | None = None,
    report: Callable[[int, str], None] | None = None, setups: dict[str, Setup] | None = None,
) -> dict[str, ScenarioResult]:
    """Build, simulate (batched by horizon and gland count) and analyse several scenarios.
    settings: None = by horizon (`settings_for`). report(done, stage): called before and
    after each batch of simulations (`done` of `count_runs` finished) and before the
    analysis, e.g. to draw progress (`lactojax scenario run`). setups: the scenarios'
    `build()` results when already built (name -> Setup)."""
    setups = dict(setups or {})
    for s in scenarios:
        if s.name not in setups:
            setups[s.name] = s.build()
    report = report or (lambda done, stage: None)
    unique, owner = _unique_arms({s.name: setups[s.name] for s in scenarios})
    groups: dict[tuple[float, int], list[str]] = {}
    for uid, arm in unique.items():
        groups.setdefault((arm.inputs.horizon_h, arm.inputs.n_glands), []).append(uid)
    solved: dict[str, ArmResult] = {}
    for (horizon_h, _), uids in sorted(groups.items()):
        chosen = settings_for(horizon_h) if settings is None else settings
        runs = f"{len(uids)} run{'s' if len(uids) > 1 else ''}"
        report(len(solved), f"simulating {runs} of {horizon_h / 24.0:g} days in one batch")
        for uid, res in zip(uids, simulate_arms([unique[u] for u in uids], chosen)):
            solved[uid] = res
        report(len(solved), f"simulated {runs}")
    report(len(solved), "analysing")
    results = {}
    for s in scenarios:
        setup = setups[s.name]
        arms = {}
        for arm in setup.arms:
            shared = solved[owner[(s.name, arm.label)]]
            arms[arm.label] = dataclasses.replace(shared, arm=arm)
        res = ScenarioResult(scenario=s, setup=setup, arms=arms)
        res.metrics = {k: float(v) for k, v in s.analyse(res).items()}
        results[s.name] = res
    return results


def run_scenario(scenario: Scenario, settings: SolverSettings | None = None,
                 report: Callable[[int, str], None] | None = None, setup: Setup | None = None) -> ScenarioResult:
    """One scenario (`run_many`); report and setup as there."""
    return run_many([scenario], settings, report, None if setup is None else {scenario.name: setup})[scenario.name]
