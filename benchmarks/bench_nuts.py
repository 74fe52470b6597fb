"""Benchmark 5 - sampling: the first-week NUTS fit (`fits/human_first_week.toml`, the default fit until the first-year fit replaced it): wall time
(whole fit, MAP and NUTS separately; compilation included, as `make fit` pays it), bulk
and tail ESS and ESS per second for every estimated parameter, divergences, R-hat.

Runs `lactojax.inference` fit + write_fit (the code `make fit` runs) into a temporary
directory; when the inference package is not importable it writes a JSON entry
'skipped: inference package not available'.

  .venv/bin/python benchmarks/bench_nuts.py [--quick] [--repeats N]
Writes benchmarks/results/nuts_<backend>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

NAME = "nuts"


def _skip(reason: str, exc: BaseException | None = None) -> dict:
    out = {"skipped": f"skipped: {reason}" + (f" ({exc!r})" if exc else "")}
    if exc is not None:
        out["traceback"] = traceback.format_exc()[-2000:]
    print(f"[nuts] {out['skipped']}", flush=True)
    return out


def run(quick=False, repeats=None, config=None) -> dict:
    """`make fit`'s own code path (lactojax.inference: fit, then write_fit into a temporary
    directory); quick mode uses fits/tiny_smoke.toml."""
    try:
        from lactojax.inference import fit_from_config, write_fit
        from lactojax.inference.config import load_config
    except ImportError as e:
        return _skip("inference package not available", e)
    import tempfile

    repeats = repeats or 1
    path = Path(config) if config else (common.ROOT / "fits" / ("tiny_smoke.toml" if quick else "human_first_week.toml"))
    cfg = load_config(path)
    runs = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            fit = fit_from_config(cfg)
            write_fit(fit, tmp)
            wall = time.perf_counter() - t0
        diag, tim = fit.diagnostics, fit.diagnostics["timings"]
        nuts_s = tim.get("nuts_s")
        per_param = {}
        for row in fit.summary.to_dict("records"):
            per_param[row["parameter"]] = dict(
                ess_bulk=row["ess_bulk"], ess_tail=row["ess_tail"], r_hat=row.get("r_hat"),
                ess_bulk_per_s=row["ess_bulk"] / nuts_s if nuts_s else None,
                ess_tail_per_s=row["ess_tail"] / nuts_s if nuts_s else None,
                ess_bulk_per_s_whole_fit=row["ess_bulk"] / wall, posterior_mean=row["mean"])
        runs.append(dict(wall_s=wall, timings=tim, divergences=diag.get("divergences"),
                         mean_tree_size=diag.get("mean_tree_size"), mean_accept_prob=diag.get("mean_accept_prob"),
                         max_r_hat=diag.get("max_r_hat"), mean_solver_steps=diag.get("mean_solver_steps"),
                         min_ess_bulk_per_s=min(p["ess_bulk_per_s"] for p in per_param.values()) if nuts_s else None,
                         parameters=per_param))
        print(f"[nuts] run {r}: whole fit {wall:.1f} s (MAP {tim.get('map_s', float('nan')):.1f} s, NUTS "
              f"{nuts_s or float('nan'):.1f} s), divergences {diag.get('divergences')}, "
              f"min bulk ESS/s {runs[-1]['min_ess_bulk_per_s']}", flush=True)
    pick = lambda k: [x["timings"][k] for x in runs if x["timings"].get(k) is not None]
    summary = dict(wall_s=common.summarize([x["wall_s"] for x in runs]), map_s=common.summarize(pick("map_s")),
                   nuts_s=common.summarize(pick("nuts_s")),
                   min_ess_bulk_per_s=common.summarize([x["min_ess_bulk_per_s"] for x in runs
                                                        if x["min_ess_bulk_per_s"] is not None]))
    return dict(settings=dict(config=str(path.relative_to(common.ROOT)), quick=quick, repeats=repeats,
                              horizon_days=cfg.fit.horizon_days, estimate=list(cfg.parameters.estimate),
                              solver=cfg.solver.to_dict(), map=cfg.map.to_dict(), nuts=cfg.nuts.to_dict(),
                              code_path="lactojax.inference.runner.fit + outputs.write_fit (what `make fit` runs)",
                              note="times include JIT compilation, as `make fit` pays it; ESS/s = ESS / NUTS time"),
                summary=summary, runs=runs)


def from_fit_dir(fit_dir) -> dict:
    """Report a finished `lactojax fit` / `make fit` run from its output directory
    (diagnostics.json: timings and divergences recorded by the fit itself;
    summary.csv: per-parameter ESS; config.toml; provenance.json: machine and versions),
    instead of re-running an hour-long fit. One run: no spread across repeats."""
    import csv
    import json as _json

    d = Path(fit_dir)
    diag = _json.loads((d / "diagnostics.json").read_text())
    prov = _json.loads((d / "provenance.json").read_text()) if (d / "provenance.json").exists() else {}
    tim = diag["timings"]
    nuts_s = tim.get("nuts_s")
    per_param = {}
    with open(d / "summary.csv") as fh:
        for row in csv.DictReader(fh):
            eb, et = float(row["ess_bulk"]), float(row["ess_tail"])
            per_param[row["parameter"]] = dict(
                ess_bulk=eb, ess_tail=et, r_hat=float(row["r_hat"]) if row.get("r_hat") not in (None, "", "nan") else None,
                ess_bulk_per_s=eb / nuts_s if nuts_s else None, ess_tail_per_s=et / nuts_s if nuts_s else None,
                ess_bulk_per_s_whole_fit=eb / tim["total_s"], posterior_mean=float(row["mean"]))
    try:
        import tomllib

        cfg = tomllib.loads((d / "config.toml").read_text())
    except Exception:  # noqa: BLE001
        cfg = {}
    run = dict(wall_s=tim["total_s"], timings=tim, divergences=diag.get("divergences"),
               mean_tree_size=diag.get("mean_tree_size"), mean_accept_prob=diag.get("mean_accept_prob"),
               max_r_hat=diag.get("max_r_hat"), mean_solver_steps=diag.get("mean_solver_steps"),
               min_ess_bulk_per_s=min(p["ess_bulk_per_s"] for p in per_param.values()) if nuts_s else None,
               parameters=per_param)
    summary = dict(wall_s=common.summarize([tim["total_s"]]), map_s=common.summarize([tim["map_s"]]),
                   nuts_s=common.summarize([nuts_s] if nuts_s else []),
                   min_ess_bulk_per_s=common.summarize([run["min_ess_bulk_per_s"]] if nuts_s else []))
    fit, nuts = cfg.get("fit", {}), cfg.get("nuts", {})
    return dict(settings=dict(config=str(d / "config.toml"), source=f"recorded by lactojax fit in {d}", quick=False,
                              repeats=1, horizon_days=fit.get("horizon_days"),
                              estimate=list(cfg.get("parameters", {}).get("estimate", per_param)),
                              solver=cfg.get("solver", {}), map=cfg.get("map", {}), nuts=nuts,
                              code_path="lactojax.inference.runner.fit + outputs.write_fit (what `make fit` runs)",
                              note="times include JIT compilation, as `make fit` pays it; ESS/s = ESS / NUTS time"),
                summary=summary, runs=[run], fit_provenance=prov)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--config", default=None, help="fit configuration (default fits/human_first_week.toml)")
    ap.add_argument("--from-fit-dir", default=None,
                    help="report a finished `make fit` output directory instead of running the fit")
    args = ap.parse_args(argv)
    try:
        res = from_fit_dir(args.from_fit_dir) if args.from_fit_dir else run(args.quick, args.repeats, args.config)
    except Exception as e:  # noqa: BLE001 - record, do not hide
        res = _skip("error while running the fit", e)
    print(f"wrote {common.write_json(NAME + ('_quick' if args.quick else ''), res)}")


if __name__ == "__main__":
    main()
