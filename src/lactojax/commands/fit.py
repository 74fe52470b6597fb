"""`lactojax fit CONFIG`: fit a configuration from fits/ and write its outputs."""

from __future__ import annotations

import os
import time

import numpy as np

# EQX_ON_ERROR=nan for this command is set by `lactojax.cli.main` (see
# `_configure_process`), not here: importing this module changes no process state.
from lactojax.cli import UserInputError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit model parameters to data (MAP, NUTS or SVI) from a fits/*.toml configuration",
        description="Fit the model to the datasets (bundled names or paths to your own files) named in CONFIG "
        "and write posterior.nc, summary.csv, ppc.png, trace.png, rank.png, pair.png, subjects.png, the resolved "
        "configuration, diagnostics and provenance to DIR.",
    )
    p.add_argument("config", help="fit configuration (TOML), e.g. fits/human_default.toml")
    p.add_argument("--out", default=None, help="output directory (default fits/results/<name>)")
    p.add_argument("--method", choices=("map", "nuts", "svi"), default=None,
                   help="override [fit] method")
    p.add_argument("--chains", type=int, default=None, help="override [nuts] chains")
    p.add_argument("--draws", type=int, default=None, help="override [nuts] draws per chain")
    p.add_argument("--warmup", type=int, default=None, help="override [nuts] warmup per chain")
    p.add_argument("--subjects", default=None, type=_id_list,
                   help="herd fits: fit only these lactations, comma-separated ids (`<id>` or `<dataset>:<id>`); "
                   "overrides [hierarchical] subjects and max_subjects")
    p.add_argument("--until-day", type=float, default=None,
                   help="herd fits: fit only the records up to this day in milk and forecast the rest "
                   "(predictions.csv still covers the whole lactation); overrides [hierarchical] until_day")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def _id_list(text: str) -> tuple[str, ...]:
    ids = tuple(t.strip() for t in text.split(",") if t.strip())
    if not ids:
        import argparse

        raise argparse.ArgumentTypeError(f"expected comma-separated lactation ids, got {text!r}")
    return ids


def run(args) -> int:
    from lactojax.inference.config import ConfigError, load_config

    t0 = time.perf_counter()
    try:
        cfg = load_config(args.config)
        cfg = cfg.with_overrides(method=args.method, chains=args.chains, draws=args.draws,
                                 warmup=args.warmup, subjects=args.subjects, until_day=args.until_day)
    except ConfigError as err:
        raise UserInputError(str(err)) from None
    out_dir = args.out or os.path.join("fits", "results", cfg.fit.name)
    import logging

    import jax

    from lactojax.inference.adapter import forecast_from_config, problem_from_config, resolved_toml
    from lactojax.inference.outputs import write_fit
    from lactojax.inference.runner import fit as run_fit

    if not args.quiet:  # the library logs its progress (MAP steps); show it here
        logging.basicConfig(level=logging.INFO, format="  %(message)s")
    try:
        data = problem_from_config(cfg)
        p = data.problem
        if not args.quiet:
            print(f"lactojax fit {data.label}: method {cfg.fit.method}, model {p.model}, {p.k} "
                  f"estimated parameters ({', '.join(p.names)}), {len(data.rows)} data rows used, "
                  f"{len(data.excluded)} excluded (see excluded_rows.csv), horizon "
                  f"{cfg.fit.horizon_days:g} days, JAX backend {jax.default_backend()}",
                  flush=True)
        fit = run_fit(data, cfg, progress=not args.quiet,
                      config_toml=resolved_toml(cfg))
        fit.forecast = forecast_from_config(cfg, fit)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    plots = write_fit(fit, out_dir)["written"]
    m = fit.map
    if not args.quiet:
        print(f"MAP: log-density {m.logp:.2f}, converged={m.converged}, {m.n_at_best}/{len(m.starts)} "
              f"starts at the best optimum, Hessian "
              f"{'positive definite' if m.hessian_pd else 'NOT positive definite (floored)'}; "
              f"{fit.diagnostics['timings']['map_s']:.0f} s")
        for name, val in fit.map_variables.items():
            print(f"  {name} = {np.ravel(val)[0]:.4g}" if np.size(val) == 1 else
                  f"  {name} = {np.array2string(np.asarray(val), precision=4)}")
    d = fit.diagnostics
    print()
    print(fit.summary.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    line = f"method {fit.method}"
    if "divergences" in d:
        line += f", divergences {d['divergences']}"
    if d.get("max_r_hat") is not None:
        line += f", max R-hat {d['max_r_hat']:.4f}"
    line += f", min ESS bulk {d['min_ess_bulk']:.0f} / tail {d['min_ess_tail']:.0f}"
    print(line)
    pc = d.get("predictive_check")
    if pc:
        print(f"data rows inside their 90 % predictive interval (a new observation): {pc['inside_90']} of {pc['rows']} "
              f"({100 * pc['share_inside_90']:.0f} %; per observable in diagnostics.json)")
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    herd = " predictions.csv lactations.csv" if fit.forecast is not None else ""
    print(f"results in {os.path.abspath(out_dir)}: posterior.nc summary.csv {' '.join(plots)} config.toml "
          f"diagnostics.json provenance.json data_rows.csv excluded_rows.csv{herd}")
    return 0
