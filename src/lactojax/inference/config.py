"""Fit configurations: one human-readable TOML file per study in `fits/`, read into a
typed, frozen, validated `FitConfig`.

A configuration says which datasets are fitted, which parameters are estimated (all
others are fixed at their nominal value or a configured override), the simulated study
design, solver settings and the settings of each method. Each TOML table is one frozen
section class below; each key is declared once, as a dataclass field with its type,
default and a one-line description with units (`setting(...)`). Everything else is
generated from those declarations: validation of types, ranges and choices, the
resolved TOML (`FitConfig.to_toml`), the plain dict for provenance (`FitConfig.to_dict`),
the JSON Schema used for editor completion (`FitConfig.json_schema`, written to
`fits/fit_config.schema.json` by `lactojax config schema`) and the configuration
reference in docs/fitting.md (`markdown_reference`, `lactojax config reference`).
Cross-field checks live on the sections (`check`); checks that need two sections (a
parameter's bounds depend on the species) live on `FitConfig`.

    cfg = load_config("fits/human_default.toml")      # ConfigError naming file and key
    cfg.nuts.chains, cfg.solver.settings()              # typed access; SolverSettings
    cfg = cfg.with_overrides(method="map")              # `lactojax fit --method map`
    text = cfg.to_toml()                                # every default filled in

Errors name the file and the dotted key, e.g.
`fits/x.toml: [nuts.warmup] expected an integer >= 0, got -3`; an unknown key is an
error that suggests the closest valid key.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from lactojax.inputs import InputError, regular_feeds
from lactojax.parameters import PARAMETERS, SPECIES_PRESETS, species_spec
from lactojax.solver import ADJOINT_NAMES, SOLVER_NAMES, SolverSettings

METHODS = ("map", "nuts", "svi")
MODELS = ("group", "hierarchical")
GUIDES = ("normal", "mvn", "lowrank")
CHAIN_METHODS = ("vectorized", "sequential", "parallel")

# The fit configuration's one name for how gradients go through the solver, and the
# `SolverSettings.adjoint` each value means (the only place the two names meet).
GRADIENT_ADJOINT: dict[str, str] = {"reverse": "recursive_checkpoint", "forward": "forward"}
GRADIENTS = tuple(GRADIENT_ADJOINT)
assert set(GRADIENT_ADJOINT.values()) <= set(ADJOINT_NAMES)

# Fits solve with looser tolerances and a smaller step budget than `SolverSettings()`
# (a named choice, not an accident): rtol = atol = 1e-4 changes daily intake and sodium
# by <= 0.1 % against 1e-6 at half the steps (docs/fitting.md, "what it costs"), and a
# draw that needs more than 50,000 steps (fit horizons <= 31 days take <= ~6,000) is
# rejected as a solver failure instead of stalling a chain. `throw=False`: a failed solve
# becomes a -inf log-density, never an exception. Every other setting is SolverSettings'.
FIT_SOLVER_OVERRIDES: dict[str, Any] = {"rtol": 1e-4, "atol": 1e-4, "max_steps": 50_000, "throw": False}
FIT_SOLVER_DEFAULTS = SolverSettings().replace(**FIT_SOLVER_OVERRIDES)

SCHEMA_FILE = "fit_config.schema.json"


class ConfigError(ValueError):
    """A fit configuration that cannot be used; the message names the file and the key.

    key: dotted key ("nuts.warmup"), or None for the whole file; source: the file (or
    command-line option) the value came from; detail: what was expected.
    """

    def __init__(self, detail: str, key: str | None = None, source: str | None = None):
        self.detail, self.key, self.source = detail, key, source
        where = f"[{key}] " if key else ""
        super().__init__(f"{source or '<config>'}: {where}{detail}")

    def at(self, source: str) -> "ConfigError":
        """The same error attributed to `source` (a file name)."""
        return ConfigError(self.detail, self.key, source)


# --------------------------------------------------------------------------------------
# declarations
# --------------------------------------------------------------------------------------

class FrozenMap(Mapping):
    """A read-only, hashable mapping (the value of a TOML table such as
    [parameters.fixed]); equal to a dict with the same items."""

    __slots__ = ("_items",)

    def __init__(self, items=()):
        self._items = dict(items)

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


def setting(default, doc: str, *, ge=None, gt=None, le=None, lt=None,
            choices: tuple | Callable[[], tuple] | None = None, required: bool = False,
            whole: bool = False, schema: Callable[[], dict] | None = None):
    """Declare one configuration key: its default, a one-line description (with units),
    and the checks every value must pass. `choices` applies to the value, to each item
    of a list, or to each key of a table (a callable is evaluated when needed);
    `required`: must be given (and non-empty); `whole`: a number with no fractional
    part; `schema`: extra JSON Schema for the key (editor completion only)."""
    meta = dict(doc=doc, ge=ge, gt=gt, le=le, lt=lt, choices=choices, required=required,
                whole=whole, schema=schema)
    return dataclasses.field(default=default, metadata=meta)


def _choices(meta) -> tuple | None:
    c = meta["choices"]
    return tuple(c()) if callable(c) else c


def _suggest(name: str, valid) -> str:
    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _is_mapping(hint) -> bool:
    return typing.get_origin(hint) in (Mapping, dict)


def _describe(hint) -> str:
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if typing.get_origin(hint) is tuple:
        return f"a list of {_describe(args[0]).split(' ', 1)[1]}s"
    if _is_mapping(hint):
        inner = args[1]
        if isinstance(inner, type) and issubclass(inner, Section):
            return f"a table of {{{', '.join(inner.keys())}}} tables"
        return f"a table of {_describe(inner).split(' ', 1)[1]}s"
    return str(hint)


def _coerce(value, hint, key: str):
    """`value` as the declared type (int -> float, list -> tuple, table -> read-only
    mapping) or ConfigError naming `key`."""
    bad = ConfigError(f"expected {_describe(hint)}, got {value!r}", key)
    if isinstance(hint, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(value, inner, key)
    if hint is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise bad
        return value
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)):
            raise bad
        return tuple(_coerce(v, typing.get_args(hint)[0], key) for v in value)
    if _is_mapping(hint):
        if not isinstance(value, Mapping):
            raise bad
        inner = typing.get_args(hint)[1]
        out = {}
        for k, v in value.items():
            if isinstance(inner, type) and issubclass(inner, Section):
                out[k] = v if isinstance(v, inner) else inner.from_table(v, f"{key}.{k}")
            else:
                out[k] = _coerce(v, inner, f"{key}.{k}")
        return FrozenMap(out)
    raise TypeError(f"undeclared configuration type {hint!r}")  # pragma: no cover


def _range_text(meta) -> str:
    parts = [f"{op} {meta[name]:g}" for name, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
             if meta[name] is not None]
    return " and ".join(parts)


def _check_range(value, meta, hint, key: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    ok = ((meta["ge"] is None or value >= meta["ge"]) and (meta["gt"] is None or value > meta["gt"])
          and (meta["le"] is None or value <= meta["le"]) and (meta["lt"] is None or value < meta["lt"]))
    if not ok:
        raise ConfigError(f"expected {_describe(hint)} {_range_text(meta)}, got {value!r}", key)
    if meta["whole"] and value != math.floor(value):
        raise ConfigError(f"expected a whole number, got {value!r}", key)


@dataclasses.dataclass(frozen=True)
class Section:
    """Base of the sections: one frozen dataclass per TOML table. Construction coerces
    and checks every field (types, ranges, choices) and then runs `check()`."""

    TABLE: ClassVar[str] = ""
    _hints: ClassVar[dict[str, Any]]

    def __post_init__(self):
        hints = self.hints()
        for f in dataclasses.fields(self):
            key = f"{self.TABLE}.{f.name}"
            value = _coerce(getattr(self, f.name), hints[f.name], key)
            object.__setattr__(self, f.name, value)
            meta = f.metadata
            if meta["required"] and not value:
                raise ConfigError(f"required: {meta['doc']}", key)
            _check_range(value, meta, hints[f.name], key)
            allowed = _choices(meta)
            if allowed is not None:
                items = value if isinstance(value, (tuple, Mapping)) else (value,)
                for v in items:
                    if v not in allowed:
                        raise ConfigError(f"unknown value {v!r}{_suggest(v, allowed)} "
                                          f"(expected one of {list(allowed)})", key)
        self.check()

    def check(self) -> None:
        """Cross-field checks of this section (raise ConfigError naming the key)."""

    # -- declarations -----------------------------------------------------------------
    @classmethod
    def hints(cls) -> dict[str, Any]:
        """Each field's declared type (resolved once per class)."""
        if "_hints" not in cls.__dict__:
            cls._hints = typing.get_type_hints(cls)
        return cls._hints

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_table(cls, body, where: str | None = None):
        """Build from a TOML table; unknown keys are errors with a suggestion."""
        where = where or cls.TABLE
        if not isinstance(body, Mapping):
            raise ConfigError(f"expected a table, got {body!r}", where)
        for k in body:
            if k not in cls.keys():
                raise ConfigError(f"unknown key {k!r}{_suggest(k, cls.keys())} "
                                  f"(valid keys: {', '.join(cls.keys())})", f"{where}.{k}")
        try:
            return cls(**body)
        except ConfigError as err:
            if where != cls.TABLE and err.key and err.key.startswith(cls.TABLE + "."):
                raise ConfigError(err.detail, where + err.key[len(cls.TABLE):]) from None
            raise

    def replace(self, **changes):
        """A copy with `changes` (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain values: lists for tuples, dicts for tables; None (unset) left out."""
        return {k: _plain(getattr(self, k)) for k in self.keys() if getattr(self, k) is not None}

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        hints = cls.hints()
        props, required = {}, []
        for f in dataclasses.fields(cls):
            props[f.name] = _field_schema(f, hints[f.name])
            if f.metadata["required"]:
                required.append(f.name)
        out = {"type": "object", "description": (cls.__doc__ or "").strip().splitlines()[0],
               "properties": props, "additionalProperties": False}
        if required:
            out["required"] = required
        return out


