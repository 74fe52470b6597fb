"""Fit configurations: one human-readable TOML file per study in `fits/`.

A configuration says which datasets are fitted, which parameters are estimated (all
others are fixed at their nominal value or a configured override), the simulated study
design, solver settings and the settings of each method. `load_config(path)` validates
everything and raises `ConfigError` naming the file and the key. `resolved(cfg)` is the
full configuration with every default filled in (written next to the fit's outputs).

    [fit]
    name = "human_default"             # label used in outputs
    species = "human"                  # parameter preset: human | cow | goat
    datasets = ["saint1984", ...]      # data/<name>/ (see `lactojax data list`)
    horizon_days = 10                  # simulate 0..horizon; rows beyond it are excluded
    method = "nuts"                    # map | nuts | svi
    seed = 0

    [design]                           # the schedule simulated for every row
    feeds_per_day = 10
    feed_duration_min = 15
    n_glands = 2

    [parameters]
    estimate = ["lactose_vmax_mmol_h", ...]
    [parameters.fixed]                 # name = value (overrides the nominal value)
    [parameters.prior]                 # optional: name = {loc = value, scale = s}

    [solver]   rtol, atol, solver, max_steps, gradient ("reverse" | "forward"),
               checkpoints (reverse mode: solver steps kept for the backward pass; 0 lets
               diffrax choose, = max_steps keeps every step: no recomputation, more memory)
    [map]      starts, steps, learning_rate, screen (0: prior draws as starts; N: the best
               starts among N space-filling screening points, see inference.map)
    [nuts]     chains, warmup, draws, max_tree_depth, target_accept, chain_method,
               dense_mass, adapt_mass_matrix
    [svi]      guide ("normal" | "mvn" | "lowrank"), steps, learning_rate, draws, rank
    [outputs]  predictive_draws
"""

from __future__ import annotations

import copy
import os
import tomllib
from typing import Any

from lactojax.parameters import PARAMETERS, SPECIES_PRESETS, species_spec


class ConfigError(ValueError):
    """A fit configuration that cannot be used; the message names the file and key."""


DEFAULTS: dict[str, dict[str, Any]] = {
    "fit": {
        "name": None,
        "description": "",
        "species": "human",
        "datasets": None,
        "horizon_days": 10.0,
        "method": "nuts",
        "seed": 0,
        "include_flags": [],
    },
    "design": {
        "feeds_per_day": 10.0,
        "feed_duration_min": 15.0,
        "n_glands": 2,
        "both_sides": True,
        "night_feeds": True,
    },
    "parameters": {"estimate": None, "fixed": {}, "prior": {}},
    "solver": {
        "solver": "tsit5",
        "rtol": 1e-4,
        "atol": 1e-4,
        "max_steps": 50_000,
        "gradient": "reverse",
        "save_every_h": 1.0,
        "checkpoints": 0,
    },
    "map": {"starts": 4, "steps": 150, "learning_rate": 0.05, "screen": 0},
    "nuts": {
        "chains": 4,
        "warmup": 150,
        "draws": 150,
        "max_tree_depth": 5,
        "target_accept": 0.8,
        "chain_method": "vectorized",
        "dense_mass": True,
        "adapt_mass_matrix": True,
        "init_from_map": True,
    },
    "svi": {"guide": "mvn", "steps": 1000, "learning_rate": 0.01, "draws": 1000, "rank": 2},
    "outputs": {"predictive_draws": 200},
}

_TYPES = {
    ("fit", "name"): str, ("fit", "description"): str, ("fit", "species"): str,
    ("fit", "datasets"): list, ("fit", "horizon_days"): (int, float),
    ("fit", "method"): str, ("fit", "seed"): int, ("fit", "include_flags"): list,
    ("design", "feeds_per_day"): (int, float), ("design", "feed_duration_min"): (int, float),
    ("design", "n_glands"): int, ("design", "both_sides"): bool, ("design", "night_feeds"): bool,
    ("parameters", "estimate"): list, ("parameters", "fixed"): dict, ("parameters", "prior"): dict,
    ("solver", "solver"): str, ("solver", "rtol"): (int, float), ("solver", "atol"): (int, float),
    ("solver", "max_steps"): int, ("solver", "gradient"): str, ("solver", "save_every_h"): (int, float),
    ("solver", "checkpoints"): int,
    ("map", "starts"): int, ("map", "steps"): int, ("map", "screen"): int, ("map", "learning_rate"): (int, float),
    ("nuts", "chains"): int, ("nuts", "warmup"): int, ("nuts", "draws"): int,
    ("nuts", "max_tree_depth"): int, ("nuts", "target_accept"): (int, float),
    ("nuts", "chain_method"): str, ("nuts", "dense_mass"): bool,
    ("nuts", "adapt_mass_matrix"): bool, ("nuts", "init_from_map"): bool,
    ("svi", "guide"): str, ("svi", "steps"): int, ("svi", "learning_rate"): (int, float),
    ("svi", "draws"): int, ("svi", "rank"): int,
    ("outputs", "predictive_draws"): int,
}

