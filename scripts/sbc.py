"""Simulation-based calibration (Talts et al. 2018) of a fit configuration, to completion.

    python scripts/sbc.py fits/human_default.toml --horizon-days 8 --sims 100 --draws 99 --out fits/reference/sbc

For each of `--sims` replicates: parameters and between-study SDs drawn from the fit's
prior (`density.sample_prior`), data simulated by the model at them with noise from each
row's likelihood (the rows and design of the configuration), the posterior fitted by the
configuration's own estimation method where it is affordable (`--method`: laplace, the
configuration's MAP - starts, screen, Adam, L-BFGS - and its Laplace approximation, or
nuts from that MAP), and the rank of each true value
among `--draws` posterior draws. If the inference is calibrated, the ranks are uniform on
0..draws. Writes to --out:

- ranks.csv: one row per replicate, one column per estimated quantity;
- sbc.json: per quantity the chi-square test of uniform ranks in 10 bins (statistic, df,
  p-value, counts), the settings, the wall time and this command;
- sbc.png: per quantity the ECDF of the scaled ranks minus the uniform CDF, with the
  simultaneous 95 % band (az.plot_ecdf, pit=True).

`--horizon-days` shortens the horizon (rows beyond it are excluded, as in a fit) so that
the many replicates are affordable; the estimated parameters, priors, design and solver
stay the configuration's. ranks.csv is rewritten after every replicate, so a stopped run
keeps what it did (`--resume` continues from it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config", help="a fit configuration (TOML)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--sims", type=int, default=100, help="replicates (default 100)")
    ap.add_argument("--draws", type=int, default=99, help="posterior draws per replicate: ranks 0..draws")
    ap.add_argument("--method", choices=("laplace", "nuts"), default="laplace")
    ap.add_argument("--horizon-days", type=float, default=None, help="override [fit] horizon_days")
    ap.add_argument("--heterogeneity", choices=("none", "pooled", "observable"), default=None,
                    help="override [heterogeneity] model")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true", help="continue the replicates in --out/ranks.csv")
    args = ap.parse_args(argv)

    from lactojax.precision import enable_compilation_cache, enable_x64

    enable_x64()
    enable_compilation_cache()
    from lactojax.atomic import write_csv, write_text
    from lactojax.inference import heterogeneity as het
    from lactojax.inference.adapter import problem_from_config
    from lactojax.inference.calibration import sbc_ranks, sbc_uniformity
    from lactojax.inference.config import load_config

    cfg = load_config(args.config)
    if args.horizon_days is not None:
        cfg = cfg.replace(fit=cfg.fit.replace(horizon_days=args.horizon_days))
    cfg = cfg.with_overrides(heterogeneity=args.heterogeneity)
    m = cfg.map  # the configuration's own MAP: starts, Adam steps, screen, L-BFGS
    map_kw = dict(map_starts=m.starts, map_steps=m.steps, learning_rate=m.learning_rate, screen=m.screen,
                  lbfgs_steps=m.lbfgs_steps)
    data = problem_from_config(cfg)
    problem = data.problem
    names = [*problem.names, *het.variable_names(problem.discrepancy)]  # the entries of x, in order
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = pd.read_csv(out / "ranks.csv") if args.resume and (out / "ranks.csv").exists() else None
    start = 0 if done is None else len(done)
    print(f"SBC of {args.config}: {len(data.rows)} rows, {problem.dim} quantities ({', '.join(names)}), "
          f"{args.sims} replicates x {args.draws} draws by {args.method}" + (f", from replicate {start}" if start else ""),
          flush=True)
    t0 = time.perf_counter()

    def save(n, ranks):
        table = pd.DataFrame(ranks, columns=names)
        if done is not None:
            table = pd.concat([done, table], ignore_index=True)
        write_csv(table, out / "ranks.csv", index=False)
        print(f"  replicate {start + n}/{args.sims}, {time.perf_counter() - t0:.0f} s", flush=True)

    if args.sims > start:
        sbc_ranks(problem, n_sims=args.sims - start, n_draws=args.draws, method=args.method, seed=args.seed + start,
                  progress=save, **map_kw)
    ranks = pd.read_csv(out / "ranks.csv")[names].to_numpy()
    tests = sbc_uniformity(ranks, args.draws)
    report = {
        "config": args.config, "rows": int(len(data.rows)), "horizon_days": cfg.fit.horizon_days,
        "method": args.method, "replicates": int(ranks.shape[0]), "draws": args.draws,
        "heterogeneity": cfg.heterogeneity.model, "map": map_kw, "seed": args.seed,
        "wall_s_this_run": time.perf_counter() - t0,
        "command": "python scripts/sbc.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "uniformity": dict(zip(names, tests)),
        "min_p_value": min(t["p_value"] for t in tests),
    }
    write_text(out / "sbc.json", json.dumps(report, indent=2) + "\n")
    plot(ranks, names, args.draws, out / "sbc.png")
    for name, t in zip(names, tests):
        print(f"  {name}: chi2 = {t['chi2']:.1f} (df {t['df']}), p = {t['p_value']:.3f}")
    print(f"wrote {out}/ranks.csv, sbc.json, sbc.png")
    return 0


def plot(ranks, names, n_draws: int, path) -> None:
    import arviz as az
    import matplotlib

    matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
    import matplotlib.pyplot as plt
    from scipy import stats

    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, j in zip(axes.flat, range(len(names))):
        u = (ranks[:, j] + 0.5) / (n_draws + 1)  # scaled ranks on (0, 1)
        az.plot_ecdf(u, eval_points=np.linspace(0.005, 0.995, 100), cdf=stats.uniform().cdf, difference=True, confidence_bands=True, ci_prob=0.95, ax=ax,
                     rvs=stats.uniform().rvs, random_state=0)
        ax.set_title(names[j], fontsize=7)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(f"SBC: ECDF of {ranks.shape[0]} scaled ranks minus uniform, 95 % simultaneous band", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
