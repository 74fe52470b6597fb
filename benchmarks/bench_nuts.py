"""Benchmark 5 - sampling: the default NUTS fit (`fits/human_default.toml`): wall time
(whole fit, MAP and NUTS separately; compilation included, as `make fit` pays it), bulk
and tail ESS and ESS per second for every estimated parameter, divergences, R-hat.

Runs `lactojax.inference.runner.run_fit` (the code `make fit` runs) into a temporary
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
    """`make fit`'s own code path (lactojax.inference.runner.run_fit) into a temporary
    directory; quick mode uses fits/tiny_smoke.toml."""
    try:
        from lactojax.inference.config import load_config
        from lactojax.inference.runner import run_fit
    except ImportError as e:
        return _skip("inference package not available", e)
    import tempfile

    repeats = repeats or 1
    path = Path(config) if config else (common.ROOT / "fits" / ("tiny_smoke.toml" if quick else "human_default.toml"))
    cfg = load_config(path)
    runs = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            fit = run_fit(cfg, tmp, progress=False, log=lambda *a, **k: None)
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
                              horizon_days=cfg["fit"]["horizon_days"], estimate=list(cfg["parameters"]["estimate"]),
                              solver=dict(cfg["solver"]), map=dict(cfg["map"]), nuts=dict(cfg["nuts"]),
                              code_path="lactojax.inference.runner.run_fit (what `make fit` runs)",
                              note="times include JIT compilation, as `make fit` pays it; ESS/s = ESS / NUTS time"),
                summary=summary, runs=runs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--config", default=None, help="fit configuration (default fits/human_default.toml)")
    args = ap.parse_args(argv)
    try:
        res = run(args.quick, args.repeats, args.config)
    except Exception as e:  # noqa: BLE001 - record, do not hide
        res = _skip("error while running the fit", e)
    print(f"wrote {common.write_json(NAME + ('_quick' if args.quick else ''), res)}")


if __name__ == "__main__":
    main()