def _plain(v):
    if isinstance(v, Section):
        return v.to_dict()
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def _type_schema(hint) -> dict[str, Any]:
    if isinstance(hint, types.UnionType):
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return _type_schema(inner)
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if hint in simple:
        return {"type": simple[hint]}
    if typing.get_origin(hint) is tuple:
        return {"type": "array", "items": _type_schema(typing.get_args(hint)[0])}
    inner = typing.get_args(hint)[1]
    if isinstance(inner, type) and issubclass(inner, Section):
        return {"type": "object", "additionalProperties": inner.json_schema()}
    return {"type": "object", "additionalProperties": _type_schema(inner)}


def _field_schema(f: dataclasses.Field, hint) -> dict[str, Any]:
    meta = f.metadata
    s = _type_schema(hint)
    s["description"] = meta["doc"]
    for name, kw in (("ge", "minimum"), ("gt", "exclusiveMinimum"), ("le", "maximum"), ("lt", "exclusiveMaximum")):
        if meta[name] is not None:
            s[kw] = meta[name]
    allowed = _choices(meta)
    if allowed is not None:
        enum = {"enum": list(allowed)}
        if s["type"] == "array":
            s["items"].update(enum)
        elif s["type"] == "object":
            s["propertyNames"] = enum
        else:
            s.update(enum)
    if meta["required"]:
        s["minItems" if s["type"] == "array" else "minProperties"] = 1
    elif f.default is not None:
        s["default"] = _plain(f.default)
    if meta["schema"] is not None:
        extra = meta["schema"]()
        for k, v in extra.items():
            s[k] = {**s.get(k, {}), **v} if isinstance(v, dict) else v
    return s


