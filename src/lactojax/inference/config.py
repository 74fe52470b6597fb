"""Fit configurations: one TOML file per study in `fits/`, read by `load_config(path)` into
a typed, frozen, validated `FitConfig` (one pydantic model per TOML table). Each key is
declared once, with type, default, range or choices and a description with units; the JSON
Schema and the docs reference (`lactojax config schema|reference`) are generated from them.
Errors name the file and the dotted key: `fits/x.toml: [nuts.warmup] expected an integer
>= 0, got -3`; an unknown key suggests the closest valid one.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.json_schema import GenerateJsonSchema, SkipJsonSchema
from pydantic_core import core_schema

from lactojax.datasets import list_datasets
from lactojax.datasets.feedlog import DEFAULT_GLANDS
from lactojax.datasets.schema import FLAGS
from lactojax.inference.heterogeneity import DEFAULT_SCALE as HETEROGENEITY_SCALE
from lactojax.inference.heterogeneity import MODELS as HETEROGENEITY_MODELS
from lactojax.inference.noise import DEFAULT_PRIOR_SD as NOISE_PRIOR_SD
from lactojax.inference.noise import MODES as NOISE_MODES
from lactojax.inference.map import LBFGS_MEMORY
from lactojax.inputs import MAX_HORIZON_DAYS, InputError, regular_feeds
from lactojax.parameters import PARAMETERS, SPECIES_PRESETS, species_spec
from lactojax.solver import ADJOINT_NAMES, GRID_KEYS, METHOD_NAMES, SOLVER_NAMES, SolverSettings

METHODS = ("map", "nuts", "svi")
MODELS = ("group", "hierarchical")
POPULATION_FACTORS = ("breed", "parity")  # lactojax.datasets.subjects
GUIDES = ("normal", "mvn", "lowrank")
CHAIN_METHODS = ("vectorized", "sequential", "parallel")

# The fit configuration's one name for how gradients go through the solver, and the
# `SolverSettings.adjoint` each value means (the only place the two names meet).
GRADIENT_ADJOINT: dict[str, str] = {"reverse": "recursive_checkpoint", "forward": "forward"}
GRADIENTS = tuple(GRADIENT_ADJOINT)
assert set(GRADIENT_ADJOINT.values()) <= set(ADJOINT_NAMES)

# Fits solve with the session solver (SolverSettings' default). With method = "adaptive"
# they use looser tolerances and a smaller step budget than `SolverSettings()`
# (a named choice, not an accident): rtol = atol = 1e-4 changes daily intake and sodium
# by <= 0.1 % against 1e-6 at half the steps (docs/fitting.md, "what it costs"), and a
# draw that needs more than 50,000 steps (fit horizons <= 31 days take <= ~6,000) is
# rejected as a solver failure instead of stalling a chain. `throw=False`: a failed solve
# becomes a -inf log-density, never an exception. Every other setting is SolverSettings'.
FIT_SOLVER_OVERRIDES: dict[str, Any] = {"rtol": 1e-4, "atol": 1e-4, "max_steps": 50_000, "throw": False}
FIT_SOLVER_DEFAULTS = SolverSettings().replace(**FIT_SOLVER_OVERRIDES)

# The longest horizon any command simulates: `lactojax.inputs.MAX_HORIZON_DAYS` (imported above;
# defined with the schedules, so that `simulate` and the scenarios check it without importing
# inference), re-exported here for [fit] horizon_days.


class ConfigError(ValueError):
    """A fit configuration that cannot be used; the message names the file and the key.

    key: dotted key ("nuts.warmup"), or None for the whole file; source: the file (or
    command-line option) the value came from; detail: what was expected.
    """

    _rel: tuple[str, ...] | None = None  # key below the section that raised it (None: `key` is absolute)

    def __init__(self, detail: str, key: str | None = None, source: str | None = None):
        self.detail, self.key, self.source = detail, key, source
        super().__init__(f"{source or '<config>'}: {f'[{key}] ' if key else ''}{detail}")

    def at(self, source: str) -> "ConfigError":
        """The same error attributed to `source` (a file name)."""
        return ConfigError(self.detail, self.key, source)


def _suggest(name, valid: Iterable) -> str:
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class FrozenMap(dict):
    """A read-only, hashable dict: the value of a TOML table such as [parameters.fixed]."""

    def _read_only(self, *args, **kwargs):
        raise TypeError("a configuration table is read-only; use replace()")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __hash__(self) -> int:
        return hash(frozenset(self.items()))


K, V = TypeVar("K"), TypeVar("V")
Array = Annotated[tuple[V, ...], BeforeValidator(lambda v: tuple(v) if isinstance(v, list) else v)]  # TOML array
Table = Annotated[dict[K, V], AfterValidator(FrozenMap)]  # TOML table


@dataclasses.dataclass(frozen=True)
class OneOf:
    """Type marker: a name from `names()`, a list known only at run time, or any string
    starting with `prefix`. Unknown names suggest the closest; the JSON Schema lists them."""

    what: str
    names: Callable[[], Iterable[str]]
    hint: str = ""
    prefix: str | None = None
    paths: bool = False  # also a path to a file (`is_data_path`; checked by the section)

    def check(self, value: str) -> str:
        if self.paths and is_data_path(value):
            return value
        if value not in (known := tuple(self.names())) and not (self.prefix and value.startswith(self.prefix)):
            raise ConfigError(f"unknown {self.what} {value!r}{_suggest(value, known)}{self.hint}")
        return value

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler):
        alternatives = [{"enum": list(self.names())}]
        if self.prefix:
            alternatives.append({"pattern": f"^{self.prefix}"})
        if self.paths:  # `is_data_path`: a path separator, or a .csv / .csv.gz name (any case)
            alternatives.append({"pattern": r"[/\\]|\.[cC][sS][vV](\.[gG][zZ])?$"})
        return {**handler(schema), **(alternatives[0] if len(alternatives) == 1 else {"anyOf": alternatives})}


DATA_SUFFIXES = (".csv", ".csv.gz")


def is_data_path(value: str) -> bool:
    """A [fit] datasets entry naming a file or directory of the user's own data rather than
    a bundled dataset: it holds a path separator or ends in .csv / .csv.gz."""
    return "/" in value or os.sep in value or value.lower().endswith(DATA_SUFFIXES)


def resolve_path(value: str, base: str | None) -> str:
    """A path from a configuration file, relative to that file's directory (`base`); absolute
    paths and paths without a base file (a dict, the command line) are kept as written."""
    if not value or os.path.isabs(value) or base is None:
        return value
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(base)), value))


def _unique(values: tuple) -> tuple:
    if twice := [v for v in values if values.count(v) > 1]:
        raise ConfigError(f"{twice[0]!r} listed twice")
    return values


Unique = Annotated[Array[V], AfterValidator(_unique), Field(json_schema_extra={"uniqueItems": True})]
Dataset = Annotated[str, OneOf("dataset", list_datasets, " (see `lactojax data list`), or a path to your own data "
                               "(a .csv file or a directory)", paths=True)]
Flag = Literal[tuple(f for f in FLAGS if f)]
Parameter = Annotated[str, OneOf("parameter", lambda: PARAMETERS, " (see `lactojax params`)")]
ObservableName = Annotated[str, OneOf("observable", lambda: _modelled_observables(),
                                  " (an observable the model predicts: docs/datasets.md, Vocabulary)")]


def _modelled_observables() -> tuple[str, ...]:
    from lactojax.datasets.vocabulary import OBSERVABLES

    return tuple(o.name for o in OBSERVABLES if o.modelled)


def _lognormal_observables() -> tuple[str, ...]:
    from lactojax.datasets.vocabulary import LOGNORMAL, OBSERVABLES

    return tuple(o.name for o in OBSERVABLES if o.modelled and o.individual_likelihood == LOGNORMAL)


LogNormalObservable = Annotated[str, OneOf("observable with log-normal records", _lognormal_observables,
                                           " (Student-t and log-Student-t records already have heavy tails)")]


class Section(BaseModel):
    """Base of the sections: frozen; construction and `replace` validate and raise a
    ConfigError naming the dotted key."""

    # allow_inf_nan=False: a TOML `inf` or `nan` (valid TOML floats) is refused naming its key, not fitted with
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)
    TABLE: ClassVar[str] = ""

    def __init__(self, **values):
        try:
            super().__init__(**values)
        except ValidationError as err:
            raise _config_error(err, type(self), self.TABLE) from None

    def __setattr__(self, name, value):
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}; use replace()")

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)

    def replace(self, **changes):
        """A copy with `changes` (validated again)."""
        return type(self)(**{**{k: getattr(self, k) for k in self.keys()}, **changes})

    def to_dict(self) -> dict[str, Any]:
        """Plain values: lists for tuples, dicts for tables; None (unset) left out."""
        return self.model_dump(mode="json", exclude_none=True, exclude={"source"})

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """This table's JSON Schema (nested tables written in place)."""
        return _schema(cls)


