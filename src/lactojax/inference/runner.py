"""`fit(data, settings)`: problem -> MAP -> NUTS / SVI / Laplace draws -> `FitResult`.

Every method runs on `density.log_density` of the same `FitProblem` (group or
hierarchical): MAP always (the optimum, its Laplace approximation and the NUTS start),
then the method's draws, then the predictions and per-row log-likelihoods of every draw.
The result is a value; `outputs.write_fit(result, out_dir)` writes the files. With a
`checkpoint` (`inference.checkpoint.Checkpoint`), the MAP optimum and the sampler's state
are saved as the fit goes and a killed fit continues from them (`lactojax fit --resume`).

`settings` is the `FitConfig` (read by attribute): `settings.fit.method` ("map" | "nuts" | "svi") and
`.seed`, `settings.map` (starts, steps, learning_rate, screen), `settings.nuts` (chains,
warmup, draws, max_tree_depth, target_accept, chain_method, dense_mass,
adapt_mass_matrix, init_from_map, checkpoint_every), `settings.svi` (guide, steps,
learning_rate, draws, rank, checkpoint_every) and `settings.outputs.predictive_draws`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time

import jax
import numpy as np

from lactojax import likelihoods as lk
from lactojax.inference import density
from lactojax.inference import heterogeneity as het
from lactojax.inference import noise as nz
from lactojax.inference import outputs as out
from lactojax.inference.map import LBFGS_MEMORY, MapResult, choose_starts, find_map, screening_points
from lactojax.inference.nuts import run_nuts
from lactojax.inference.problem import FitData, FitProblem, noise_scale_in_model_units
from lactojax.inference.svi import run_svi

log = logging.getLogger(__name__)


@dataclasses.dataclass
class FitResult:
    """A finished fit: the data it used, the InferenceData, the summary table, the
    diagnostics (with the MAP report and timings) and the MAP optimum itself."""

    data: FitData
    method: str
    idata: object  # arviz.InferenceData
    summary: object  # pandas DataFrame
    diagnostics: dict
    map: MapResult
    config_toml: str = ""
    forecast: object = None  # inference.forecast.HerdForecast of a herd fit, when made
    draws_x: object = None  # the posterior draws of the unconstrained vector (chains, draws, dim)
    rows: object = None  # data_rows.csv: each datum with its predictive intervals (outputs.rows_with_predictions)

    @property
    def map_variables(self) -> dict[str, np.ndarray]:
        return density.posterior_variables(self.data.problem, self.map.z)


def map_fit(problem: FitProblem, starts: int = 4, steps: int = 150, learning_rate: float = 0.05,
            seed: int = 0, screen: int = 0, batch: int | None = None, hessian: bool = True,
            progress: bool = False, lbfgs_steps: int = 0, lbfgs_memory: int = LBFGS_MEMORY) -> MapResult:
    """Multi-start MAP of a problem. Starts: the prior centre plus prior draws, or with
    `screen` > 0 the best `starts` of the prior centre and `screen` space-filling points
    (population level for a hierarchical model; inference.map)."""
    # one lane per start: a padded lane costs a whole extra solve (4 x the work of a one-start herd MAP)
    vg = functools.partial(density.value_and_grad_many, problem, batch=batch or max(1, starts))
    prior = problem.prior
    centre = np.asarray(prior.nominal_z())[None]
    screening = None
    if screen > 0:
        cand = density.embed(problem, np.concatenate([centre, screening_points(prior, screen, seed)]))
        z0, screening = choose_starts(vg, cand, starts)
    else:
        draws = np.asarray(prior.sample_z(jax.random.PRNGKey(seed), (starts - 1,))) if starts > 1 else centre[:0]
        z0 = density.embed(problem, np.concatenate([centre, draws]))[:starts]
    vg_one = functools.partial(density.value_and_grad_many, problem, batch=1) if lbfgs_steps else None
    return find_map(vg, z0, steps=steps, learning_rate=learning_rate, screening=screening, hessian=hessian,
                    lbfgs_steps=lbfgs_steps, lbfgs_memory=lbfgs_memory, vg_one=vg_one,
                    newton_steps=1 if lbfgs_steps else 4,
                    progress=progress)


def population_names(data: FitData) -> tuple[list[str], list[str]]:
    """Summary-table names and units of a hierarchical fit's population parameters: mu_
    per centre (`mu_<param>[breed=Jersey]` with several centres), tau_, and delta_ per
    offset level (arviz's `name[coordinate]` labels)."""
    problem = data.problem
    names, units = [], []
    for prefix, labels, unit in (("mu_", data.centres if problem.n_centres > 1 else (None,), None),
                                 ("tau_", (None,), "sd of z"), ("delta_", data.offsets, "offset of z")):
        for n, u in zip(problem.names, problem.prior.units()):
            for label in labels:
                names.append(f"{prefix}{n}" + (f"[{label}]" if label else ""))
                units.append(unit or u)
    return names, units


def _diagnostics(summary, stats) -> dict:
    d = {"max_r_hat": float(np.nanmax(summary["r_hat"])) if summary["r_hat"].notna().any() else None,
         "min_ess_bulk": float(np.nanmin(summary["ess_bulk"])), "min_ess_tail": float(np.nanmin(summary["ess_tail"]))}
    if stats is not None:
        d["divergences"] = int(np.sum(stats["diverging"]))
        d["mean_tree_size"] = float(np.mean(stats["num_steps"]))
        d["mean_accept_prob"] = float(np.mean(stats["accept_prob"]))
        d["step_size"] = float(np.mean(stats["step_size"])) if "step_size" in stats else None
    return d


def _fitted_scale(rows, sigma) -> np.ndarray:
    """Each row's noise scale in model units at the posterior median of its fitted sigma
    (`noise_scale_in_model_units`, as `hierarchical_problem` writes the defaults);
    Gaussian rows keep their own."""
    kind = rows["kind"].to_numpy(dtype=int)
    median = np.median(np.asarray(sigma).reshape(-1, len(rows)), axis=0)
    individual = ~lk.is_gaussian(kind)
    return np.where(individual, noise_scale_in_model_units(kind, rows["value"], median),
                    rows["scale"].to_numpy(dtype=float))


def fit(data: FitData, settings, progress: bool = False, config_toml: str = "", checkpoint=None) -> FitResult:
    """Fit `data.problem` by `settings.fit.method` (module doc). `checkpoint`: continue from
    what it holds and save to it as the fit goes (its `start()` or `check()` already called)."""
    t_start = time.perf_counter()
    problem = data.problem
    method, seed = settings.fit.method, settings.fit.seed
    timings = {}
    m = settings.map
    t0 = time.perf_counter()
    map_res = checkpoint.load_map() if checkpoint is not None else None
    if map_res is None:
        map_res = map_fit(problem, starts=m.starts, steps=m.steps, learning_rate=m.learning_rate, seed=seed,
                          screen=m.screen, hessian=m.hessian, progress=progress, lbfgs_steps=m.lbfgs_steps,
                          lbfgs_memory=m.lbfgs_memory)
        if checkpoint is not None:
            checkpoint.save_map(map_res)
    else:
        log.info("MAP: read from the checkpoint in %s", checkpoint.path)
    timings["map_s"] = time.perf_counter() - t0
    log.info("MAP: log-density %.2f, converged=%s; %.0f s", map_res.logp, map_res.converged, timings["map_s"])

    stats = warmup_step_sizes = None
    resumed_at = 0  # sampler iterations read from a checkpoint
    key = jax.random.PRNGKey(seed + 17)
    t0 = time.perf_counter()
    if method == "nuts":
        n = settings.nuts
        if n.init_from_map:
            init = map_res.laplace_draws(key, n.chains)
            # draws that fail (-inf) fall back to the optimum itself
            ok = np.isfinite(density.value_and_grad_many(problem, init, batch=max(4, m.starts))[0])
            init[~ok] = map_res.z
        else:
            init = density.embed(problem, np.asarray(problem.prior.sample_z(key, (n.chains,))))
        res = run_nuts(lambda x: -density.log_density(problem, x), init, chains=n.chains, warmup=n.warmup, draws=n.draws,
                       seed=seed, max_tree_depth=n.max_tree_depth, target_accept=n.target_accept,
                       chain_method=n.chain_method, dense_mass=n.dense_mass, adapt_mass_matrix=n.adapt_mass_matrix,
                       inverse_mass_matrix=map_res.cov if n.init_from_map else None, progress_bar=progress,
                       checkpoint=checkpoint, checkpoint_every=n.checkpoint_every)
        x, stats, warmup_step_sizes = res.z, res.stats, res.warmup_step_sizes
        timings["nuts_s"] = res.wall_s
        resumed_at = res.resumed_at
    elif method == "svi":
        s = settings.svi
        res = run_svi(functools.partial(density.log_density, problem), map_res.z, guide=s.guide,
                      steps=s.steps, learning_rate=s.learning_rate, draws=s.draws, seed=seed,
                      rank=s.rank, progress_bar=progress, checkpoint=checkpoint,
                      checkpoint_every=s.checkpoint_every)
        x = res.z[None]
        timings["svi_s"] = res.wall_s
        resumed_at = res.resumed_at
    else:
        x = map_res.laplace_draws(key, settings.outputs.predictive_draws)[None]
        timings["laplace_draws_s"] = time.perf_counter() - t0

    # --- predictions and per-row log-likelihoods for every draw -------------------------
    t0 = time.perf_counter()
    chains, draws, dim = x.shape
    terms, pred, ok, steps, extra = density.evaluate_draws(problem, x.reshape(-1, dim),
                                                           progress="posterior predictive" if progress else None)
    terms, pred, extra = (a.reshape(chains, draws, -1) for a in (terms, pred, extra))
    sigma = density.row_sigma(problem, x)  # (chains, draws, rows) fitted noise scales, or None
    if sigma is not None:  # the rows' noise scale in model units (plots, data_rows.csv): the fitted median
        data = dataclasses.replace(data, rows=data.rows.assign(scale=_fitted_scale(data.rows, sigma)))
    timings["predictive_s"] = time.perf_counter() - t0

    # --- the prior, and a prior predictive of some of its draws --------------------------
    t0 = time.perf_counter()
    o = settings.outputs
    x_prior = density.sample_prior(problem, jax.random.PRNGKey(seed + 29), o.prior_draws)
    prior_pred = prior_extra = prior_sigma = None
    if o.prior_predictive_draws:
        _, pp, pok, _, prior_extra = density.evaluate_draws(problem, x_prior[: o.prior_predictive_draws],
                                                            progress="prior predictive" if progress else None)
        prior_pred = np.where(np.asarray(pok)[:, None], pp, np.nan)[None]  # a failed solve predicts nothing
        prior_extra = prior_extra[None]
        prior_sigma = density.row_sigma(problem, x_prior[None, : o.prior_predictive_draws])
    timings["prior_predictive_s"] = time.perf_counter() - t0

    attrs = out.FitAttrs(
        species=data.species, estimated=problem.names,
        base_params={k: float(v) for k, v in problem.base.values.items()}, method=method,
        model=problem.model, design=data.design, config=config_toml,
        git_revision=str(out.git_revision()["revision"]))
    sstats = out.sample_stats_from_nuts(stats) if stats is not None else None
    idata = out.build_idata(data, density.posterior_variables(problem, x), terms, pred, sstats, seed=seed,
                            attrs=attrs, prior=density.posterior_variables(problem, x_prior[None]),
                            prior_pred=prior_pred, extra_sd=extra, prior_extra_sd=prior_extra,
                            noise_sigma=sigma, prior_noise_sigma=prior_sigma)
    if problem.model == "group":
        names, units = problem.names, problem.prior.units()
    else:  # population level: centres (model units), spreads and level offsets (z-scale)
        names, units = population_names(data)
    kappas = het.variable_names(problem.discrepancy)  # between-study SDs, relative to the prediction
    names, units = list(names) + list(kappas), list(units) + ["1 (relative sd)"] * len(kappas)
    names, units = names + list(nz.variable_names(problem.fitted_noise)), units + list(nz.units(problem.fitted_noise))
    summary = out.summary_table(idata, names, units)
    diag = _diagnostics(summary, stats)
    diag.update({"method": method, "model": problem.model, "draws_failed_solver": int(np.sum(~ok)),
                 "map": map_res.report(), "rows_used": int(len(data.rows)), "rows_excluded": int(len(data.excluded)),
                 "mean_solver_steps": float(np.mean(steps))})
    # how many rows lie inside their 90 % interval for a new observation (data_rows.csv inside_90)
    rows = out.rows_with_predictions(data, pred, np.asarray(idata.posterior_predictive["y"]))
    diag["predictive_check"] = out.predictive_check(rows)
    if checkpoint is not None:
        diag["resumed_at_iteration"] = resumed_at
    if warmup_step_sizes is not None:
        diag["warmup_step_sizes"] = [float(v) for v in warmup_step_sizes]
    timings["total_s"] = time.perf_counter() - t_start
    diag["timings"] = timings
    return FitResult(data=data, method=method, idata=idata, summary=summary, diagnostics=diag, map=map_res,
                     config_toml=config_toml, draws_x=x, rows=rows)


__all__ = ["FitResult", "fit", "map_fit", "population_names"]