def _dataset_names() -> tuple[str, ...]:
    from lactojax.datasets import list_datasets

    return tuple(list_datasets())


def _flag_names() -> tuple[str, ...]:
    from lactojax.datasets.schema import FLAGS

    return tuple(f for f in FLAGS if f)


def _parameter_names() -> tuple[str, ...]:
    return tuple(PARAMETERS)


# --------------------------------------------------------------------------------------
# sections (one per TOML table)
# --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class FitSection(Section):
    """[fit]: what is fitted, to which data, how."""

    TABLE: ClassVar[str] = "fit"
    name: str = setting("", "label of the outputs (default fits/results/<name>); empty: the file's name without .toml")
    description: str = setting("", "free text describing the fit")
    species: str = setting("human", "parameter preset: nominal values and bounds", choices=tuple(SPECIES_PRESETS))
    datasets: tuple[str, ...] = setting(
        (), "datasets fitted: data/<name>/ (`lactojax data list`) or synthetic:<...>", required=True,
        schema=lambda: {"items": {"anyOf": [{"enum": list(_dataset_names())}, {"pattern": "^synthetic:"}]}})
    horizon_days: float = setting(10.0, "simulated horizon, days from birth (whole days); rows beyond it are excluded",
                                  gt=0, whole=True)
    method: str = setting("nuts", "inference method: MAP (+ Laplace draws), NUTS or SVI", choices=METHODS)
    model: str = setting("group", "group: one parameter set for every row; hierarchical: per-subject "
                         "parameters around population values (see [hierarchical])", choices=MODELS)
    seed: int = setting(0, "random seed of starts, chains and predictive draws", ge=0)
    include_flags: tuple[str, ...] = setting((), "row flags whose rows are fitted anyway (default: flagged rows are excluded)",
                                             choices=_flag_names)

    def check(self) -> None:
        known = set(_dataset_names())
        for d in self.datasets:
            if d not in known and not d.startswith("synthetic:"):
                raise ConfigError(f"unknown dataset {d!r}{_suggest(d, known)}; known: {sorted(known)} "
                                  "(see `lactojax data list`)", "fit.datasets")
        if len(set(self.datasets)) != len(self.datasets):
            raise ConfigError("a dataset is listed twice", "fit.datasets")