class FitSection(Section):
    """[fit]: what is fitted, to which data, how."""

    TABLE: ClassVar[str] = "fit"
    name: str = Field("", description="label of the outputs (default fits/results/<name>); empty: the file's name "
                      "without .toml")
    description: str = Field("", description="free text describing the fit")
    species: Literal[tuple(SPECIES_PRESETS)] = Field("human", description="parameter preset: nominal values and bounds")
    datasets: Unique[Dataset] = Field(min_length=1, description="datasets fitted: data/<name>/ (`lactojax data list`) "
                                    "or your own observation table: a path (relative to this file) "
                                    "to a .csv / .csv.gz file or a directory holding observations.csv "
                                    "(docs/datasets.md, Your own data)")
    horizon_days: float = Field(10.0, gt=0, multiple_of=1, json_schema_extra={"maximum": MAX_HORIZON_DAYS},
                                description="simulated horizon, "
                                "days from birth (whole days); rows beyond it are excluded; the model covers "
                                "lactations up to two years, so at most 3 years")
    method: Literal[METHODS] = Field("nuts", description="inference method: MAP (+ Laplace draws), NUTS or SVI")
    model: Literal[MODELS] = Field("group", description="group: one parameter set for every row; hierarchical: "
                                   "per-subject parameters around population values (see [hierarchical])")
    seed: int = Field(0, ge=0, description="random seed of starts, chains and predictive draws")
    include_flags: Array[Flag] = Field((), description="row flags whose rows are fitted anyway (default: flagged "
                                       "rows are excluded)")
    observables: Unique[ObservableName] = Field((), description="fit only the rows of these observables (e.g. "
                                            "[\"milk_yield_daily\", \"milk_yield_per_milking\"] for a yield-only herd "
                                            "fit); the other rows are listed in excluded_rows.csv with the reason; "
                                            "empty: every observable the datasets hold")

    @model_validator(mode="after")
    def _check(self):
        if self.horizon_days > MAX_HORIZON_DAYS:  # here, not `le=`: the message says why
            raise ConfigError(f"expected at most {MAX_HORIZON_DAYS} days (3 years), got {self.horizon_days:g}: the "
                              "model describes lactations up to two years", "fit.horizon_days")
        for value in self.datasets:
            if is_data_path(value) and not os.path.exists(value):
                raise ConfigError(f"no such file or directory {value!r}", "fit.datasets")
        return self

    def user_datasets(self) -> tuple[str, ...]:
        """The entries that are paths to the user's own data (`is_data_path`)."""
        return tuple(d for d in self.datasets if is_data_path(d))


