"""Benchmark 8 - dairy baselines: the standard lactation curves (Wood, Wilmink, MilkBot;
`lactojax.dairy`) on the `milkman` herd, each by per-lactation least squares and with a
pooled herd prior, and optionally lactojax's own predictions side by side.

Records: daily yields (kg/d) of DIM 1-305 from the twice-daily milkings
(`lactojax.dairy.daily_yield_records`: days missing a milking are dropped and counted).
Per lactation:
- in-sample: fit to all days, RMSE (kg/d) of the daily yields;
- forecast from the first 60 DIM: fit to DIM 1-60 only, RMSE on the observed days of
  DIM 61-305, and the error of the 305-day total: predicted = observed days 1-60 (missing
  days linearly interpolated) + predicted days 61-305, against the observed total (all
  missing days linearly interpolated); only lactations with records up to DIM >= 300
  count for the total, so that it is not an extrapolation.
Tables report medians over lactations. Pooled forecasts come in two kinds: the prior
estimated from the same 60-day records (no day after 60 of any lactation is used), and
cross-fitted (K folds: the prior also sees the complete lactations of the other folds,
the situation of a herd with past lactations; the forecast lactation's own days 61-305
are never used).

With `--lactojax-insample DIR` / `--lactojax-forecast DIR` (fit output directories with
`predictions.csv`: subject 'milkman:<id>', day 1..305, observable 'milk_yield_daily',
median, p05, p95 in kg/d) the same metrics are computed for lactojax (median as the point
prediction) on the lactations it covers, together with the baselines restricted to those
lactations.

  .venv/bin/python benchmarks/bench_dairy.py [--quick] [--lactojax-insample DIR] [--lactojax-forecast DIR]
Writes benchmarks/results/dairy_cpu.json (numpy/scipy only: always CPU) and the
per-lactation figures to benchmarks/results/dairy_per_lactation_cpu.csv.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from lactojax.atomic import write_csv

NAME = "dairy"
DATASET = "milkman"
DAYS = 305
FORECAST_DIM = 60
TOTAL_MIN_LAST_DIM = 300  # the 305-day total counts only lactations recorded this far
FOLDS = 5
METHODS_INSAMPLE = ("least_squares", "pooled")
METHODS_FORECAST = ("least_squares", "pooled_same_records", "pooled_cross_fitted")
METHOD_LABELS = {
    "least_squares": "per-lactation least squares",
    "pooled": "pooled herd prior",
    "pooled_same_records": "pooled herd prior (from the 60-day records)",
    "pooled_cross_fitted": f"pooled herd prior ({FOLDS}-fold, other folds complete)",
    "lactojax": "lactojax (posterior median)",
}


def load_lactations(max_lactations=None):
    """id -> (dim, kg/d) for DIM 1..305, and the records report."""
    from lactojax.dairy import daily_yield_records
    from lactojax.datasets import load_dataset

    rec = daily_yield_records(load_dataset(DATASET).table)
    lac = {}
    for k, d in rec.by_subject.items():
        d = d[(d["dim"] >= 1) & (d["dim"] <= DAYS)]
        lac[k] = (d["dim"].to_numpy(dtype=float), d["yield_kg_d"].to_numpy(dtype=float))
    if max_lactations:
        lac = dict(list(lac.items())[:max_lactations])
    return lac, rec


def interpolated(t, y):
    """Daily yields for DIM 1..305 with missing days linearly interpolated (ends held)."""
    return np.interp(np.arange(1, DAYS + 1), t, y)


def insample_row(t, y, pred_daily):
    """RMSE (kg/d) on the observed days; pred_daily indexed by DIM-1."""
    p = pred_daily[t.astype(int) - 1]
    return {"rmse_insample_kg_d": float(np.sqrt(np.mean((p - y) ** 2)))}


def forecast_row(t, y, pred_daily):
    """RMSE on observed DIM 61-305 and the 305-day total rule (module docstring)."""
    late = t > FORECAST_DIM
    p = pred_daily[t.astype(int) - 1]
    obs = interpolated(t, y)
    total_obs = float(obs.sum())
    total_pred = float(obs[:FORECAST_DIM].sum() + pred_daily[FORECAST_DIM:].sum())
    counts = bool(t.max() >= TOTAL_MIN_LAST_DIM)
    return {"rmse_forecast_kg_d": float(np.sqrt(np.mean((p[late] - y[late]) ** 2))) if late.any() else np.nan,
            "total_obs_kg": total_obs, "total_pred_kg": total_pred,
            "total_err_pct": 100.0 * (total_pred - total_obs) / total_obs if counts else np.nan}


def summarise(rows: pd.DataFrame) -> dict:
    """Medians over lactations of the per-lactation figures in `rows`."""
    out = {"n_lactations": int(len(rows))}
    has = lambda col: col in rows and rows[col].notna().any()  # noqa: E731
    if has("rmse_insample_kg_d"):
        out["median_rmse_insample_kg_d"] = float(rows["rmse_insample_kg_d"].median())
    if has("rmse_forecast_kg_d"):
        err = rows["total_err_pct"].dropna()
        out.update(median_rmse_forecast_kg_d=float(rows["rmse_forecast_kg_d"].median()),
                   n_lactations_total=int(len(err)),
                   median_abs_total_err_pct=float(err.abs().median()) if len(err) else None,
                   median_total_err_pct=float(err.median()) if len(err) else None)
    return out


def _daily(fit_predict):
    return fit_predict(np.arange(1, DAYS + 1, dtype=float))


def run_baselines(lac, n_iter, folds):
    """Per-lactation rows for every curve x method, and fit times (s)."""
    from lactojax.dairy import CURVES, fit_herd

    short = {k: (t[t <= FORECAST_DIM], y[t <= FORECAST_DIM]) for k, (t, y) in lac.items()}
    ids = sorted(lac)
    fold_of = {k: i % folds for i, k in enumerate(ids)}
    rows, times = [], {}
    for cname, curve in CURVES.items():
        for method in METHODS_INSAMPLE:
            t0 = time.perf_counter()
            herd = fit_herd(curve, lac, pooled=method == "pooled", n_iter=n_iter)
            times[f"{cname}/insample/{method}"] = time.perf_counter() - t0
            for k, (t, y) in lac.items():
                rows.append(dict(curve=cname, task="insample", method=method, subject=k,
                                 **insample_row(t, y, _daily(lambda s: herd.predict(k, s)))))
        for method in METHODS_FORECAST:
            t0 = time.perf_counter()
            if method == "pooled_cross_fitted":
                fits = {}
                for f in range(folds):
                    herd_data = {k: (short[k] if fold_of[k] == f else lac[k]) for k in ids}
                    herd = fit_herd(curve, herd_data, pooled=True, n_iter=n_iter)
                    fits.update({k: herd.fits[k] for k in ids if fold_of[k] == f})
            else:
                herd = fit_herd(curve, short, pooled=method == "pooled_same_records", n_iter=n_iter)
                fits = herd.fits
            times[f"{cname}/forecast/{method}"] = time.perf_counter() - t0
            for k, (t, y) in lac.items():
                rows.append(dict(curve=cname, task="forecast", method=method, subject=k,
                                 **forecast_row(t, y, _daily(fits[k].predict))))
            print(f"[dairy] {cname}: {method} done", flush=True)
    return pd.DataFrame(rows), times


def read_lactojax(directory) -> dict:
    """'milkman:<id>' predictions.csv -> id -> daily medians (kg/d) for DIM 1..305."""
    path = Path(directory) / "predictions.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (expected a lactojax fit output directory)")
    p = pd.read_csv(path)
    p = p[(p["observable"] == "milk_yield_daily") & p["subject"].astype(str).str.startswith(f"{DATASET}:")]
    out = {}
    for subject, d in p.groupby("subject"):
        daily = pd.Series(d["median"].to_numpy(dtype=float), index=d["day"].astype(int)).reindex(
            range(1, DAYS + 1))
        if daily.isna().any():
            raise ValueError(f"{path}: {subject} lacks predictions for days "
                             f"{list(daily.index[daily.isna()][:5])}... (need DIM 1..{DAYS})")
        out[str(subject).split(":", 1)[1]] = daily.to_numpy()
    return out


def lactojax_side_by_side(lac, rows, task, directory):
    """Lactojax metrics on the lactations it covers, and the baselines on the same ones."""
    preds = read_lactojax(directory)
    covered = sorted(k for k in preds if k in lac)
    unknown = sorted(k for k in preds if k not in lac)
    make = insample_row if task == "insample" else forecast_row
    mine = pd.DataFrame([dict(subject=k, **make(*lac[k], preds[k])) for k in covered])
    base = rows[(rows["task"] == task) & rows["subject"].isin(covered)]
    return {"directory": str(directory), "n_lactations": len(covered), "unknown_subjects": unknown,
            "lactojax": summarise(mine) if len(mine) else None,
            "baselines": {c: {m: summarise(g) for m, g in gc.groupby("method", sort=False)}
                          for c, gc in base.groupby("curve", sort=False)}}, mine.assign(
        curve="lactojax", task=task, method="lactojax")


def run(quick=False, lactojax_insample=None, lactojax_forecast=None, n_iter=None):
    from lactojax.dairy import CURVES

    t_start = time.perf_counter()
    lac, rec = load_lactations(24 if quick else None)
    n_iter = n_iter or (1 if quick else 3)
    folds = 2 if quick else FOLDS
    rows, times = run_baselines(lac, n_iter, folds)
    results = {task: {c: {m: summarise(g) for m, g in gc.groupby("method", sort=False)}
                      for c, gc in rows[rows["task"] == task].groupby("curve", sort=False)}
               for task in ("insample", "forecast")}
    lj = {}
    for task, directory in (("insample", lactojax_insample), ("forecast", lactojax_forecast)):
        if directory is None:
            lj[task] = {"run": False, "reason": f"lactojax not run (no --lactojax-{task} directory given)"}
            continue
        lj[task], mine = lactojax_side_by_side(lac, rows, task, directory)
        lj[task]["run"] = True
        rows = pd.concat([rows, mine], ignore_index=True)
    results["lactojax"] = lj
    wall = time.perf_counter() - t_start
    print(f"[dairy] {len(lac)} lactations, wall {wall:.1f} s", flush=True)
    settings = dict(
        quick=quick, dataset=DATASET, n_lactations=len(lac), days=DAYS, forecast_from_dim=FORECAST_DIM,
        total_min_last_dim=TOTAL_MIN_LAST_DIM, cross_fit_folds=folds, pooled_n_iter=n_iter,
        records=rec.summary(),
        methods=dict(METHOD_LABELS, pooled_cross_fitted=f"pooled herd prior ({folds}-fold, other folds complete)"),
        curves={c.name: {"params": list(c.param_names), "units": list(c.param_units), "fixed": dict(c.fixed),
                         "log_scale": list(c.log_scale), "reference": c.reference} for c in CURVES.values()},
        total_rule=("predicted 305-d total = observed DIM 1-60 (missing days interpolated) + predicted DIM "
                    "61-305; observed total = all DIM 1-305, missing days linearly interpolated; lactations "
                    f"recorded to DIM >= {TOTAL_MIN_LAST_DIM} only"))
    return dict(settings=settings, results=results, fit_s=times, wall_s=wall), rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="24 lactations, 1 EM iteration, 2 folds")
    ap.add_argument("--lactojax-insample", default=None, help="fit output directory with predictions.csv")
    ap.add_argument("--lactojax-forecast", default=None, help="fit output directory with predictions.csv")
    ap.add_argument("--n-iter", type=int, default=None, help="EM iterations of the pooled prior")
    args = ap.parse_args(argv)
    payload, rows = run(args.quick, args.lactojax_insample, args.lactojax_forecast, args.n_iter)
    name = NAME + ("_quick" if args.quick else "")
    path = common.write_json(name, payload, backend_name="cpu")
    write_csv(rows, common.RESULTS / f"{name}_per_lactation_cpu.csv", index=False, float_format="%.4g")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