@dataclasses.dataclass(frozen=True)
class DesignSection(Section):
    """[design]: the feeding schedule simulated for every data row."""

    TABLE: ClassVar[str] = "design"
    feeds_per_day: float = setting(10.0, "evenly spaced feeds per 24 h, 1/day", gt=0)
    feed_duration_min: float = setting(15.0, "duration of one gland's drainage at a feed, min", gt=0)
    n_glands: int = setting(2, "number of glands (breasts; udder quarters)", ge=1)
    both_sides: bool = setting(True, "every feed drains all glands one after the other (false: one side per feed, alternating)")
    night_feeds: bool = setting(True, "feed through the night (false: skip feeds between 23:00 and 06:00)")

    def check(self) -> None:
        # the schedule builder's own checks (a feed must fit in the interval between feeds)
        try:
            regular_feeds(1.0, self.feeds_per_day, n_glands=self.n_glands, duration_min=self.feed_duration_min,
                          both_sides=self.both_sides, night_feeds=self.night_feeds)
        except InputError as err:
            raise ConfigError(str(err), "design") from None


@dataclasses.dataclass(frozen=True)
class PriorOverride(Section):
    """[parameters.prior.<name>]: replaces the table prior's centre and / or width."""

    TABLE: ClassVar[str] = "parameters.prior.<name>"
    loc: float | None = setting(None, "prior centre in the parameter's own unit, strictly inside its bounds")
    scale: float | None = setting(None, "prior width on the prior's log or logit scale", gt=0)