class DesignSection(Section):
    """[design]: the feeding schedule simulated for every data row: evenly spaced feeds, or
    the mother's own feed log (`feed_log`)."""

    TABLE: ClassVar[str] = "design"
    SCHEDULE_KEYS: ClassVar[tuple[str, ...]] = ("feeds_per_day", "feed_duration_min", "both_sides", "night_feeds")
    feed_log: str = Field("", description="a feed log (feeds.csv: one row per feed, pump session or milking; "
                          "docs/datasets.md, Your own data), path relative to this file: the schedule simulated "
                          "instead of evenly spaced feeds (feeds_per_day, feed_duration_min, both_sides and "
                          "night_feeds are then not used)")
    delivery_time: str = Field("", description="feed_log with timestamps (column start): the time of delivery, ISO "
                               "8601 (e.g. 2026-03-01T04:30)")
    subject: str = Field("", description="the subject fitted when the observation table or feed log holds several "
                         "(column subject); empty: the only one")
    feeds_per_day: float = Field(10.0, gt=0, description="evenly spaced feeds per 24 h, 1/day")
    feed_duration_min: float = Field(15.0, gt=0, description="duration of one gland's drainage at a feed, min")
    n_glands: int | None = Field(None, ge=1, description="number of glands (breasts; udder quarters); unset: the "
                                 "species' (human and goat 2, cow 4)")
    both_sides: bool = Field(True, description="every feed drains all glands one after the other (false: one side "
                             "per feed, alternating)")
    night_feeds: bool = Field(True, description="feed through the night (false: skip feeds between 23:00 and 06:00)")

    @model_validator(mode="after")
    def _check(self):
        if self.feed_log:
            unused = [k for k in self.SCHEDULE_KEYS if getattr(self, k) != type(self).model_fields[k].default]
            if unused:
                raise ConfigError(f"{', '.join(unused)}: not used with a feed log (the log gives every feed); "
                                  "remove them or feed_log", "design")
            if not os.path.isfile(self.feed_log):
                raise ConfigError(f"no such file {self.feed_log!r}", "design.feed_log")
        elif self.delivery_time:
            raise ConfigError("only used with a feed_log whose rows give timestamps", "design.delivery_time")
        return self if self.feed_log else self._check_schedule()

    def glands(self, species: str) -> int:
        """n_glands, or the species' count when unset."""
        return self.n_glands or DEFAULT_GLANDS[species]

    def to_dict(self) -> dict[str, Any]:
        """Plain values; with a feed log, without the evenly-spaced schedule's keys (unused)."""
        out = super().to_dict()
        return {k: v for k, v in out.items() if not (self.feed_log and k in self.SCHEDULE_KEYS)}

    def _check_schedule(self):
        try:  # the schedule builder's own checks (a feed must fit in the interval between feeds)
            regular_feeds(1.0, self.feeds_per_day, n_glands=self.n_glands or 2, duration_min=self.feed_duration_min,
                          both_sides=self.both_sides, night_feeds=self.night_feeds)
        except InputError as err:
            raise ConfigError(str(err), "design") from None
        return self


class PriorOverride(Section):
    """[parameters.prior.<name>]: replaces the table prior's centre and / or width."""

    TABLE: ClassVar[str] = "parameters.prior.<name>"
    loc: float | None = Field(None, description="prior centre in the parameter's own unit, strictly inside its bounds")
    scale: float | None = Field(None, gt=0, description="prior width on the prior's log or logit scale")


