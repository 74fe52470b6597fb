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
                                       hierarchical_problem, load_rows, logged_inputs, open_dataset,
                                       data_file_record)
from lactojax.parameters import Params


def problem_from_config(cfg: FitConfig) -> FitData:
    """The fit problem of a validated configuration, with its row tables."""
    f, p, h = cfg.fit, cfg.parameters, cfg.hierarchical
    horizon_days = float(f.horizon_days)
    settings = cfg.solver.settings(cfg.fit.species)
    if f.model == "hierarchical":
        if h.until_day is not None:  # records after until_day are held out: simulate only up to it
            horizon_days = min(horizon_days, h.until_day + 1.0)
        log, files = None, [data_file_record(open_dataset(d, f.species)) for d in f.datasets]
        if cfg.design.feed_log:
            log, record = _feed_log(cfg)
            files.append(record)
        table, inputs = dataset_cohort(list(f.datasets), horizon_days, h.max_subjects, tuple(h.subjects),
                                       until_day=h.until_day, species=f.species, feed_log=log,
                                       feed_log_path=cfg.design.feed_log)
        table = only_observables(table, f.observables)
        covariates = dataset_covariates(list(f.datasets), list(inputs), species=f.species)
        data = hierarchical_problem(
            table, inputs, list(p.estimate), species=f.species, fixed=dict(p.fixed), settings=settings,
            tau_scale=h.tau_scale, prior=p.prior_overrides(), label=f.name,
            design={"subjects": list(inputs), "horizon_days": horizon_days, "datasets": list(f.datasets),
                    "levels": list(h.levels), "until_day": h.until_day, "data_files": files},
            covariates=covariates, levels=h.levels, offset_scale=h.offset_scale, noise=h.noise,
            noise_prior_sd=h.noise_prior_sd, heavy_tails=h.heavy_tails)
        centre_of = np.asarray(data.problem.centre_of)
        data.design["centre_subjects"] = {c: int(np.sum(centre_of == i)) for i, c in enumerate(data.centres)}
    else:
        base = Params.nominal(f.species, **p.fixed)
        prior = PriorSet.from_table(list(p.estimate), p.prior_overrides(),
                                    {n: float(base[n]) for n in p.estimate}, species=f.species)
        design = {**cfg.design.to_dict(), "n_glands": cfg.design.glands(f.species)}
        rows, files = load_rows(list(f.datasets), list(f.include_flags), species=f.species,
                                subject=cfg.design.subject, with_files=True)
        if cfg.design.feed_log:
            inputs, log_file = feed_log_inputs(cfg, horizon_days)
            files.append(log_file)
        else:
            inputs = design_inputs(design, horizon_days)
        design["data_files"] = files
        rows = only_observables(rows, f.observables)
        data = group_problem(rows, list(p.estimate), prior, base, inputs, settings, species=f.species,
                             label=f.name, design=design, heterogeneity=cfg.heterogeneity.model,
                             heterogeneity_scale=cfg.heterogeneity.scale)
    if len(data.rows) == 0:
        raise ValueError(f"{cfg.source}: no data row falls inside the fit horizon of {horizon_days:g} days")
    return data


def only_observables(table, observables):
    """`table` with the rows of observables not in `observables` ([fit] observables) given the
    reason that keeps them out of the fit (listed in excluded_rows.csv); every row when it is
    empty. A row already excluded keeps its own reason."""
    if not observables:
        return table
    reason = table["reason"].fillna("").astype(str) if "reason" in table else pd.Series("", index=table.index)
    other = ~table["observable"].isin(observables) & (reason == "")
    why = f"observable not fitted ([fit] observables = {list(observables)})"
    return table.assign(reason=reason.where(~other, why))


def _feed_log(cfg: FitConfig):
    """The validated feed log of [design] feed_log, and its file record for provenance.json."""
    from lactojax.datasets import read_feed_log
    from lactojax.datasets.provenance import sha256_file

    d, path = cfg.design, cfg.design.feed_log
    log = read_feed_log(path, species=cfg.fit.species, n_glands=d.glands(cfg.fit.species),
                        delivery_time=d.delivery_time or None)
    return log, {"role": "feed log", "path": path, "sha256": sha256_file(path), "rows": int(len(log))}


def feed_log_inputs(cfg: FitConfig, horizon_days: float):
    """(inputs, file record) of a group fit's [design] feed_log: the schedule of its subject
    (design.subject, or the log's only one) over the fit horizon (`problem.logged_inputs`)."""
    log, record = _feed_log(cfg)
    subjects = sorted(log["subject"].astype(str).unique())
    subject = cfg.design.subject or (subjects[0] if len(subjects) == 1 else None)
    if subject is None:
        raise ValueError(f"{cfg.design.feed_log}: the feed log holds subjects {subjects}; name the one fitted in "
                         "[design] subject")
    inputs = logged_inputs(log, (subject,), horizon_days, cfg.design.feed_log, cfg.fit.species,
                           cfg.design.glands(cfg.fit.species))
    return inputs, {**record, "subject": subject}


def resolved_toml(cfg: FitConfig) -> str:
    """The resolved configuration as written to config.toml (and posterior.nc)."""
    return f"# resolved configuration of {cfg.source}\n" + cfg.to_toml()


DAIRY_SPECIES = ("cow", "goat")


def forecast_from_config(cfg: FitConfig, result, progress: bool = False):
    """The whole-lactation forecast (`inference.forecast.herd_forecast`) of a herd fit of
    cows or goats: every fitted lactation, days 1..hierarchical.forecast_days, each at its
    own milking design over the whole horizon; None for other fits."""
    import time

    from lactojax.inference.forecast import forecast_horizon_days, herd_forecast

    data, h = result.data, cfg.hierarchical
    if data.problem.model != "hierarchical" or data.species not in DAIRY_SPECIES:
        return None
    t0 = time.perf_counter()
    # each lactation at its design over the whole horizon (a feed log covers the records only)
    _, inputs = dataset_cohort(list(cfg.fit.datasets), forecast_horizon_days(h.forecast_days),
                               subjects=data.subjects, species=data.species)
    forecast = herd_forecast(data, result.draws_x, inputs, days=h.forecast_days, draws=h.predictive_draws,
                             seed=cfg.fit.seed, progress=progress)
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
