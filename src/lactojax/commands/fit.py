"""`lactojax fit CONFIG`: fit a configuration from fits/ and write its outputs."""

from __future__ import annotations

import os
import time

# Inside a fit every solver failure is already turned into -inf by the log-density, so
# equinox's runtime checks may return NaN (caught by the same guard) instead of raising
# through a host callback. This also lets JAX cache the compiled gradients on disk
# (executables with host callbacks are never cached). Set before equinox is imported.
os.environ.setdefault("EQX_ON_ERROR", "nan")

from lactojax.cli import UserInputError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fit",
        help="fit model parameters to data (MAP, NUTS or SVI) from a fits/*.toml configuration",
        description="Fit the model to the datasets named in CONFIG and write posterior.nc, "
        "summary.csv, ppc.png, the resolved configuration, diagnostics and provenance to DIR.",
    )
    p.add_argument("config", help="fit configuration (TOML), e.g. fits/human_default.toml")
    p.add_argument("--out", default=None, help="output directory (default fits/results/<name>)")
    p.add_argument("--method", choices=("map", "nuts", "svi"), default=None,
                   help="override [fit] method")
    p.add_argument("--chains", type=int, default=None, help="override [nuts] chains")
    p.add_argument("--draws", type=int, default=None, help="override [nuts] draws per chain")
    p.add_argument("--warmup", type=int, default=None, help="override [nuts] warmup per chain")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args) -> int:
    from lactojax.inference.config import ConfigError, load_config

    t0 = time.perf_counter()
    try:
        cfg = load_config(args.config)
        cfg = cfg.with_overrides(method=args.method, chains=args.chains, draws=args.draws,
                                 warmup=args.warmup)
    except ConfigError as err:
        raise UserInputError(str(err)) from None
    out_dir = args.out or os.path.join("fits", "results", cfg.fit.name)
    from lactojax.inference.runner import run_fit

    try:
        fit = run_fit(cfg, out_dir, progress=not args.quiet,
                      log=(lambda *a, **k: None) if args.quiet else print)
    except ValueError as err:
        raise UserInputError(str(err)) from None
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
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    print(f"results in {os.path.abspath(out_dir)}: posterior.nc summary.csv ppc.png config.toml "
          f"diagnostics.json provenance.json data_rows.csv excluded_rows.csv")
    return 0