class ParametersSection(Section):
    """[parameters]: estimated parameters, fixed values and prior overrides."""

    TABLE: ClassVar[str] = "parameters"
    estimate: Unique[Parameter] = Field(min_length=1, description="parameters estimated (`lactojax params`); all "
                                      "others are fixed")
    fixed: Table[Parameter, float] = Field({}, validate_default=True, description="name = value: fixed values "
                                           "replacing the nominal value, in the parameter's unit")
    prior: Table[Parameter, PriorOverride] = Field({}, validate_default=True, description="name = {loc, scale}: "
                                                   "prior overrides of estimated parameters")

    @model_validator(mode="after")
    def _check(self):
        for n in self.fixed:
            if n in self.estimate:
                raise ConfigError("is also estimated", f"parameters.fixed.{n}")
        for n in self.prior:
            if n not in self.estimate:
                raise ConfigError("is not an estimated parameter", f"parameters.prior.{n}")
        return self

    def check_species(self, species: str) -> None:
        """Fixed values and prior centres inside the species' bounds."""
        for n, v in self.fixed.items():
            spec = species_spec(n, species)
            if not spec.lower <= v <= spec.upper:
                raise ConfigError(f"{v} outside bounds [{spec.lower}, {spec.upper}] {spec.unit} ({species})",
                                  f"parameters.fixed.{n}")
        for n, o in self.prior.items():
            spec = species_spec(n, species)
            if o.loc is not None and not spec.lower < o.loc < spec.upper:
                raise ConfigError(f"{o.loc} must lie strictly inside the bounds ({spec.lower}, {spec.upper}) "
                                  f"{spec.unit} ({species})", f"parameters.prior.{n}.loc")

    def prior_overrides(self) -> dict[str, dict[str, float]]:
        """{name: {"loc": ..., "scale": ...}} as `PriorSet.from_table` takes them."""
        return {n: o.to_dict() for n, o in self.prior.items()}


class SolverSection(Section):
    """[solver]: how each simulation is solved and differentiated (defaults: FIT_SOLVER_DEFAULTS)."""

    TABLE: ClassVar[str] = "solver"
    method: Literal[METHOD_NAMES] = Field(FIT_SOLVER_DEFAULTS.method, description="sessions: fixed-step exponential "
                                          "RK4 on the session grid (fast, the same work for every draw); adaptive: the "
                                          "detailed reference (diffrax, rtol/atol)")
    session_steps: int = Field(FIT_SOLVER_DEFAULTS.session_steps, ge=1, description="method = sessions: steps per "
                               "removal session (unset: the species' grid, 3 for cows)")
    session_growth: float = Field(FIT_SOLVER_DEFAULTS.session_growth, gt=0, description="method = sessions: each "
                                  "step of a session this many times the one before (1: equal steps)")
    max_step_h: float = Field(FIT_SOLVER_DEFAULTS.max_step_h, gt=0, description="method = sessions: longest step "
                              "between sessions, h")
    recovery_h: Array[float] = Field(FIT_SOLVER_DEFAULTS.recovery_h, description="method = sessions: extra step "
                                     "boundaries this long after each session's end, h (each > 0; unset: the "
                                     "species' grid, [0.2, 1.5] for cows)")
    startup_h: float = Field(FIT_SOLVER_DEFAULTS.startup_h, ge=0, description="method = sessions: hours after "
                             "delivery stepped at most startup_step_h")
    startup_step_h: float = Field(FIT_SOLVER_DEFAULTS.startup_step_h, gt=0, description="method = sessions: longest "
                                  "step over the first startup_h at delivery, h")
    startup_step_growth: float = Field(FIT_SOLVER_DEFAULTS.startup_step_growth, ge=0, description="method = "
                                       "sessions: each hour after delivery lengthens the startup step by this, h "
                                       "(unset: the species' grid, 0.05 for cows; 0 otherwise)")
    solver: Literal[SOLVER_NAMES] = Field(FIT_SOLVER_DEFAULTS.solver, description="method = adaptive: diffrax "
                                          "solver (explicit tsit5 / dopri5; stiff kvaerno*)")
    rtol: float = Field(FIT_SOLVER_DEFAULTS.rtol, gt=0, lt=1, description="method = adaptive: relative error "
                        "tolerance")
    atol: float = Field(FIT_SOLVER_DEFAULTS.atol, gt=0, description="method = adaptive: absolute error "
                        "tolerance, in each state's own unit")
    max_steps: int = Field(FIT_SOLVER_DEFAULTS.max_steps, ge=100, description="method = adaptive: step budget per "
                           "solve; more is a solver failure (-inf log-density)")
    gradient: Literal[GRADIENTS] = Field(
        next(g for g, a in GRADIENT_ADJOINT.items() if a == FIT_SOLVER_DEFAULTS.adjoint),
        description="how gradients go through the solver: reverse (adjoint with checkpoints) or forward mode "
                    "(cheaper for a few parameters)")
    save_every_h: float = Field(FIT_SOLVER_DEFAULTS.save_every_h, gt=0, description="spacing of the saved output "
                                "grid, h")
    checkpoints: int = Field(FIT_SOLVER_DEFAULTS.checkpoints or 0, ge=0, description="method = adaptive, reverse mode: solver steps kept "
                             "for the backward pass; 0: diffrax chooses; = max_steps: keep every step (no "
                             "recomputation, more memory)")

    @model_validator(mode="after")
    def _check(self):
        if not all(r > 0 for r in self.recovery_h):
            raise ConfigError(f"expected offsets > 0 hours, got {list(self.recovery_h)}", "solver.recovery_h")
        if self.checkpoints > self.max_steps:
            raise ConfigError(f"expected at most max_steps ({self.max_steps}), got {self.checkpoints}",
                              "solver.checkpoints")
        return self

    def settings(self, species: str | None = None) -> SolverSettings:
        """The `SolverSettings` these keys mean for `species`: grid keys left unset take the
        species' grid (`SolverSettings.for_species`), as does `dense_output` (no key: a cost
        choice, not an accuracy one). `gradient` is the configuration's name for
        `SolverSettings.adjoint` (GRADIENT_ADJOINT), `checkpoints = 0` is None (diffrax's
        choice); `throw` and `dt0_h` are FIT_SOLVER_DEFAULTS'."""
        species_grid = SolverSettings.for_species(species)
        grid = {k: getattr(self if k in self.model_fields_set else species_grid, k) for k in GRID_KEYS}
        grid["recovery_h"] = tuple(grid["recovery_h"])
        return FIT_SOLVER_DEFAULTS.replace(
            method=self.method, session_growth=self.session_growth, **grid,
            max_step_h=self.max_step_h, dense_output=species_grid.dense_output,
            startup_h=self.startup_h, startup_step_h=self.startup_step_h,
            solver=self.solver, rtol=self.rtol, atol=self.atol, max_steps=self.max_steps,
            save_every_h=self.save_every_h, adjoint=GRADIENT_ADJOINT[self.gradient],
            checkpoints=self.checkpoints or None)


