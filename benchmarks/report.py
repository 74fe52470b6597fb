"""Render benchmarks/results/README_table.md from the benchmark JSON files (never typed by
hand). CPU figures come from `<name>_cpu.json`, GPU figures from `<name>_gpu.json`; a
missing GPU file reads 'pending (no GPU lent)'.

  .venv/bin/python benchmarks/report.py [--out benchmarks/results/README_table.md] [--print]

It also rewrites the block between the BEGIN/END benchmarks markers in README.md, and the
dairy-baselines block (BEGIN/END dairy markers, from dairy_cpu.json) when the README has it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from lactojax.atomic import write_text  # noqa: E402

PENDING = "pending (no GPU lent)"


def load(name, backend):
    path = common.RESULTS / f"{name}_{backend}.json"
    return json.loads(path.read_text()) if path.exists() else None


def fmt_s(x):
    if x is None:
        return "n/a"
    if x >= 100:
        return f"{x:.0f} s"
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 1e-3:
        return f"{1e3 * x:.1f} ms"
    return f"{1e6 * x:.0f} us"


def fmt_t(summary):
    """median (IQR) of a summarize() dict."""
    if not summary or summary.get("median") is None:
        return "n/a"
    s = fmt_s(summary["median"])
    if summary.get("n", 1) > 1:
        s += f" (IQR {fmt_s(summary['iqr'])}, n={summary['n']})"
    return s


def fmt_x(x, digits=1):
    return "n/a" if x is None else f"{x:.{digits}f}x"


def met(flag):
    return "n/a" if flag is None else ("yes" if flag else "**no**")


def skipped(d):
    return d is None or "skipped" in d


def cell(d, fn):
    if d is None:
        return None
    if "skipped" in d:
        return d["skipped"]
    try:
        return fn(d)
    except (KeyError, TypeError, IndexError):
        return "n/a"


def rows_solve(cpu, gpu):
    rows = []

    def fig(d):
        r = d["diffrax"]
        return f"{fmt_t(r['wall_s'])}; {r['num_steps']} steps, {r['us_per_step']:.0f} us/step"

    def ratio(d):
        c = d["comparison"]
        parts = [f"{m} {fmt_x(v)}" for m, v in c["speedup_vs_each_wall"].items()]
        peers = ", ".join(f"{m} {fmt_s(r['wall_s']['median'])}" for m, r in d["scipy"].items())
        return "faster than SciPy: " + ", ".join(parts) + f" (SciPy {peers})"

    d = cpu or gpu
    rows.append([
        f"1. One solve, {d['settings']['days']} d, 2 glands, 10 feeds/d, Tsit5 rtol=atol={d['settings']['rtol']:g} (after compile)" if d else "1. One solve",
        cell(cpu, fig), cell(gpu, fig) or PENDING, cell(cpu, ratio) or "n/a", ">= 10x faster than best SciPy",
        cell(cpu, lambda d: met(d["comparison"]["target_met"])) or "n/a",
    ])

    def acc(d):
        parts = [f"diffrax {max(d['diffrax']['max_rel_err_vs_reference'].values()):.1e}"]
        parts += [f"{m} {max(r['max_rel_err_vs_reference'].values()):.1e}" for m, r in d["scipy"].items()]
        return "max rel. error of daily intake/Na/lactose/protein vs reference: " + ", ".join(parts)

    rows.append(["1b. Accuracy (same tolerances)", cell(cpu, acc), cell(gpu, acc) or PENDING,
                 cell(cpu, lambda d: f"reference: {d['settings']['reference']}") or "n/a", "same accuracy",
                 cell(cpu, lambda d: met(max(d['diffrax']['max_rel_err_vs_reference'].values())
                                         <= 10 * min(max(r['max_rel_err_vs_reference'].values()) for r in d['scipy'].values()))) or "n/a"])
    return rows


def rows_gradient(cpu, gpu):
    rows = []
    d = cpu or gpu
    if d is None:
        return [["2. Gradient", "not run", PENDING, "n/a", "<= 5x one forward solve", "n/a"]]
    for pname, p in d["problems"].items():
        if "skipped" in p:
            rows.append([f"2. Gradient ({pname})", p["skipped"], PENDING, "n/a", "<= 5x one forward solve", "n/a"])
            continue
        for mode in p["gradients"]:
            def fig(dd, pname=pname, mode=mode):
                g = dd["problems"][pname]["gradients"][mode]
                return (f"{fmt_t(g['wall_s'])} = {g['ratio_to_forward_solve']:.1f}x one solve "
                        f"({fmt_s(dd['problems'][pname]['simulate']['wall_s']['median'])})")

            def ratio(dd, pname=pname, mode=mode):
                g = dd["problems"][pname]["gradients"][mode]
                fd = dd["problems"][pname]["finite_difference"]
                return (f"{g['speedup_vs_finite_difference']:.1f}x faster than central FD "
                        f"({fmt_s(fd['wall_s']['median'])}, {fd['evaluations']} evals); max |AD - FD| / max |FD| = "
                        f"{g['vs_finite_difference']['max_diff_rel_to_largest_component']:.1e}")

            meta = p["problem"]
            label = (f"2. Gradient, {pname}: {len(meta['parameters'])} params, {meta['days']:g} d, "
                     f"rtol={meta['rtol']:g}, {mode}")
            gcell = cell(gpu, fig) if gpu and pname in gpu.get("problems", {}) and "skipped" not in gpu["problems"][pname] else None
            rows.append([label, cell(cpu, fig), gcell or PENDING, cell(cpu, ratio) or "n/a", "<= 5x one forward solve",
                         cell(cpu, lambda dd, pname=pname, mode=mode: met(dd["problems"][pname]["gradients"][mode]["target_met"])) or "n/a"])
    return rows


def rows_cohort(cpu, gpu):
    rows = []
    sizes = sorted({int(n) for d in (cpu, gpu) if d and "sizes" in d for n in d["sizes"]})
    for n in sizes:
        def fig(d, n=n):
            r = d["sizes"].get(str(n))
            if r is None:
                return "not run"
            mem = f"peak RSS {r['peak_rss_mb']:.0f} MB" if r.get("device_peak_mb") is None else \
                f"peak device mem {r['device_peak_mb']:.0f} MB"
            return f"{fmt_t(r['wall_s'])}; {1e3 * r['per_subject_s']:.1f} ms/subject; {mem}"

        def ratio(d, n=n):
            c = d["comparison"].get(str(n))
            return "n/a" if c is None else (f"{c['speedup_per_subject_vs_scipy_loop']:.0f}x per subject vs SciPy LSODA loop "
                                            f"({fmt_s(d['scipy_loop']['per_subject_s']['median'])}/subject)")

        target, flag = "", "n/a"
        if n == 100_000:
            target = "GPU: < 30 s on one H100"
            flag = cell(gpu, lambda d: met(d["sizes"]["100000"].get("gpu_target_met"))) or "n/a"
        gcell = cell(gpu, fig) if gpu else PENDING
        rows.append([f"3. Virtual cohort, N = {n:,}, 30 d", cell(cpu, fig) if cpu and str(n) in cpu.get("sizes", {}) else "not run on CPU",
                     gcell, cell(cpu, ratio) or cell(gpu, ratio) or "n/a", target, flag])
    return rows


def rows_compile(cpu, gpu):
    rows = []
    targets = (cpu or gpu or {}).get("targets", {})
    for t in targets:
        def fig(d, t=t):
            r = d["targets"][t]
            if "skipped" in r:
                return r["skipped"]
            return f"{fmt_t(r['total_s'])} (trace+lower {fmt_s(r['trace_lower_s']['median'])}, XLA {fmt_s(r['xla_compile_s']['median'])})"

        rows.append([f"4. Compile time: {t}", cell(cpu, fig), cell(gpu, fig) or PENDING, "n/a", "< 60 s (CPU)",
                     cell(cpu, lambda d, t=t: met(d["targets"][t].get("target_met")) if "skipped" not in d["targets"][t] else "n/a") or "n/a"])
    return rows


def rows_nuts(cpu, gpu):
    def fig(d):
        s = d["summary"]
        r = d["runs"][0]
        ess = ", ".join(f"{k} {v['ess_bulk_per_s']:.2f}" for k, v in r["parameters"].items()
                        if v.get("ess_bulk_per_s") is not None)
        return (f"whole fit {fmt_t(s['wall_s'])} (MAP {fmt_s(s['map_s']['median'])}, NUTS {fmt_s(s['nuts_s']['median'])}, "
                f"compilation included); divergences {r['divergences']}; max R-hat "
                f"{r['max_r_hat'] if r['max_r_hat'] is None else round(r['max_r_hat'], 3)}; bulk ESS/s: {ess}")

    label = "5. First-week NUTS fit"
    d = cpu or gpu
    if d and "settings" in d:
        st = d["settings"]
        label += (f" ({st['config']}: {len(st['estimate'])} params, {st['horizon_days']:g} d, "
                  f"{st['nuts'].get('chains')} chains x {st['nuts'].get('warmup')}+{st['nuts'].get('draws')})")
    return [[label, cell(cpu, fig) or "not run", cell(gpu, fig) or PENDING, "n/a", "report", "n/a"]]


def rows_herd(cpu, gpu):
    def fig(d):
        out = "; ".join(f"{r['n_lactations']}: {fmt_s(r['wall_s']['median'])}" for r in d["sizes"].values())
        out += f" per gradient (lactations: wall time; {d['settings']['days']:g} d of records, session solver)"
        if d.get("adaptive"):
            out += "; adaptive: " + "; ".join(f"{r['n_lactations']}: {fmt_s(r['wall_s']['median'])}"
                                              for r in d["adaptive"].values())
        return out

    def ratio(d):
        return "; ".join(f"{n} lactations: {fmt_x(x)} vs adaptive" for n, x in d.get("speedup_wall", {}).items()) or "n/a"

    def target_row(d):  # the target's 253 lactations, else the largest size run
        rows = d["sizes"].values()
        r = next((r for r in rows if r["n_lactations"] == TARGET_LACTATIONS), None) or max(rows, key=lambda r: r["n_lactations"])
        return r["n_lactations"], r["wall_s"]["median"]

    return [["6. Hierarchical dairy fit (milkman): time per gradient of the herd log-density vs lactations",
             cell(cpu, fig) or "not run", cell(gpu, fig) or PENDING, cell(cpu, ratio) or "n/a",
             f"{TARGET_LACTATIONS} lactations x 305 d <= 30 s (CPU), <= 1 s (GPU)",
             cell(cpu, lambda d: met(target_row(d)[0] >= TARGET_LACTATIONS and target_row(d)[1] <= 30.0)) or "n/a"]]


TARGET_LACTATIONS = 253  # the herd target's size (the first 253 of milkman's 288 lactations)


def profile_section():
    """Tables from the profiling experiments (benchmarks/experiments/*.py), when present."""
    header = ["", "**Profiling that led to the flat state vector** (measured before `simulate` "
              "integrated one flat vector, i.e. with the ~30-leaf `State` pytree as the baseline; "
              "the tables above are after the change):"]
    lines = []
    prof = load("profile_solve_variants", "cpu")
    if prof:
        lines += ["", "**Where a solve's time goes** (CPU; `benchmarks/experiments/solve_variants.py`: copies of "
                  "`simulate` with one thing changed, 30 d, same process, min CPU time of repeats):", "",
                  "| variant | steps | CPU time | us/step | speed vs baseline |", "|---|---:|---:|---:|---:|"]
        base = prof["variants"].get("baseline", {}).get("cpu_min_s")
        for name, v in prof["variants"].items():
            rel = f"{base / v['cpu_min_s']:.2f}x" if base else "n/a"
            lines.append(f"| {name} | {v['num_steps']} | {fmt_s(v['cpu_min_s'])} | {v['us_per_step_cpu_min']:.0f} | {rel} |")
    ov = load("profile_overhead", "cpu")
    if ov:
        lines += ["", "**Per-step cost split** (`benchmarks/experiments/overhead.py`; min CPU time of 7 interleaved "
                  "repeats; RHS = one vector-field evaluation, Tsit5 makes 6 per step; solver overhead = the same "
                  "diffrax solve on a trivial 52-state RHS):", "", "| measurement | us |", "|---|---:|"]
        for k, v in ov["results"].items():
            lines.append(f"| {k} | {v['us_per_unit']:.1f} per {v['unit']} |")
    fl = load("profile_simulate_flat", "cpu")
    if fl:
        r = fl["results"]
        lines += ["", "**Flat state vector (adopted in `simulate`)** (`benchmarks/experiments/simulate_flat.py`, "
                  "min CPU time; same steps, max relative difference of all saved states "
                  f"{r['agreement']['max_rel_diff_all_saved_states']:.1e}):", "",
                  "| workload | State pytree (current) | flat vector | speed-up |", "|---|---:|---:|---:|"]
        for key, label in (("forward_30d", "one 30-d solve"), ("reverse_gradient_30d", "30-d reverse-mode gradient (6 params)"),
                           ("vmap100_30d", "vmap over 100 subjects, 30 d")):
            if key in r:
                a = min(v["cpu_min_s"] for k, v in r[key].items() if isinstance(v, dict) and k.startswith("pytree"))
                b = min(v["cpu_min_s"] for k, v in r[key].items() if isinstance(v, dict) and k.startswith("flat"))
                lines.append(f"| {label} | {fmt_s(a)} | {fmt_s(b)} | {a / b:.2f}x |")
    am = load("profile_amortise", "cpu")
    if am and "tolerance" in am:
        lines += ["", "**Tolerance vs steps vs accuracy** (`benchmarks/experiments/amortise.py`; flat-state Tsit5, "
                  "30 d; error = max over days of the relative error of daily intake / Na / lactose / protein "
                  "vs Tsit5 at 1e-10):", "", "| rtol, atol | steps | CPU time | max rel. error |", "|---|---:|---:|---:|"]
        for k, v in am["tolerance"].items():
            lines.append(f"| {v['rtol']:g}, {v['atol']:g} | {v['steps']} | {fmt_s(v['cpu_min_s'])} | "
                         f"{max(v['max_rel_err_vs_reference'].values()):.1e} |")
    if am and "vmap" in am:
        lines += ["", "**Batching amortises the per-step cost** (vmap over subjects, 30 d, CPU time per subject-step):",
                  "", "| state | N=1 | N=10 | N=100 |", "|---|---:|---:|---:|"]
        for ravel in (False, True):
            cells = [f"{am['vmap'][f'ravel={ravel},n={n}']['us_per_subject_step']:.1f} us"
                     for n in (1, 10, 100) if f"ravel={ravel},n={n}" in am["vmap"]]
            lines.append(f"| {'flat vector' if ravel else 'State pytree'} | " + " | ".join(cells) + " |")
    return header + lines if lines else []


def rows_long(cpu, gpu):
    """Whole lactations: session solver vs the adaptive path (bench_long.py)."""
    rows = []
    d = cpu or gpu
    if d is None:
        return rows
    labels = {"cow": "305-day cow, 4 quarters, 2 milkings/d", "mother": "365-day mother, 10 feeds/d"}
    targets = {"cow": 20.0, "mother": 10.0}
    for case, label in labels.items():
        if case not in d:
            continue

        def solve(dd, case=case):
            c = dd[case]
            s, a = c["sessions"], c["adaptive"]
            # paired rounds (one solve on each path per round) where measured; else each path's block
            ts, ta = (c["solve_paired"]["sessions"], c["solve_paired"]["adaptive"]) if "solve_paired" in c \
                else (s["solve"], a["solve"])
            text = (f"sessions {fmt_t(ts['wall'])} wall, {fmt_s(ts['cpu']['median'])} CPU, "
                    f"{s['num_steps']} steps; adaptive {fmt_s(ta['wall']['median'])} wall, "
                    f"{fmt_s(ta['cpu']['median'])} CPU, {a['num_steps']} steps")
            if "solve_paired" in c:
                text += f" (paired rounds; in the solve + fit-gradient rounds: sessions {fmt_s(s['solve']['wall']['median'])})"
            return text

        def speed(dd, case=case):
            c = dd[case]
            x = c["speedup_solve"]
            text = f"{fmt_x(x['wall'])} (wall), {fmt_x(x['cpu'])} (CPU time)"
            if c.get("speedup_solve_paired"):
                text += f"; median over paired rounds (ratio of the blocks' medians: {fmt_x(c['speedup_solve_blocks']['wall'])})"
            return text

        rows.append([f"7. {label}: solve, session solver (default) vs adaptive (previous default), days={d[case]['days']:.0f}",
                     cell(cpu, solve), cell(gpu, solve) or PENDING, cell(cpu, speed) or "n/a",
                     f">= {targets[case]:.0f}x faster (wall)",
                     cell(cpu, lambda dd, case=case: met(dd[case]["speedup_solve"]["wall"] >= targets[case])) or "n/a"])

        for key, what, target in (("fit_gradient", "fit gradient (reverse mode, 8-parameter vector)", True),
                                  ("gradient", "gradient (reverse mode, every Params leaf; informational)", False)):
            def grad(dd, case=case, key=key):
                c = dd[case]
                s, a = c["sessions"], c["adaptive"]
                if key not in s:
                    return "not measured"
                return (f"sessions {fmt_s(s[key]['wall']['median'])} wall ({s[key + '_over_solve']['wall']:.1f}x its solve); "
                        f"adaptive {fmt_s(a[key]['wall']['median'])} wall ({a[key + '_over_solve']['wall']:.1f}x)")

            rows.append([f"7. {label}: {what}", cell(cpu, grad), cell(gpu, grad) or PENDING,
                         cell(cpu, lambda dd, case=case, key=key: f"{fmt_x(dd[case]['speedup_' + key]['wall'])} (wall)"
                              if "speedup_" + key in dd[case] else "n/a") or "n/a",
                         "gradient <= 5x its solve (wall)" if target else "n/a",
                         (cell(cpu, lambda dd, case=case, key=key: met(dd[case]["sessions"][key + "_over_solve"]["wall"] <= 5.0)
                               if key in dd[case]["sessions"] else "n/a") or "n/a") if target else "n/a"])

        def acc(dd, case=case):
            s = dd[case]["sessions"]["accuracy_vs_reference"]
            a = dd[case]["adaptive"]["accuracy_vs_reference"]
            return (f"sessions: daily max {s['daily_max']:.1e}, per session {s['per_session_removed_ml']:.1e}; "
                    f"adaptive rtol 1e-6: daily {a['daily_max']:.1e}, per session {a['per_session_removed_ml']:.1e}")

        rows.append([f"7. {label}: accuracy vs adaptive rtol=atol=1e-9", cell(cpu, acc), cell(gpu, acc) or PENDING,
                     "max relative error over the days / sessions", "daily <= 1 %, per session <= 2 %",
                     cell(cpu, lambda dd, case=case: met(dd[case]["sessions"]["accuracy_vs_reference"]["daily_max"] <= 0.01
                                                          and dd[case]["sessions"]["accuracy_vs_reference"]["per_session_removed_ml"] <= 0.02)) or "n/a"])
    for dd, backend in ((cpu, "CPU"), (gpu, "GPU")):
        if dd and "cohort" in dd:
            for n, t in dd["cohort"]["sizes"].items():
                rows.append([f"7. Session-solver cohort, N = {int(n):,} mothers x {dd['cohort']['days']:.0f} d ({backend})",
                             f"{fmt_s(t['per_subject_wall_s'])} wall / subject" if backend == "CPU" else "",
                             f"{fmt_s(t['per_subject_wall_s'])} wall / subject" if backend == "GPU" else "",
                             f"{fmt_s(t['per_subject_cpu_s'])} CPU / subject", "uniform work per lane", "n/a"])
    return rows


def render() -> str:
    header = ["benchmark", "CPU", "GPU", "ratio vs peer", "target", "met?"]
    rows = []
    rows += rows_solve(load("solve", "cpu"), load("solve", "gpu"))
    rows += rows_gradient(load("gradient", "cpu"), load("gradient", "gpu"))
    rows += rows_cohort(load("cohort", "cpu"), load("cohort", "gpu"))
    rows += rows_compile(load("compile", "cpu"), load("compile", "gpu"))
    rows += rows_nuts(load("nuts", "cpu"), load("nuts", "gpu"))
    rows += rows_herd(load("herd", "cpu"), load("herd", "gpu"))
    rows += rows_long(load("long", "cpu"), load("long", "gpu"))
    machines = []
    for backend in ("cpu", "gpu"):
        for name in ("solve", "cohort", "gradient", "compile", "nuts", "herd", "long"):
            d = load(name, backend)
            if d and "machine" in d:
                m = d["machine"]
                v = d.get("versions", {})
                machines.append(f"{backend.upper()}: {m.get('cpu_model')} ({m.get('cpu_count')} cores), devices "
                                f"{', '.join(m.get('devices', []))}; jax {v.get('jax')}, diffrax {v.get('diffrax')}, "
                                f"scipy {v.get('scipy')}; load average at start {m.get('loadavg_1_5_15')}; "
                                f"git {m.get('git_revision')}; {m.get('date_utc')}")
                break
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    out = ["<!-- generated by benchmarks/report.py from benchmarks/results/*.json; do not edit by hand -->", "",
           "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    out += ["", "Times are medians of repeated runs (IQR, n) of wall-clock time after compilation unless stated. "
            "Machines:"] + [f"- {m}" for m in machines]
    if not any(load(n, "gpu") for n in ("solve", "cohort", "gradient", "compile", "nuts", "herd")):
        out += ["- GPU: pending (no GPU lent to this run); `make bench` on a CUDA machine fills the GPU column."]
    out += profile_section()
    return "\n".join(out) + "\n"


def _pct(x):
    return "n/a" if x is None else f"{x:+.1f} %" if x < 0 or x > 0 else "0.0 %"


def _dairy_cells(s, task):
    """Metric cells of one summarise() dict of bench_dairy for `task`."""
    if s is None:
        return ["n/a"] * (1 if task == "insample" else 3)
    if task == "insample":
        return [f"{s['median_rmse_insample_kg_d']:.2f}"]
    return [f"{s['median_rmse_forecast_kg_d']:.2f}",
            "n/a" if s.get("median_abs_total_err_pct") is None else f"{s['median_abs_total_err_pct']:.1f} %",
            _pct(s.get("median_total_err_pct"))]


def _lactojax_label(directory: str) -> str:
    """How the scored lactojax fit was made, read from its diagnostics.json (committed
    beside its predictions.csv): the method, and the statistic of predictions.csv scored."""
    path = Path(directory) if Path(directory).is_absolute() else HERE.parent / directory
    try:
        diag = json.loads((path / "diagnostics.json").read_text())
    except (OSError, ValueError):
        return "herd fit, median of predictions.csv"
    method = diag.get("method", "?")
    point = " (point estimate: no Laplace covariance)" if method == "map" and not diag.get("map", {}).get(
        "hessian_positive_definite") else ""
    return f"hierarchical herd fit, {method}{point}; median of predictions.csv"


def render_dairy() -> str:
    """The README table of benchmarks/bench_dairy.py (dairy_cpu.json)."""
    d = load("dairy", "cpu")
    out = ["<!-- generated by benchmarks/report.py from benchmarks/results/dairy_cpu.json; do not edit by hand -->", ""]
    if d is None:
        return "\n".join(out + ["Not run yet: `.venv/bin/python benchmarks/bench_dairy.py`."]) + "\n"
    st, res = d["settings"], d["results"]
    labels = st["methods"]
    n_total = next(iter(next(iter(res["forecast"].values())).values()))["n_lactations_total"]
    out += [f"{st['dataset']}: {st['n_lactations']} lactations, daily yields of DIM 1-{st['days']} ({st['records']}). "
            f"Medians over lactations; RMSE of daily yield in kg/d; forecast = fitted to DIM 1-{st['forecast_from_dim']} "
            f"only; 305-d total error over the {n_total} lactations recorded to DIM >= {st['total_min_last_dim']} "
            "(observed DIM 1-60 + predicted 61-305 vs observed, missing days interpolated).", "",
            "| curve | fit | in-sample RMSE | forecast RMSE, DIM 61-305 | 305-d total: median abs. error | median signed error |",
            "|---|---|---:|---:|---:|---:|"]
    for curve in res["forecast"]:
        pairs = (("least_squares", "least_squares"), ("pooled", "pooled_same_records"), (None, "pooled_cross_fitted"))
        for ins, fc in pairs:
            cells = _dairy_cells(res["insample"][curve].get(ins), "insample") if ins else ["-"]
            out.append(f"| {curve} | {labels[fc]} | " + " | ".join(cells + _dairy_cells(res["forecast"][curve].get(fc), "forecast")) + " |")
    for task, title in (("insample", "in-sample"), ("forecast", "forecast from 60 DIM")):
        lj = res.get("lactojax", {}).get(task, {})
        if not lj.get("run"):
            out += ["", f"lactojax {title}: {lj.get('reason', 'not run')}."]
            continue
        out += ["", f"**lactojax {title}, side by side on the {lj['n_lactations']} lactations its fit covers** "
                f"(`{lj['directory']}`):", ""]
        if task == "insample":
            out += ["| model | fit | in-sample RMSE |", "|---|---|---:|"]
        else:
            out += ["| model | fit | forecast RMSE, DIM 61-305 | 305-d total: median abs. error | median signed error |",
                    "|---|---|---:|---:|---:|"]
        out.append("| lactojax | " + _lactojax_label(lj["directory"]) + " | "
                   + " | ".join(_dairy_cells(lj["lactojax"], task)) + " |")
        for curve, methods in lj["baselines"].items():
            for m, s in methods.items():
                out.append(f"| {curve} | {labels[m]} | " + " | ".join(_dairy_cells(s, task)) + " |")
    m = d.get("machine", {})
    out += ["", f"Wall time {d['wall_s']:.0f} s for the whole benchmark (all fits, {st['cross_fit_folds']}-fold "
            f"cross-fitting, {st['pooled_n_iter']} EM iterations) on {m.get('cpu_model')} ({m.get('cpu_count')} cores, "
            f"load average when written {m.get('loadavg_1_5_15')}); git {m.get('git_revision')}; {m.get('date_utc')}."]
    return "\n".join(out) + "\n"


BEGIN, END = "<!-- BEGIN benchmarks (benchmarks/report.py) -->", "<!-- END benchmarks -->"
DAIRY_BEGIN, DAIRY_END = "<!-- BEGIN dairy (benchmarks/report.py) -->", "<!-- END dairy -->"


def update_readme(path: Path, text: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the README's generated block (between `begin` and `end`) with `text`."""
    readme = path.read_text()
    if begin not in readme or end not in readme:
        raise SystemExit(f"{path}: markers {begin!r} ... {end!r} not found")
    head, rest = readme.split(begin, 1)
    _, tail = rest.split(end, 1)
    write_text(path, head + begin + "\n" + text + end + tail)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(common.RESULTS / "README_table.md"))
    ap.add_argument("--readme", default=str(HERE.parent / "README.md"),
                    help="README whose generated benchmarks block is replaced ('' to skip)")
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args(argv)
    text = render()
    write_text(args.out, text)
    if args.readme:
        update_readme(Path(args.readme), text)
        if DAIRY_BEGIN in Path(args.readme).read_text():
            update_readme(Path(args.readme), render_dairy(), DAIRY_BEGIN, DAIRY_END)
    if args.print:
        print(text)
    print(f"wrote {args.out}" + (f" and the benchmarks block of {args.readme}" if args.readme else ""))


if __name__ == "__main__":
    main()