@dataclasses.dataclass(frozen=True)
class ParametersSection(Section):
    """[parameters]: estimated parameters, fixed values and prior overrides."""

    TABLE: ClassVar[str] = "parameters"
    estimate: tuple[str, ...] = setting((), "parameters estimated (`lactojax params`); all others are fixed",
                                        required=True, choices=_parameter_names)
    fixed: Mapping[str, float] = setting(FrozenMap(), "name = value: fixed values replacing the "
                                         "nominal value, in the parameter's unit", choices=_parameter_names)
    prior: Mapping[str, PriorOverride] = setting(FrozenMap(), "name = {loc, scale}: prior overrides "
                                                 "of estimated parameters", choices=_parameter_names)

    def __post_init__(self):
        # name the offending parameter as a key (parameters.fixed.<name>) before the
        # generic choice check
        for table in ("fixed", "prior"):
            for n in getattr(self, table) if isinstance(getattr(self, table), Mapping) else ():
                if n not in PARAMETERS:
                    raise ConfigError(f"unknown parameter{_suggest(n, PARAMETERS)} (see `lactojax params`)",
                                      f"parameters.{table}.{n}")
        for n in self.estimate if isinstance(self.estimate, (list, tuple)) else ():
            if n not in PARAMETERS:
                raise ConfigError(f"unknown parameter {n!r}{_suggest(n, PARAMETERS)} (see `lactojax params`)",
                                  "parameters.estimate")
        super().__post_init__()

    def check(self) -> None:
        seen = set()
        for n in self.estimate:
            if n in seen:
                raise ConfigError(f"{n!r} listed twice", "parameters.estimate")
            seen.add(n)
        for n in self.fixed:
            if n in seen:
                raise ConfigError("is also estimated", f"parameters.fixed.{n}")
        for n in self.prior:
            if n not in seen:
                raise ConfigError("is not an estimated parameter", f"parameters.prior.{n}")

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


@dataclasses.dataclass(frozen=True)
class SolverSection(Section):
    """[solver]: how each simulation is solved and differentiated (defaults: FIT_SOLVER_DEFAULTS)."""

    TABLE: ClassVar[str] = "solver"
    solver: str = setting(FIT_SOLVER_DEFAULTS.solver, "diffrax solver (explicit tsit5 / dopri5; stiff kvaerno*)",
                          choices=SOLVER_NAMES)
    rtol: float = setting(FIT_SOLVER_DEFAULTS.rtol, "relative error tolerance", gt=0, lt=1)
    atol: float = setting(FIT_SOLVER_DEFAULTS.atol, "absolute error tolerance, in each state's own unit", gt=0)
    max_steps: int = setting(FIT_SOLVER_DEFAULTS.max_steps, "solver step budget per solve; more is a solver "
                             "failure (-inf log-density)", ge=100)
    gradient: str = setting(
        next(g for g, a in GRADIENT_ADJOINT.items() if a == FIT_SOLVER_DEFAULTS.adjoint),
        "how gradients go through the solver: reverse (adjoint with checkpoints) or forward mode "
        "(cheaper for a few parameters)", choices=GRADIENTS)
    save_every_h: float = setting(FIT_SOLVER_DEFAULTS.save_every_h, "spacing of the saved output grid, h", gt=0)
    checkpoints: int = setting(FIT_SOLVER_DEFAULTS.checkpoints or 0, "reverse mode: solver steps kept for the "
                               "backward pass; 0: diffrax chooses; = max_steps: keep every step (no recomputation, "
                               "more memory)", ge=0)

    def check(self) -> None:
        if self.checkpoints > self.max_steps:
            raise ConfigError(f"expected at most max_steps ({self.max_steps}), got {self.checkpoints}",
                              "solver.checkpoints")

    def settings(self) -> SolverSettings:
        """The `SolverSettings` these keys mean. `gradient` is the configuration's name for
        `SolverSettings.adjoint` (GRADIENT_ADJOINT), `checkpoints = 0` is None (diffrax's
        choice); `throw` and `dt0_h` are FIT_SOLVER_DEFAULTS'."""
        return FIT_SOLVER_DEFAULTS.replace(
            solver=self.solver, rtol=self.rtol, atol=self.atol, max_steps=self.max_steps,
            save_every_h=self.save_every_h, adjoint=GRADIENT_ADJOINT[self.gradient],
            checkpoints=self.checkpoints or None)