class MapSection(Section):
    """[map]: multi-start MAP (Adam), always run: optimum, Laplace approximation and NUTS starts."""

    TABLE: ClassVar[str] = "map"
    starts: int = Field(4, ge=1, description="number of optimiser starts")
    steps: int = Field(150, ge=1, description="Adam steps per start")
    learning_rate: float = Field(0.05, gt=0, description="Adam peak learning rate (cosine-decayed), on the "
                                 "unconstrained scale")
    screen: int = Field(0, ge=0, description="0: prior centre and prior draws as starts; N: the best starts among the "
                        "prior centre and N space-filling screening points")
    lbfgs_steps: int = Field(0, ge=0, description="after the Adam steps, optimise the best start by L-BFGS "
                             "(SciPy L-BFGS-B, at most this many iterations, one solve per evaluation); 0: none. "
                             "For long horizons, where Adam's fixed steps stall before the optimum")
    lbfgs_memory: int = Field(LBFGS_MEMORY, ge=1, description="correction pairs L-BFGS keeps (SciPy's maxcor): its "
                              "approximation of the curvature has at most this rank. 10 (SciPy's default) "
                              "suits a few dozen unknowns; a herd's coupled per-lactation and population "
                              "unknowns (d ~ 100-2000) converge in fewer iterations with more (the cost per "
                              "pair is O(d), nothing beside a solve)")
    hessian: bool = Field(True, description="Newton-polish the optimum and compute its finite-difference Hessian "
                          "(2 d + 1 gradients; the Laplace approximation). false (large herds): no Laplace "
                          "covariance, method = map then reports the optimum alone")


class NutsSection(Section):
    """[nuts]: the No-U-Turn sampler (numpyro)."""

    TABLE: ClassVar[str] = "nuts"
    chains: int = Field(4, ge=1, description="number of chains")
    warmup: int = Field(150, ge=0, description="warmup (adaptation) iterations per chain")
    draws: int = Field(150, ge=1, description="posterior draws kept per chain")
    max_tree_depth: int = Field(5, ge=1, description="maximum tree depth (at most 2^depth - 1 leapfrog steps per draw)")
    target_accept: float = Field(0.8, gt=0, lt=1, description="target acceptance probability of step-size adaptation")
    chain_method: Literal[CHAIN_METHODS] = Field("vectorized", description="how chains run: vectorized (one vmapped "
                                                 "sampler), sequential or parallel (one device each)")
    dense_mass: bool = Field(True, description="dense (true) or diagonal mass matrix")
    adapt_mass_matrix: bool = Field(True, description="adapt the mass matrix during warmup (false: keep the Laplace "
                                    "covariance at the MAP)")
    init_from_map: bool = Field(True, description="start chains at Laplace draws around the MAP, with its covariance "
                                "as the mass matrix (false: prior draws, identity)")
    checkpoint_every: int = Field(10, ge=1, description="iterations between checkpoints (sampler state, RNG keys, "
                                  "draws so far) in <out>/checkpoint/, from which `lactojax fit --resume` continues "
                                  "a killed run; the draws do not depend on it")


class SviSection(Section):
    """[svi]: stochastic variational inference (numpyro autoguides)."""

    TABLE: ClassVar[str] = "svi"
    guide: Literal[GUIDES] = Field("mvn", description="autoguide: normal (mean field), mvn (full covariance) or "
                                   "lowrank")
    steps: int = Field(1000, ge=1, description="optimisation steps")
    learning_rate: float = Field(0.01, gt=0, description="Adam learning rate")
    draws: int = Field(1000, ge=1, description="posterior draws from the fitted guide")
    rank: int = Field(2, ge=1, description="rank of the lowrank guide's covariance")
    checkpoint_every: int = Field(100, ge=1, description="steps between checkpoints (optimiser state, RNG key, "
                                  "losses so far) in <out>/checkpoint/, for `lactojax fit --resume`")


