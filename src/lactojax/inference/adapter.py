"""The one place a fit configuration (the validated dict of `inference.config`) is read.

`problem_from_config(cfg)` builds the `FitData` (problem and row tables) from the
sections fit, design, parameters, solver and hierarchical; `settings_from_config(cfg)` gives
the method settings `runner.fit` reads by attribute; `fit_from_config` runs both.

Keys read (section.key: type, default when the section or key may be absent):
- fit.name, fit.species, fit.datasets, fit.horizon_days, fit.include_flags,
  fit.model ("group" | "hierarchical", default "group"), fit.method, fit.seed;
- design.feeds_per_day, feed_duration_min, n_glands, both_sides, night_feeds (group);
- parameters.estimate, parameters.fixed, parameters.prior;
- solver.solver, rtol, atol, max_steps, save_every_h, gradient, checkpoints;
- hierarchical.tau_scale (float, 0.3: HalfNormal scale of the population spreads, z-scale),
  hierarchical.max_subjects (int or None, None: fit at most this many lactations, first
  in the data), hierarchical.subjects (list of ids or "<dataset>:<id>", []: all);
- map, nuts, svi, outputs: every key (see `runner`).
"""

from __future__ import annotations

import types

from lactojax.inference.config import to_toml
from lactojax.inference.priors import PriorSet
from lactojax.inference.problem import (
    FitData,
    dataset_cohort,
    design_inputs,
    group_problem,
    hierarchical_problem,
    load_rows,
)
from lactojax.parameters import Params
from lactojax.solver import SolverSettings

HIERARCHICAL_DEFAULTS = {"tau_scale": 0.3, "max_subjects": None, "subjects": ()}


def problem_from_config(cfg: dict) -> FitData:
    """The fit problem of a validated configuration, with its row tables."""
    f, p, s = cfg["fit"], cfg["parameters"], cfg["solver"]
    source = cfg.get("_source", "config")
    horizon_days = float(f["horizon_days"])
    settings = SolverSettings(
        solver=s["solver"], rtol=float(s["rtol"]), atol=float(s["atol"]), max_steps=int(s["max_steps"]),
        save_every_h=float(s["save_every_h"]),
        adjoint="forward" if s["gradient"] == "forward" else "recursive_checkpoint",
        checkpoints=int(s["checkpoints"]) or None, throw=False)
    if f.get("model", "group") == "hierarchical":
        h = {**HIERARCHICAL_DEFAULTS, **cfg.get("hierarchical", {})}
        table, inputs = dataset_cohort(f["datasets"], horizon_days, h["max_subjects"], tuple(h["subjects"]))
        data = hierarchical_problem(
            table, inputs, p["estimate"], species=f["species"],
            fixed=p["fixed"], settings=settings, tau_scale=float(h["tau_scale"]), prior=p["prior"],
            label=f["name"], design={"subjects": list(inputs), "horizon_days": horizon_days})
    else:
        base = Params.nominal(f["species"], **p["fixed"])
        prior = PriorSet.from_table(p["estimate"], p["prior"], {n: float(base[n]) for n in p["estimate"]},
                                    species=f["species"])
        data = group_problem(load_rows(f["datasets"], f["include_flags"]), p["estimate"], prior, base,
                             design_inputs(cfg["design"], horizon_days), settings, species=f["species"],
                             label=f["name"], design=cfg["design"])
    if len(data.rows) == 0:
        raise ValueError(f"{source}: no data row falls inside the fit horizon of {horizon_days:g} days")
    return data


def settings_from_config(cfg: dict):
    """The method settings `runner.fit` reads (attribute access on each section)."""
    return types.SimpleNamespace(**{k: types.SimpleNamespace(**cfg[k]) for k in ("fit", "map", "nuts", "svi", "outputs")})


def resolved_toml(cfg: dict) -> str:
    """The resolved configuration as written to config.toml (and posterior.nc)."""
    return f"# resolved configuration of {cfg.get('_source', 'fit')}\n" + to_toml(cfg)


def fit_from_config(cfg: dict, progress: bool = False):
    """`runner.fit` of a configuration; the result carries the resolved configuration."""
    from lactojax.inference.runner import fit

    return fit(problem_from_config(cfg), settings_from_config(cfg), progress=progress,
               config_toml=resolved_toml(cfg))


__all__ = ["HIERARCHICAL_DEFAULTS", "fit_from_config", "problem_from_config", "resolved_toml",
           "settings_from_config"]
