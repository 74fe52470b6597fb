"""The one place a `FitConfig` becomes a fit problem.

`problem_from_config(cfg)` builds the `FitData` (problem and row tables) from the sections
fit, design, parameters, solver and hierarchical; `runner.fit(data, cfg)` reads the method
sections (map, nuts, svi, outputs) itself; `fit_from_config(cfg)` runs both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lactojax.inference.config import FitConfig
from lactojax.inference.priors import PriorSet
from lactojax.inference.problem import (FitData, dataset_cohort, dataset_covariates, design_inputs, group_problem,
                                       hierarchical_problem, load_rows)
from lactojax.parameters import Params


def problem_from_config(cfg: FitConfig) -> FitData:
    """The fit problem of a validated configuration, with its row tables."""
    f, p, h = cfg.fit, cfg.parameters, cfg.hierarchical
    horizon_days = float(f.horizon_days)
    settings = cfg.solver.settings()
    if f.model == "hierarchical":
        if h.until_day is not None:  # records after until_day are held out: simulate only up to it
            horizon_days = min(horizon_days, h.until_day + 1.0)
        table, inputs = dataset_cohort(list(f.datasets), horizon_days, h.max_subjects, tuple(h.subjects),
                                       until_day=h.until_day)
        covariates = dataset_covariates(list(f.datasets), list(inputs))
        data = hierarchical_problem(
            table, inputs, list(p.estimate), species=f.species, fixed=dict(p.fixed), settings=settings,
            tau_scale=h.tau_scale, prior=p.prior_overrides(), label=f.name,
            design={"subjects": list(inputs), "horizon_days": horizon_days, "datasets": list(f.datasets),
                    "levels": list(h.levels), "until_day": h.until_day},
            covariates=covariates, levels=h.levels, offset_scale=h.offset_scale)
        centre_of = np.asarray(data.problem.centre_of)
        data.design["centre_subjects"] = {c: int(np.sum(centre_of == i)) for i, c in enumerate(data.centres)}
    else:
        base = Params.nominal(f.species, **p.fixed)
        prior = PriorSet.from_table(list(p.estimate), p.prior_overrides(),
                                    {n: float(base[n]) for n in p.estimate}, species=f.species)
        design = cfg.design.to_dict()
        rows, files = load_rows(list(f.datasets), list(f.include_flags), species=f.species,
                                subject=cfg.design.subject, with_files=True)
        if cfg.design.feed_log:
            inputs, log_file = feed_log_inputs(cfg, horizon_days)
            files.append(log_file)
        else:
            inputs = design_inputs(design, horizon_days)
        design["data_files"] = files
        data = group_problem(rows, list(p.estimate), prior, base, inputs, settings, species=f.species,
                             label=f.name, design=design)
    if len(data.rows) == 0:
        raise ValueError(f"{cfg.source}: no data row falls inside the fit horizon of {horizon_days:g} days")
    return data


def feed_log_inputs(cfg: FitConfig, horizon_days: float):
    """(inputs, file record) of a configuration's [design] feed_log: the schedule of its
    subject (design.subject, or the log's only one) over the fit horizon. A log that stops
    more than a day before the horizon is an error: the simulated mother would stop feeding
    (milk stasis) where the data only stopped being recorded."""
    from lactojax.datasets import feed_log_schedule, read_feed_log
    from lactojax.datasets.provenance import sha256_file
    from lactojax.inputs import make_inputs

    d, path = cfg.design, cfg.design.feed_log
    log = read_feed_log(path, species=cfg.fit.species, n_glands=d.n_glands, delivery_time=d.delivery_time or None)
    subjects = sorted(log["subject"].astype(str).unique())
    subject = d.subject or (subjects[0] if len(subjects) == 1 else None)
    if subject is None:
        raise ValueError(f"{path}: the feed log holds subjects {subjects}; name the one fitted in [design] subject")
    if subject not in subjects and not (subjects == [""]):
        raise ValueError(f"{path}: no feed of subject {subject!r} (the log holds {subjects})")
    if subjects != [""]:
        log = log[log["subject"].astype(str) == subject]
    horizon_h = 24.0 * horizon_days
    log = log[log["start_h"] < horizon_h]
    if log.empty:
        raise ValueError(f"{path}: no feed before the fit horizon ({horizon_days:g} days)")
    last = float(log["end_h"].max())
    if last < horizon_h - 24.0:
        raise ValueError(f"{path}: the last feed ends at {last:.1f} h (day {last / 24:.1f}), more than a day before "
                         f"the fit horizon of {horizon_days:g} days: shorten [fit] horizon_days or extend the log")
    schedule = feed_log_schedule(log, d.n_glands, subject=None if subjects == [""] else subject,
                                 species=cfg.fit.species, source=path)
    record = {"role": "feed log", "path": path, "sha256": sha256_file(path), "rows": int(len(log)),
              "subject": subject}
    return make_inputs(schedule, horizon_days), record


def resolved_toml(cfg: FitConfig) -> str:
    """The resolved configuration as written to config.toml (and posterior.nc)."""
    return f"# resolved configuration of {cfg.source}\n" + cfg.to_toml()


DAIRY_SPECIES = ("cow", "goat")


def forecast_from_config(cfg: FitConfig, result):
    """The whole-lactation forecast (`inference.forecast.herd_forecast`) of a herd fit of
    cows or goats: every fitted lactation, days 1..hierarchical.forecast_days, each at its
    own milking design over the whole horizon; None for other fits."""
    import time

    from lactojax.inference.forecast import forecast_horizon_days, herd_forecast

    data, h = result.data, cfg.hierarchical
    if data.problem.model != "hierarchical" or data.species not in DAIRY_SPECIES:
        return None
    t0 = time.perf_counter()
    _, inputs = dataset_cohort(list(cfg.fit.datasets), forecast_horizon_days(h.forecast_days),
                               subjects=data.subjects)
    forecast = herd_forecast(data, result.draws_x, inputs, days=h.forecast_days, draws=h.predictive_draws,
                             seed=cfg.fit.seed)
    result.diagnostics["timings"]["forecast_s"] = time.perf_counter() - t0
    result.diagnostics["forecast"] = {"days": h.forecast_days, "draws": int(forecast.daily_yield.shape[0]),
                                      "failed_draws": forecast.failed_draws}
    return forecast


def fit_from_config(cfg: FitConfig, progress: bool = False):
    """`runner.fit` of a configuration, with the forecast of a herd fit
    (`forecast_from_config`); the result carries the resolved configuration."""
    from lactojax.inference.runner import fit

    result = fit(problem_from_config(cfg), cfg, progress=progress, config_toml=resolved_toml(cfg))
    result.forecast = forecast_from_config(cfg, result)
    return result


__all__ = ["feed_log_inputs", "fit_from_config", "forecast_from_config", "problem_from_config", "resolved_toml"]