METHODS = ("map", "nuts", "svi")
GUIDES = ("normal", "mvn", "lowrank")
CHAIN_METHODS = ("vectorized", "sequential", "parallel")


def _err(source: str, key: str, msg: str) -> ConfigError:
    return ConfigError(f"{source}: [{key}] {msg}")


def validate(raw: dict, source: str = "<config>") -> dict:
    """Merge `raw` over DEFAULTS and check every key; returns the resolved dict."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a TOML table at top level")
    cfg = copy.deepcopy(DEFAULTS)
    for section, body in raw.items():
        if section not in DEFAULTS:
            raise _err(source, section, f"unknown section; expected one of {sorted(DEFAULTS)}")
        if not isinstance(body, dict):
            raise _err(source, section, "must be a table")
        for key, value in body.items():
            if key not in DEFAULTS[section]:
                raise _err(source, f"{section}.{key}",
                           f"unknown key; expected one of {sorted(DEFAULTS[section])}")
            want = _TYPES[(section, key)]
            if isinstance(value, bool) and want in ((int, float), int):
                raise _err(source, f"{section}.{key}", f"expected a number, got {value!r}")
            if not isinstance(value, want):
                name = want.__name__ if isinstance(want, type) else "number"
                raise _err(source, f"{section}.{key}", f"expected {name}, got {value!r}")
            cfg[section][key] = value

    f = cfg["fit"]
    if not f["name"]:
        f["name"] = os.path.splitext(os.path.basename(source))[0] if source != "<config>" else "fit"
    if f["species"] not in SPECIES_PRESETS:
        raise _err(source, "fit.species", f"unknown species {f['species']!r}; expected one of "
                   f"{sorted(SPECIES_PRESETS)}")
    if not f["datasets"]:
        raise _err(source, "fit.datasets", "list at least one dataset (see `lactojax data list`)")
    from lactojax.datasets import list_datasets

    known = set(list_datasets())
    for d in f["datasets"]:
        if not isinstance(d, str) or (d not in known and not d.startswith("synthetic:")):
            raise _err(source, "fit.datasets", f"unknown dataset {d!r}; known: {sorted(known)}")
    if not f["horizon_days"] > 0:
        raise _err(source, "fit.horizon_days", f"must be > 0, got {f['horizon_days']}")
    if float(f["horizon_days"]) != int(f["horizon_days"]):
        raise _err(source, "fit.horizon_days", "must be a whole number of days")
    if f["method"] not in METHODS:
        raise _err(source, "fit.method", f"expected one of {METHODS}, got {f['method']!r}")

    p = cfg["parameters"]
    if not p["estimate"]:
        raise _err(source, "parameters.estimate", "list at least one parameter to estimate")
    seen = set()
    for n in p["estimate"]:
        if n not in PARAMETERS:
            raise _err(source, "parameters.estimate", f"unknown parameter {n!r}; see `lactojax params`")
        if n in seen:
            raise _err(source, "parameters.estimate", f"{n!r} listed twice")
        seen.add(n)
    for n, v in p["fixed"].items():
        if n not in PARAMETERS:
            raise _err(source, f"parameters.fixed.{n}", "unknown parameter; see `lactojax params`")
        if n in seen:
            raise _err(source, f"parameters.fixed.{n}", "is also estimated")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _err(source, f"parameters.fixed.{n}", f"expected a number, got {v!r}")
        spec = species_spec(n, f["species"])
        if not spec.lower <= v <= spec.upper:
            raise _err(source, f"parameters.fixed.{n}",
                       f"{v} outside bounds [{spec.lower}, {spec.upper}] {spec.unit}")
    for n, body in p["prior"].items():
        if n not in seen:
            raise _err(source, f"parameters.prior.{n}", "is not an estimated parameter")
        if not isinstance(body, dict) or set(body) - {"loc", "scale"}:
            raise _err(source, f"parameters.prior.{n}", "expected a table with loc and/or scale")
        spec = species_spec(n, f["species"])
        if "loc" in body and not spec.lower < body["loc"] < spec.upper:
            raise _err(source, f"parameters.prior.{n}.loc", "must lie strictly inside the bounds")
        if "scale" in body and not body["scale"] > 0:
            raise _err(source, f"parameters.prior.{n}.scale", "must be > 0")

    d = cfg["design"]
    if not d["feeds_per_day"] > 0:
        raise _err(source, "design.feeds_per_day", "must be > 0")
    if not d["feed_duration_min"] > 0:
        raise _err(source, "design.feed_duration_min", "must be > 0")
    if d["n_glands"] < 1:
        raise _err(source, "design.n_glands", "must be >= 1")

    s = cfg["solver"]
    if s["solver"] not in ("tsit5", "dopri5", "kvaerno3", "kvaerno4", "kvaerno5"):
        raise _err(source, "solver.solver", f"unknown solver {s['solver']!r}")
    if not (0 < s["rtol"] < 1 and s["atol"] > 0):
        raise _err(source, "solver.rtol", "tolerances must satisfy 0 < rtol < 1, atol > 0")
    if s["gradient"] not in ("reverse", "forward"):
        raise _err(source, "solver.gradient", "expected 'reverse' or 'forward'")
    if s["max_steps"] < 100:
        raise _err(source, "solver.max_steps", "must be >= 100")
    if not 0 <= s["checkpoints"] <= s["max_steps"]:
        raise _err(source, "solver.checkpoints", "must be between 0 (diffrax's choice) and max_steps")

    for key in ("starts", "steps"):
        if cfg["map"][key] < 1:
            raise _err(source, f"map.{key}", "must be >= 1")
    if cfg["map"]["screen"] < 0:
        raise _err(source, "map.screen", "must be >= 0 (0: no screening)")
    n = cfg["nuts"]
    for key in ("chains", "draws", "max_tree_depth"):
        if n[key] < 1:
            raise _err(source, f"nuts.{key}", "must be >= 1")
    if n["warmup"] < 0:
        raise _err(source, "nuts.warmup", "must be >= 0")
    if not 0 < n["target_accept"] < 1:
        raise _err(source, "nuts.target_accept", "must be in (0, 1)")
    if n["chain_method"] not in CHAIN_METHODS:
        raise _err(source, "nuts.chain_method", f"expected one of {CHAIN_METHODS}")
    v = cfg["svi"]
    if v["guide"] not in GUIDES:
        raise _err(source, "svi.guide", f"expected one of {GUIDES}")
    for key in ("steps", "draws", "rank"):
        if v[key] < 1:
            raise _err(source, f"svi.{key}", "must be >= 1")
    if cfg["outputs"]["predictive_draws"] < 1:
        raise _err(source, "outputs.predictive_draws", "must be >= 1")
    cfg["_source"] = source
    return cfg


def load_config(path: str | os.PathLike) -> dict:
    """Read and validate a TOML fit configuration (ConfigError on any problem)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return validate(raw, path)