class HierarchicalSection(Section):
    """[hierarchical]: the herd (population) model, used when fit.model = "hierarchical"."""

    TABLE: ClassVar[str] = "hierarchical"
    tau_scale: float = Field(0.3, gt=0, description="half-normal scale of each population spread tau_j "
                             "(unconstrained z-scale)")
    max_subjects: int | None = Field(None, ge=1, description="fit at most this many subjects (first in the data); "
                                     "unset: all")
    subjects: Unique[str] = Field((), description="subject ids fitted (`<id>` or `<dataset>:<id>`); empty: all "
                                  "(up to max_subjects); `lactojax fit --subjects`")
    levels: Unique[Literal[POPULATION_FACTORS]] = Field(
        (), description="population factors (subject covariates): the first one's levels get separate population "
                        "centres (e.g. breed), each further one's levels offsets from its first level (e.g. parity "
                        "2 and 3+ against 1); empty: one population")
    offset_scale: float = Field(0.5, gt=0, description="normal prior sd of the level offsets of levels[1:] "
                                "(unconstrained z-scale)")
    until_day: float | None = Field(None, gt=0, multiple_of=1, description="fit only the records up to this day in "
                                    "milk and forecast the rest (predictions.csv still covers the whole horizon); "
                                    "`lactojax fit --until-day`")
    forecast_days: int = Field(305, ge=1, description="days in milk covered by predictions.csv and lactations.csv "
                               "(cow and goat fits)")
    predictive_draws: int = Field(100, ge=1, description="posterior draws simulated over forecast_days for "
                                  "predictions.csv and lactations.csv")
    noise: Literal[NOISE_MODES] = Field(
        "fixed", description="measurement noise of the records: fixed: each observable's default scale (docs/"
                             "datasets.md); fitted: one scale per observable of the fitted records, estimated "
                             "(sigma_<observable> in summary.csv), every predictive interval with it")
    noise_prior_sd: float = Field(NOISE_PRIOR_SD, gt=0, description="noise = \"fitted\": prior sd of each log "
                                  "sigma around its default (log-normal prior; 1 = a factor e either way)")
    heavy_tails: Unique[LogNormalObservable] = Field(
        (), description="observables whose records get Student-t tails (4 degrees of freedom) on the log scale "
                        "instead of log-normal noise: for records with outliers, such as milkings that were "
                        "missed, incomplete or mis-weighed, which would otherwise drag the fit (docs/fitting.md)")

    @model_validator(mode="after")
    def _check(self):
        if self.subjects and self.max_subjects is not None and self.max_subjects < len(self.subjects):
            raise ConfigError(f"lists {len(self.subjects)} subjects but max_subjects = {self.max_subjects}",
                              "hierarchical.subjects")
        return self


class HeterogeneitySection(Section):
    """[heterogeneity]: between-study discrepancy of group-mean and event-time rows
    (lactojax.inference.heterogeneity): each reported mean may differ from the model's by a
    relative between-study SD kappa, estimated; group fits."""

    TABLE: ClassVar[str] = "heterogeneity"
    model: Literal[HETEROGENEITY_MODELS] = Field(
        "none", description="none: rows differ from the model by their standard error only; pooled: one kappa for "
                            "every group-mean and event-time row; observable: one kappa per observable (chosen "
                            "by PSIS-LOO, `lactojax compare`, docs/fitting.md)")
    scale: float = Field(HETEROGENEITY_SCALE, gt=0, description="half-normal prior scale of each kappa (relative "
                         "sd: 0.25 = a study's mean is typically within ~25 % of the model's)")


class OutputsSection(Section):
    """[outputs]: what is written besides the posterior."""

    TABLE: ClassVar[str] = "outputs"
    predictive_draws: int = Field(200, ge=1, description="draws of the Laplace approximation written by method = map")
    prior_draws: int = Field(2000, ge=10, description="draws of the prior in posterior.nc (group prior; they give "
                             "summary.csv its prior_sd)")
    prior_predictive_draws: int = Field(100, ge=0, description="of those, draws simulated for the prior predictive "
                                        "(posterior.nc group prior_predictive; each costs a solve of every subject); "
                                        "0: none")