@dataclasses.dataclass(frozen=True)
class MapSection(Section):
    """[map]: multi-start MAP (Adam), always run: optimum, Laplace approximation and NUTS starts."""

    TABLE: ClassVar[str] = "map"
    starts: int = setting(4, "number of optimiser starts", ge=1)
    steps: int = setting(150, "Adam steps per start", ge=1)
    learning_rate: float = setting(0.05, "Adam peak learning rate (cosine-decayed), on the unconstrained scale", gt=0)
    screen: int = setting(0, "0: prior centre and prior draws as starts; N: the best starts among the prior centre "
                          "and N space-filling screening points", ge=0)


@dataclasses.dataclass(frozen=True)
class NutsSection(Section):
    """[nuts]: the No-U-Turn sampler (numpyro)."""

    TABLE: ClassVar[str] = "nuts"
    chains: int = setting(4, "number of chains", ge=1)
    warmup: int = setting(150, "warmup (adaptation) iterations per chain", ge=0)
    draws: int = setting(150, "posterior draws kept per chain", ge=1)
    max_tree_depth: int = setting(5, "maximum tree depth (at most 2^depth - 1 leapfrog steps per draw)", ge=1)
    target_accept: float = setting(0.8, "target acceptance probability of step-size adaptation", gt=0, lt=1)
    chain_method: str = setting("vectorized", "how chains run: vectorized (one vmapped sampler), sequential "
                                "or parallel (one device each)", choices=CHAIN_METHODS)
    dense_mass: bool = setting(True, "dense (true) or diagonal mass matrix")
    adapt_mass_matrix: bool = setting(True, "adapt the mass matrix during warmup (false: keep the Laplace "
                                      "covariance at the MAP)")
    init_from_map: bool = setting(True, "start chains at Laplace draws around the MAP, with its covariance as "
                                  "the mass matrix (false: prior draws, identity)")


@dataclasses.dataclass(frozen=True)
class SviSection(Section):
    """[svi]: stochastic variational inference (numpyro autoguides)."""

    TABLE: ClassVar[str] = "svi"
    guide: str = setting("mvn", "autoguide: normal (mean field), mvn (full covariance) or lowrank", choices=GUIDES)
    steps: int = setting(1000, "optimisation steps", ge=1)
    learning_rate: float = setting(0.01, "Adam learning rate", gt=0)
    draws: int = setting(1000, "posterior draws from the fitted guide", ge=1)
    rank: int = setting(2, "rank of the lowrank guide's covariance", ge=1)


@dataclasses.dataclass(frozen=True)
class HierarchicalSection(Section):
    """[hierarchical]: the herd (population) model, used when fit.model = "hierarchical"."""

    TABLE: ClassVar[str] = "hierarchical"
    tau_scale: float = setting(0.3, "half-normal scale of each population spread tau_j (unconstrained z-scale)", gt=0)
    max_subjects: int | None = setting(None, "fit at most this many subjects (first in the data); unset: all", ge=1)
    subjects: tuple[str, ...] = setting((), "subject ids fitted; empty: all (up to max_subjects)")

    def check(self) -> None:
        if len(set(self.subjects)) != len(self.subjects):
            raise ConfigError("a subject is listed twice", "hierarchical.subjects")
        if self.subjects and self.max_subjects is not None and self.max_subjects < len(self.subjects):
            raise ConfigError(f"lists {len(self.subjects)} subjects but max_subjects = {self.max_subjects}",
                              "hierarchical.subjects")