def apply_overrides(cfg: dict, method=None, chains=None, draws=None, warmup=None) -> dict:
    """Command-line overrides (`lactojax fit --method/--chains/--draws/--warmup`)."""
    cfg = copy.deepcopy(cfg)
    src = cfg.get("_source", "<config>")
    if method is not None:
        if method not in METHODS:
            raise ConfigError(f"--method: expected one of {METHODS}, got {method!r}")
        cfg["fit"]["method"] = method
    for key, val in (("chains", chains), ("draws", draws), ("warmup", warmup)):
        if val is not None:
            if val < (0 if key == "warmup" else 1):
                raise ConfigError(f"--{key}: must be >= {0 if key == 'warmup' else 1}, got {val}")
            cfg["nuts"][key] = int(val)
            if key == "draws":
                cfg["svi"]["draws"] = max(int(val) * cfg["nuts"]["chains"], 1)
    cfg["_source"] = src
    return cfg


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v)} to TOML")


def to_toml(cfg: dict) -> str:
    """The resolved configuration as TOML (readable back by `load_config`)."""
    lines = []
    for section in DEFAULTS:
        body = cfg[section]
        lines.append(f"[{section}]")
        subtables = []
        for k, v in body.items():
            if v is None:
                continue
            if isinstance(v, dict) and section == "parameters":
                subtables.append((k, v))
            else:
                lines.append(f"{k} = {_toml_value(v)}")
        for k, v in subtables:
            lines.append(f"\n[{section}.{k}]")
            for kk, vv in v.items():
                lines.append(f"{kk} = {_toml_value(vv)}")
        lines.append("")
    return "\n".join(lines)


__all__ = ["ConfigError", "DEFAULTS", "apply_overrides", "load_config", "to_toml", "validate"]