class FitConfig(Section):
    """A validated fit configuration: one frozen section per TOML table.

    Build with `load_config(path)`, `FitConfig.from_dict(raw, source)` or directly from
    sections; every construction validates. `source` (the file read) is not part of the
    configuration's value: two configurations with the same sections are equal.
    """

    fit: FitSection
    design: DesignSection = Field(default_factory=DesignSection)
    parameters: ParametersSection
    solver: SolverSection = Field(default_factory=SolverSection)
    map: MapSection = Field(default_factory=MapSection)
    nuts: NutsSection = Field(default_factory=NutsSection)
    svi: SviSection = Field(default_factory=SviSection)
    hierarchical: HierarchicalSection = Field(default_factory=HierarchicalSection)
    heterogeneity: HeterogeneitySection = Field(default_factory=HeterogeneitySection)
    outputs: OutputsSection = Field(default_factory=OutputsSection)
    source: SkipJsonSchema[str] = "<config>"

    def __init__(self, **values):
        try:
            super().__init__(**values)
        except ConfigError as err:
            raise err.at(values.get("source", "<config>")) from None

    @model_validator(mode="after")
    def _check(self):
        if not self.fit.name:  # default name: the file's
            stem = os.path.splitext(os.path.basename(self.source))[0] if not self.source.startswith("<") else "fit"
            self.__dict__["fit"] = self.fit.replace(name=stem)
        self.parameters.check_species(self.fit.species)  # bounds depend on the species
        if self.heterogeneity.model != "none" and self.fit.model != "group":
            raise ConfigError("a between-study discrepancy is for group fits of published summaries (a herd's "
                              "records carry their own noise model): set heterogeneity.model = \"none\" or "
                              "fit.model = \"group\"", "heterogeneity.model")
        if self.fit.method == "nuts" and self.nuts.init_from_map and not self.map.hessian:
            raise ConfigError("needs the Laplace covariance (map.hessian = true), or set nuts.init_from_map = false",
                              "nuts.init_from_map")
        return self

    def _value(self) -> tuple:
        return tuple(getattr(self, name) for name in self.sections())

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and self._value() == other._value()

    def __hash__(self) -> int:
        return hash(self._value())

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        return {name: f.annotation for name, f in cls.model_fields.items() if name != "source"}

    @classmethod
    def from_dict(cls, raw: Mapping, source: str = "<config>") -> "FitConfig":
        """Validate a nested dict (a parsed TOML file) into a FitConfig."""
        if not isinstance(raw, Mapping):
            raise ConfigError("expected a TOML table at top level", None, source)
        if "source" in raw:  # the file, not a section
            raise ConfigError(f"unknown section (valid sections: {', '.join(cls.sections())})", "source", source)
        return cls(**raw, source=source)

    def with_overrides(self, method: str | None = None, chains: int | None = None,
                       draws: int | None = None, warmup: int | None = None, subjects=None,
                       until_day: float | None = None, heterogeneity: str | None = None) -> "FitConfig":
        """Command-line overrides (`lactojax fit --method/--chains/--draws/--warmup/--subjects/
        --until-day/--heterogeneity`); `draws` also sets the SVI draws to draws x chains.
        Errors name the option."""
        cfg = self
        if (subjects is not None or until_day is not None) and cfg.fit.model != "hierarchical":
            raise ConfigError("--subjects and --until-day select lactations of a herd fit: the configuration "
                              "needs fit.model = \"hierarchical\"", "--subjects/--until-day")
        if subjects is not None:  # an explicit list of lactations replaces the file's cap
            cfg = cfg.replace(hierarchical=cfg.hierarchical.replace(max_subjects=None))
        for flag, section, key, value in (("method", "fit", "method", method), ("chains", "nuts", "chains", chains),
                                          ("warmup", "nuts", "warmup", warmup), ("draws", "nuts", "draws", draws),
                                          ("subjects", "hierarchical", "subjects",
                                           None if subjects is None else tuple(subjects)),
                                          ("until-day", "hierarchical", "until_day", until_day),
                                          ("heterogeneity", "heterogeneity", "model", heterogeneity)):
            if value is not None:
                try:
                    cfg = cfg.replace(**{section: getattr(cfg, section).replace(**{key: value})})
                    if key == "draws":
                        cfg = cfg.replace(svi=cfg.svi.replace(draws=max(value * cfg.nuts.chains, 1)))
                except ConfigError as err:
                    raise err.at(f"--{flag}") from None
        return cfg

    def to_toml(self) -> str:
        """The resolved configuration (every default filled in) as TOML; `load_config`
        reads it back to an equal FitConfig."""
        lines = []
        for name in self.sections():  # each section's own to_dict (a feed log drops the schedule keys)
            body = getattr(self, name).to_dict()
            lines += [f"[{name}]", *(f"{k} = {_toml(v)}" for k, v in body.items() if not isinstance(v, dict))]
            for k, table in body.items():
                if isinstance(table, dict) and table:
                    lines += [f"\n[{name}.{k}]", *(f"{kk} = {_toml(v)}" for kk, v in table.items())]
            lines.append("")
        return "\n".join(lines)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema (draft 07) of a fit configuration file, generated from the section
        declarations: types, defaults, ranges, choices and descriptions."""
        return {"$schema": "http://json-schema.org/draft-07/schema#",
                "title": "lactojax fit configuration (fits/*.toml)", **super().json_schema(),
                "description": "Generated by `lactojax config schema` from lactojax.inference.config; "
                               "do not edit by hand."}


def _toml(v) -> str:
    """A TOML value (strings, numbers, booleans and arrays of them are JSON too)."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"
    return json.dumps(v, ensure_ascii=False)