@dataclasses.dataclass(frozen=True)
class OutputsSection(Section):
    """[outputs]: what is written besides the posterior."""

    TABLE: ClassVar[str] = "outputs"
    predictive_draws: int = setting(200, "draws of the Laplace approximation written by method = map", ge=1)


# --------------------------------------------------------------------------------------
# the configuration
# --------------------------------------------------------------------------------------

def _stem(source: str) -> str:
    return os.path.splitext(os.path.basename(source))[0] if source and not source.startswith("<") else "fit"


@dataclasses.dataclass(frozen=True, kw_only=True)
class FitConfig:
    """A validated fit configuration: one frozen section per TOML table.

    Build with `load_config(path)`, `FitConfig.from_dict(raw, source)` or directly from
    sections; every construction validates. `source` (the file read) is not part of the
    configuration's value: two configurations with the same sections are equal.
    """

    fit: FitSection
    design: DesignSection = dataclasses.field(default_factory=DesignSection)
    parameters: ParametersSection
    solver: SolverSection = dataclasses.field(default_factory=SolverSection)
    map: MapSection = dataclasses.field(default_factory=MapSection)
    nuts: NutsSection = dataclasses.field(default_factory=NutsSection)
    svi: SviSection = dataclasses.field(default_factory=SviSection)
    hierarchical: HierarchicalSection = dataclasses.field(default_factory=HierarchicalSection)
    outputs: OutputsSection = dataclasses.field(default_factory=OutputsSection)
    source: str = dataclasses.field(default="<config>", compare=False)

    def __post_init__(self):
        for name, cls in self.sections().items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(f"expected a {cls.__name__}, got {getattr(self, name)!r}", name, self.source)
        if not self.fit.name:
            object.__setattr__(self, "fit", self.fit.replace(name=_stem(self.source)))
        try:
            self.parameters.check_species(self.fit.species)
        except ConfigError as err:
            raise err.at(self.source) from None

    @classmethod
    def sections(cls) -> dict[str, type[Section]]:
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "source"}

    @classmethod
    def from_dict(cls, raw: Mapping, source: str = "<config>") -> "FitConfig":
        """Validate a nested dict (a parsed TOML file) into a FitConfig."""
        if not isinstance(raw, Mapping):
            raise ConfigError("expected a TOML table at top level", None, source)
        sections = cls.sections()
        for name in raw:
            if name not in sections:
                raise ConfigError(f"unknown section{_suggest(name, sections)} (valid sections: "
                                  f"{', '.join(sections)})", str(name), source)
        for name in ("fit", "parameters"):
            if name not in raw:
                raise ConfigError(f"missing section [{name}]", name, source)
        try:
            built = {name: sec.from_table(raw[name]) for name, sec in sections.items() if name in raw}
        except ConfigError as err:
            raise err.at(source) from None
        return cls(**built, source=source)

    # -- changes ----------------------------------------------------------------------
    def replace(self, **changes) -> "FitConfig":
        """A copy with whole sections replaced (validated again), e.g.
        `cfg.replace(fit=cfg.fit.replace(horizon_days=2))`."""
        return dataclasses.replace(self, **changes)

    def with_overrides(self, method: str | None = None, chains: int | None = None,
                       draws: int | None = None, warmup: int | None = None) -> "FitConfig":
        """Command-line overrides (`lactojax fit --method/--chains/--draws/--warmup`);
        `draws` also sets the SVI draws to draws x chains. Errors name the option."""
        cfg = self
        for option, value, change in (
            ("method", method, lambda c, v: c.replace(fit=c.fit.replace(method=v))),
            ("chains", chains, lambda c, v: c.replace(nuts=c.nuts.replace(chains=v))),
            ("warmup", warmup, lambda c, v: c.replace(nuts=c.nuts.replace(warmup=v))),
            ("draws", draws, lambda c, v: c.replace(nuts=c.nuts.replace(draws=v),
                                                    svi=c.svi.replace(draws=max(v * c.nuts.chains, 1)))),
        ):
            if value is not None:
                try:
                    cfg = change(cfg, value)
                except ConfigError as err:
                    raise ConfigError(err.detail, err.key, f"--{option}") from None
        return cfg

    # -- outputs ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The resolved configuration as plain nested dicts (provenance, netCDF attributes)."""
        return {name: getattr(self, name).to_dict() for name in self.sections()}

    def to_toml(self) -> str:
        """The resolved configuration (every default filled in) as TOML; `load_config`
        reads it back to an equal FitConfig."""
        lines = []
        for name, body in self.to_dict().items():
            lines.append(f"[{name}]")
            tables = []
            for k, v in body.items():
                if isinstance(v, dict):
                    if v:
                        tables.append((k, v))
                else:
                    lines.append(f"{k} = {_toml_value(v)}")
            for k, v in tables:
                lines.append(f"\n[{name}.{k}]")
                lines.extend(f"{kk} = {_toml_value(vv)}" for kk, vv in v.items())
            lines.append("")
        return "\n".join(lines)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """JSON Schema (draft 07) of a fit configuration file, generated from the section
        declarations: types, defaults, ranges, choices and descriptions."""
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "lactojax fit configuration (fits/*.toml)",
            "description": "Generated by `lactojax config schema` from lactojax.inference.config; "
                           "do not edit by hand.",
            "type": "object",
            "properties": {name: sec.json_schema() for name, sec in cls.sections().items()},
            "required": ["fit", "parameters"],
            "additionalProperties": False,
        }


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v)} to TOML")  # pragma: no cover


