"""`lactojax fit CONFIG`: fit a configuration from fits/ and write its outputs."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

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
    p.add_argument("--heterogeneity", choices=("none", "pooled", "observable"), default=None,
                   help="group fits: override [heterogeneity] model, the between-study discrepancy (fit each and "
                   "choose with `lactojax compare`)")
    p.add_argument("--resume", action="store_true",
                   help="continue the fit killed in DIR from its last checkpoint (DIR/checkpoint/); it ends with the "
                   "draws an uninterrupted run would have made. Starts a new fit when DIR holds none, does nothing "
                   "when DIR holds a finished one")
    p.add_argument("--force", action="store_true",
                   help="start over in a DIR that holds a finished fit or a checkpoint (they are replaced)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def _id_list(text: str) -> tuple[str, ...]:
    ids = tuple(t.strip() for t in text.split(",") if t.strip())
    if not ids:
        import argparse

        raise argparse.ArgumentTypeError(f"expected comma-separated lactation ids, got {text!r}")
    return ids


# the files whose presence marks a directory as holding a fit's outputs
FIT_MARKERS = ("posterior.nc", "summary.csv", "provenance.json")
# outputs written by some fits only (herds: predictions and lactations; plots that can fail)
OPTIONAL_OUTPUTS = ("predictions.csv", "lactations.csv", "ppc.png", "trace.png", "rank.png", "pair.png",
                    "subjects.png", "loo_pit.png")


def output_state(out_dir: str) -> str:
    """"empty", "unfinished" (a checkpoint: a fit was started and did not finish) or
    "finished" (a fit's outputs and no checkpoint)."""
    from lactojax.inference.checkpoint import CHECKPOINT_DIR

    out = Path(out_dir)
    if (out / CHECKPOINT_DIR).is_dir():
        return "unfinished"
    return "finished" if any((out / name).exists() for name in FIT_MARKERS) else "empty"


def describe_checkpoint(out_dir: str) -> str:
    from lactojax.inference.checkpoint import Checkpoint

    return Checkpoint(out_dir, {}).describe()


def remove_leftovers(out_dir: str, fit, written: dict) -> None:
    """Delete outputs of an earlier fit in out_dir (replaced with --force) that this fit
    did not write again: herd tables after a group fit, plots that failed this time."""
    keep = set(written["written"]) | ({"predictions.csv", "lactations.csv"} if fit.forecast is not None else set())
    for name in OPTIONAL_OUTPUTS:
        path = Path(out_dir) / name
        if name not in keep and path.exists():
            path.unlink()


def run(args) -> int:
    from lactojax.inference.config import ConfigError, load_config

    t0 = time.perf_counter()
    try:
        cfg = load_config(args.config)
        cfg = cfg.with_overrides(method=args.method, chains=args.chains, draws=args.draws,
                                 warmup=args.warmup, subjects=args.subjects, until_day=args.until_day,
                                 heterogeneity=args.heterogeneity)
    except ConfigError as err:
        raise UserInputError(str(err)) from None
    out_dir = args.out or os.path.join("fits", "results", cfg.fit.name)
    if args.resume and args.force:
        raise UserInputError("--resume continues a fit and --force starts it over: give one of them")
    state = output_state(out_dir)
    if state == "finished" and not args.force:
        if args.resume:
            print(f"lactojax fit: {out_dir} holds a finished fit (posterior.nc, summary.csv, ...): nothing to resume; "
                  "--force fits again")
            return 0
        raise UserInputError(f"--out {out_dir} already holds a finished fit (posterior.nc, summary.csv, ...): pass "
                             "--force to replace it, or choose another --out")
    if state == "unfinished" and not (args.resume or args.force):
        raise UserInputError(f"--out {out_dir} holds an unfinished fit ({describe_checkpoint(out_dir)}): continue it "
                             "with --resume, or start over with --force")
    import logging

    import jax

    from lactojax.atomic import remove_stale_temporaries
    from lactojax.inference.adapter import forecast_from_config, problem_from_config, resolved_toml
    from lactojax.inference.checkpoint import Checkpoint, CheckpointError, fingerprint
    from lactojax.inference.outputs import package_versions, write_fit
    from lactojax.inference.runner import fit as run_fit

    if not args.quiet:  # the library logs its progress (MAP steps); show it here
        logging.basicConfig(level=logging.WARNING, format="  %(message)s")
        logging.getLogger("lactojax").setLevel(logging.INFO)  # not every library's INFO lines
    try:
        data = problem_from_config(cfg)
        p = data.problem
        if not args.quiet:
            print(f"lactojax fit {data.label}: method {cfg.fit.method}, model {p.model}, {p.k} "
                  f"estimated parameters ({', '.join(p.names)}), {len(data.rows)} data rows used, "
                  f"{len(data.excluded)} excluded (see excluded_rows.csv), horizon "
                  f"{cfg.fit.horizon_days:g} days, JAX backend {jax.default_backend()}",
                  flush=True)
        config_toml = resolved_toml(cfg)
        checkpoint = Checkpoint(out_dir, fingerprint(config_toml, data.rows, package_versions()))
        if state == "unfinished" and args.resume:
            checkpoint.check()
            if not args.quiet:
                print(f"resuming from {checkpoint.path} ({describe_checkpoint(out_dir)})", flush=True)
        else:
            checkpoint.start()
        remove_stale_temporaries(out_dir)
        try:
            fit = run_fit(data, cfg, progress=not args.quiet, config_toml=config_toml, checkpoint=checkpoint)
            fit.forecast = forecast_from_config(cfg, fit, progress=not args.quiet)
            written = write_fit(fit, out_dir)
        except KeyboardInterrupt:
            print(f"\nlactojax fit: interrupted; {describe_checkpoint(out_dir)} kept in {checkpoint.path}: continue "
                  f"with `lactojax fit {args.config} --out {out_dir} --resume` (and the same options)",
                  file=sys.stderr)
            return 130
    except (ValueError, CheckpointError) as err:
        raise UserInputError(str(err)) from None
    plots = written["written"]
    remove_leftovers(out_dir, fit, written)
    checkpoint.remove()  # every output is written: the fit is finished
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