class _TomlSchema(GenerateJsonSchema):
    """pydantic's JSON Schema without titles; TOML has no null, so `X | None` is X."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def nullable_schema(self, schema):
        return self.generate_inner(schema["schema"])


@functools.cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON Schema with nested models written in place (no $ref) and no null defaults."""
    raw = model.model_json_schema(schema_generator=_TomlSchema)
    defs = raw.pop("$defs", {})

    def tidy(node):
        if isinstance(node, list):
            return [tidy(x) for x in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            node = {**defs[node["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}}
        return {k: tidy(v) for k, v in node.items() if not (k == "title" and isinstance(v, str) or
                                                             k == "default" and v is None)}
    return tidy(raw)


def _describe(s: dict) -> str:
    """A JSON Schema type in words: 'an integer', 'a list of strings', 'a table of numbers'."""
    inner = s.get("additionalProperties")
    if s.get("type") == "array":
        return f"a list of {_describe(s['items']).split(' ', 1)[1]}s"
    if isinstance(inner, dict):
        return f"a table of {{{', '.join(inner['properties'])}}} tables" if "properties" in inner else \
            f"a table of {_describe(inner).split(' ', 1)[1]}s"
    return {"boolean": "true or false", "integer": "an integer", "number": "a number"}.get(s.get("type"), "a string")


def _range(s: dict) -> str:
    ops = (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"))
    return " and ".join(f"{op} {s[k]:g}" for k, op in ops if k in s)


_EXPECTED = {"int_type": "an integer", "float_type": "a number", "finite_number": "a finite number",
             "bool_type": "true or false",
             "string_type": "a string", "tuple_type": "a list", "dict_type": "a table", "model_type": "a table"}


def _config_error(err: ValidationError, model: type[BaseModel], table: str) -> ConfigError:
    """pydantic's first error as a ConfigError naming the dotted key `table.key...`."""
    e = err.errors()[0]
    loc = [str(p) for p in e["loc"] if not isinstance(p, int) and p != "[key]"]
    cause, kind, value = (e.get("ctx") or {}).get("error"), e["type"], e.get("input")
    if isinstance(cause, ConfigError) and cause.key and cause._rel is None:
        return cause  # a cross-field check naming its key
    owner, prop = model, {}  # the innermost model on the path, and the schema of the key in it
    for part in loc:
        if owner is not None and part in owner.model_fields:
            prop, ann = _schema(owner)["properties"][part], owner.model_fields[part].annotation
            owner = next((a for a in (ann, *getattr(ann, "__args__", ())) if isinstance(a, type)
                          and issubclass(a, BaseModel)), None)
    if isinstance(cause, ConfigError):  # a nested section's error, or a OneOf name
        detail, loc = cause.detail, loc + list(cause._rel or ())
    elif kind == "extra_forbidden" and (owner or model) is FitConfig:
        detail = f"unknown section{_suggest(loc[-1], FitConfig.sections())} (valid sections: " \
                 f"{', '.join(FitConfig.sections())})"
    elif kind == "extra_forbidden":
        keys = (owner or model).keys()
        detail = f"unknown key {loc[-1]!r}{_suggest(loc[-1], keys)} (valid keys: {', '.join(keys)})"
    elif kind == "missing" and model is FitConfig and len(loc) == 1:
        detail = f"missing section [{loc[0]}]"
    elif kind in ("missing", "too_short"):
        detail = f"required: {prop.get('description')}"
    elif kind == "literal_error":
        allowed = prop.get("enum") or prop.get("items", {}).get("enum")
        detail = f"unknown value {value!r}{_suggest(value, allowed)} (expected one of {allowed})"
    elif kind == "multiple_of":
        detail = f"expected a whole number, got {value!r}"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        detail = f"expected {_describe(prop)} {_range(prop)}, got {value!r}"
    else:
        detail = f"expected {_EXPECTED[kind]}, got {value!r}" if kind in _EXPECTED else e["msg"]
    out = ConfigError(detail, ".".join(filter(None, [table, *loc])) or None)
    out._rel = tuple(loc)
    return out


def load_config(path: str | os.PathLike) -> FitConfig:
    """Read and validate a TOML fit configuration (ConfigError on any problem)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("no such file", None, path) from None
    except OSError as err:  # a directory, no permission
        raise ConfigError(f"cannot read the file ({err.strerror or err})", None, path) from None
    except UnicodeDecodeError as err:  # TOML is UTF-8 text
        raise ConfigError(f"not valid TOML: not UTF-8 text ({err.reason} at byte {err.start})", None, path) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", None, path) from None
    return FitConfig.from_dict(_resolve_paths(raw, path), path)


def _resolve_paths(raw, path: str):
    """Paths to the user's own files (fit.datasets entries, design.feed_log) made relative to
    the configuration file's directory, as its reader means them."""
    if not isinstance(raw, Mapping):
        return raw
    raw = dict(raw)
    fit, design = raw.get("fit"), raw.get("design")
    if isinstance(fit, Mapping) and isinstance(fit.get("datasets"), list):
        raw["fit"] = {**fit, "datasets": [resolve_path(d, path) if isinstance(d, str) and is_data_path(d) else d
                                          for d in fit["datasets"]]}
    if isinstance(design, Mapping) and isinstance(design.get("feed_log"), str):
        raw["design"] = {**design, "feed_log": resolve_path(design["feed_log"], path)}
    return raw


__all__ = ["CHAIN_METHODS", "FIT_SOLVER_DEFAULTS", "FIT_SOLVER_OVERRIDES", "GRADIENT_ADJOINT", "GUIDES", "METHODS",
           "MODELS", "ConfigError", "DesignSection", "FitConfig", "FitSection", "FrozenMap", "HierarchicalSection",
           "MapSection", "NutsSection", "OutputsSection", "ParametersSection", "PriorOverride", "Section",
           "SolverSection", "SviSection", "is_data_path", "load_config", "resolve_path"]