def load_config(path: str | os.PathLike) -> FitConfig:
    """Read and validate a TOML fit configuration (ConfigError on any problem)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("no such file", None, path) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"not valid TOML: {err}", None, path) from None
    return FitConfig.from_dict(raw, path)


def schema_text() -> str:
    """`FitConfig.json_schema()` as written to fits/fit_config.schema.json."""
    return json.dumps(FitConfig.json_schema(), indent=2) + "\n"


def markdown_reference() -> str:
    """Every key of every section (type, default, allowed values, description) as
    Markdown tables: the configuration reference in docs/fitting.md."""
    out = []
    for name, sec in FitConfig.sections().items():
        hints = sec.hints()
        out.append(f"`[{name}]` {sec.__doc__.strip().splitlines()[0].split(': ', 1)[-1]}\n")
        out.append("| key | type | default | description |")
        out.append("|---|---|---|---|")
        for f in dataclasses.fields(sec):
            meta = f.metadata
            if meta["required"]:
                default = "required"
            elif f.default is None:
                default = "unset"
            else:
                default = f"`{_toml_value(_plain(f.default))}`"
            desc = meta["doc"]
            allowed = _choices(meta)
            if allowed is not None and len(allowed) <= 6:
                desc += "; one of " + ", ".join(f"`{a}`" for a in allowed)
            rng = _range_text(meta)
            if rng:
                desc += f"; {rng}"
            out.append(f"| `{f.name}` | {_describe(hints[f.name])} | {default} | {desc} |")
        out.append("")
    hints = PriorOverride.hints()
    out.append("Each `[parameters.prior]` entry is a table with " + ", ".join(
        f"`{f.name}` ({f.metadata['doc']})" for f in dataclasses.fields(PriorOverride)) + ".\n")
    return "\n".join(out)


__all__ = [
    "CHAIN_METHODS",
    "FIT_SOLVER_DEFAULTS",
    "FIT_SOLVER_OVERRIDES",
    "GRADIENT_ADJOINT",
    "GUIDES",
    "METHODS",
    "MODELS",
    "ConfigError",
    "DesignSection",
    "FitConfig",
    "FitSection",
    "FrozenMap",
    "HierarchicalSection",
    "MapSection",
    "NutsSection",
    "OutputsSection",
    "ParametersSection",
    "PriorOverride",
    "Section",
    "SolverSection",
    "SviSection",
    "load_config",
    "markdown_reference",
    "schema_text",
]
