"""`run_fit(cfg, out_dir)`: configuration -> problem -> MAP -> NUTS / SVI -> outputs."""

from __future__ import annotations

import dataclasses
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from lactojax.inference import outputs as out
from lactojax.inference.config import FitConfig
from lactojax.inference.density import LogDensity
from lactojax.inference.map import find_map
from lactojax.inference.nuts import run_nuts
from lactojax.inference.problem import problem_from_config
from lactojax.inference.svi import run_svi


@dataclasses.dataclass
class FitRun:
    out_dir: str
    method: str
    summary: object  # pandas DataFrame
    diagnostics: dict
    idata: object


def _diagnostics(summary, stats) -> dict:
    d = {
        "max_r_hat": float(np.nanmax(summary["r_hat"])) if summary["r_hat"].notna().any() else None,
        "min_ess_bulk": float(np.nanmin(summary["ess_bulk"])),
        "min_ess_tail": float(np.nanmin(summary["ess_tail"])),
    }
    if stats is not None:
        d["divergences"] = int(np.sum(stats["diverging"]))
        d["mean_tree_size"] = float(np.mean(stats["num_steps"]))
        d["mean_accept_prob"] = float(np.mean(stats["accept_prob"]))
        d["step_size"] = float(np.mean(stats["step_size"])) if "step_size" in stats else None
    return d


def run_fit(cfg: FitConfig, out_dir: str, progress: bool = True, log=print) -> FitRun:
    t_start = time.perf_counter()
    timings = {}
    os.makedirs(out_dir, exist_ok=True)
    f = cfg.fit
    method = f.method
    if f.model != "group":
        raise ValueError(f"{cfg.source}: [fit.model] {f.model!r} fits do not run through run_fit yet")
    problem = problem_from_config(cfg)
    ld = LogDensity(problem, batch=max(4, cfg.map.starts))
    log(f"lactojax fit {f.name}: method {method}, {problem.k} estimated parameters "
        f"({', '.join(problem.names)}), {len(problem.rows)} data rows used, "
        f"{len(problem.excluded)} excluded (see excluded_rows.csv), horizon "
        f"{problem.inputs.horizon_h / 24:g} days, JAX backend {jax.default_backend()}")

    # --- MAP (always: the optimum, its Laplace approximation and the NUTS init) ---------
    m = cfg.map
    t0 = time.perf_counter()
    map_res = find_map(ld, starts=m.starts, steps=m.steps, learning_rate=m.learning_rate,
                       seed=f.seed, screen=m.screen, verbose=progress)
    timings["map_s"] = time.perf_counter() - t0
    log(f"MAP: log-density {map_res.logp:.2f}, converged={map_res.converged}, "
        f"{map_res.n_at_best}/{len(map_res.starts)} starts at the best optimum, Hessian "
        f"{'positive definite' if map_res.hessian_pd else 'NOT positive definite (floored)'}; "
        f"{timings['map_s']:.0f} s")
    for name, val in zip(problem.names, map_res.theta):
        log(f"  {name} = {val:.4g}")

    stats = None
    warmup_step_sizes = None
    key = jax.random.PRNGKey(f.seed + 17)
    t0 = time.perf_counter()
    if method == "nuts":
        n = cfg.nuts
        if n.init_from_map:
            init = map_res.laplace_draws(key, n.chains)
            # draws that fail (-inf) fall back to the optimum itself
            ok = np.isfinite(ld.value_and_grad_many(init)[0])
            init[~ok] = map_res.z
            imm = map_res.cov
        else:
            init = np.asarray(problem.prior.sample_z(key, (n.chains,)))
            imm = None
        res = run_nuts(ld, init, chains=n.chains, warmup=n.warmup, draws=n.draws,
                       seed=f.seed, max_tree_depth=n.max_tree_depth,
                       target_accept=n.target_accept, chain_method=n.chain_method,
                       dense_mass=n.dense_mass, inverse_mass_matrix=imm,
                       adapt_mass_matrix=n.adapt_mass_matrix, progress_bar=progress)
        z, theta, stats = res.z, res.theta, res.stats
        timings["nuts_s"] = res.wall_s
        warmup_step_sizes = res.warmup_step_sizes
    elif method == "svi":
        s = cfg.svi
        res = run_svi(ld, map_res.z, guide=s.guide, steps=s.steps,
                      learning_rate=s.learning_rate, draws=s.draws, seed=f.seed,
                      rank=s.rank, progress_bar=progress)
        z, theta = res.z[None], res.theta[None]
        timings["svi_s"] = res.wall_s
    else:
        nd = cfg.outputs.predictive_draws
        z = map_res.laplace_draws(key, nd)[None]
        theta = np.asarray(problem.prior.z_to_theta(jnp.asarray(z)))
        timings["laplace_draws_s"] = time.perf_counter() - t0

    # --- predictions and per-row log-likelihoods for every draw -------------------------
    t0 = time.perf_counter()
    chains, draws, k = z.shape
    terms, pred, ok, steps = ld.evaluate_draws(z.reshape(-1, k))
    terms = terms.reshape(chains, draws, -1)
    pred = pred.reshape(chains, draws, -1)
    timings["predictive_s"] = time.perf_counter() - t0
    n_failed = int(np.sum(~ok))

    attrs = {
        "lactojax_config": cfg.to_toml(),
        "lactojax_species": problem.species,
        "lactojax_estimated": list(problem.names),
        "lactojax_base_params": {k_: float(v) for k_, v in problem.base.values.items()},
        "lactojax_design": cfg.design.to_dict(),
        "lactojax_method": method,
        "lactojax_git_revision": str(out.git_revision()["revision"]),
    }
    sstats = out.sample_stats_from_nuts(stats) if stats is not None else None
    idata = out.build_idata(problem, theta, terms, pred, sstats, seed=f.seed, attrs=attrs)
    path_nc = os.path.join(out_dir, "posterior.nc")
    if os.path.exists(path_nc):
        os.remove(path_nc)
    idata.to_netcdf(path_nc)
    summary = out.summary_table(idata, problem.names, problem.prior.units())
    summary.to_csv(os.path.join(out_dir, "summary.csv"), index=False, float_format="%.6g")
    out.plot_ppc(problem, pred, os.path.join(out_dir, "ppc.png"),
                 title=f"{f.name}: {method}, posterior predictive vs data")
    out.rows_with_predictions(problem, pred).to_csv(os.path.join(out_dir, "data_rows.csv"),
                                                    index=False, float_format="%.6g")
    problem.excluded.to_csv(os.path.join(out_dir, "excluded_rows.csv"), index=False)
    with open(os.path.join(out_dir, "config.toml"), "w") as fh:
        fh.write(f"# resolved configuration of {cfg.source}\n")
        fh.write(cfg.to_toml())
    diag = _diagnostics(summary, stats)
    diag.update({
        "method": method,
        "draws_failed_solver": n_failed,
        "map": map_res.report(),
        "rows_used": int(len(problem.rows)),
        "rows_excluded": int(len(problem.excluded)),
        "mean_solver_steps": float(np.mean(steps)),
    })
    if warmup_step_sizes is not None:
        diag["warmup_step_sizes"] = [float(x) for x in warmup_step_sizes]
    timings["total_s"] = time.perf_counter() - t_start
    diag["timings"] = timings
    out.write_json(os.path.join(out_dir, "diagnostics.json"), diag)
    out.write_json(os.path.join(out_dir, "provenance.json"), out.provenance({"timings": timings}))
    return FitRun(out_dir=out_dir, method=method, summary=summary, diagnostics=diag, idata=idata)


__all__ = ["FitRun", "run_fit"]
