"""Smoke test of the benchmarks (benchmarks/*.py) at tiny sizes.

Benchmarks are not tests: nothing here asserts a timing. It checks that each benchmark runs
end to end and that its JSON has the expected keys with finite numbers, and that the
report renders from those files. Results go to a temporary directory, never to
benchmarks/results/. All benchmarks run in one worker (shared JIT caches).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

pytestmark = pytest.mark.xdist_group("benchmarks_smoke")


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _assert_timing(summary: dict):
    assert {"n", "median", "iqr", "min", "max", "samples"} <= set(summary)
    assert summary["n"] >= 1 and all(_finite(v) and v >= 0 for v in summary["samples"])
    assert _finite(summary["median"]) and _finite(summary["iqr"])


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    import common

    d = tmp_path_factory.mktemp("bench_results")
    old = common.RESULTS
    common.RESULTS = d
    yield d
    common.RESULTS = old


def _write_and_reload(name, payload, results_dir):
    import common

    path = common.write_json(name, payload)
    assert path.parent == results_dir
    data = json.loads(path.read_text())  # strict JSON: NaN/inf would have been written as null
    for key in ("benchmark", "schema_version", "machine", "versions", "command"):
        assert key in data
    assert data["machine"]["backend"] in ("cpu", "gpu", "tpu")
    assert data["versions"]["jax"] and data["versions"]["diffrax"]
    return data


@pytest.fixture(scope="module")
def solve_result(results_dir):
    import bench_solve

    return _write_and_reload("solve", bench_solve.run(quick=True, methods=("LSODA",)), results_dir)


def test_solve_benchmark_keys(solve_result):
    r = solve_result
    _assert_timing(r["diffrax"]["wall_s"])
    _assert_timing(r["scipy"]["LSODA"]["wall_s"])
    assert r["diffrax"]["num_steps"] > 0
    assert r["scipy"]["LSODA"]["ok"] is True and r["scipy"]["LSODA"]["nfev"] > 0
    for block in (r["diffrax"], r["scipy"]["LSODA"]):
        errs = block["max_rel_err_vs_reference"]
        assert set(errs) == {"daily_intake", "daily_sodium", "daily_lactose", "daily_protein"}
        assert all(_finite(v) for v in errs.values())
    c = r["comparison"]
    assert c["best_scipy_method"] == "LSODA" and _finite(c["speedup_vs_best_scipy_wall"])
    assert isinstance(c["target_met"], bool)


@pytest.mark.slow
def test_gradient_benchmark_keys(results_dir):
    """Slow (~60 s: compiles a gradient through the solver); `make test-slow` runs it."""
    import bench_gradient

    r = _write_and_reload("gradient", bench_gradient.run(quick=True, problems=("synthetic_30d",)), results_dir)
    p = r["problems"]["synthetic_30d"]
    _assert_timing(p["simulate"]["wall_s"])
    _assert_timing(p["loglik"]["wall_s"])
    assert len(p["finite_difference"]["gradient"]) == len(p["problem"]["parameters"]) == 6
    (mode, g), = p["gradients"].items()
    _assert_timing(g["wall_s"])
    assert len(g["gradient"]) == 6 and all(_finite(v) for v in g["gradient"])
    for k in ("ratio_to_forward_solve", "ratio_to_loglik", "speedup_vs_finite_difference"):
        assert _finite(g[k]) and g[k] > 0
    assert _finite(g["vs_finite_difference"]["max_abs_diff"])


def test_cohort_benchmark_keys(results_dir):
    import bench_cohort

    r = _write_and_reload("cohort", bench_cohort.run(quick=True), results_dir)
    assert set(r["sizes"]) == {"1", "2"}
    for row in r["sizes"].values():
        _assert_timing(row["wall_s"])
        assert _finite(row["per_subject_s"]) and _finite(row["peak_rss_mb"]) and row["failures"] == 0
        assert _finite(row["last_day_intake_ml"]["median"])
    _assert_timing(r["scipy_loop"]["per_subject_s"])
    assert all(_finite(c["speedup_per_subject_vs_scipy_loop"]) for c in r["comparison"].values())


def test_compile_benchmark_keys(results_dir):
    import bench_compile

    r = _write_and_reload("compile", bench_compile.run(quick=True, targets=("simulate",)), results_dir)
    row = r["targets"]["simulate"]
    for k in ("trace_lower_s", "xla_compile_s", "total_s"):
        _assert_timing(row[k])
    assert isinstance(row["target_met"], bool)


def test_inference_benchmarks_skip_cleanly_without_inference(monkeypatch, results_dir):
    """Without lactojax.inference the NUTS and herd benchmarks write 'skipped: ...'."""
    import builtins

    import bench_herd
    import bench_nuts

    real_import = builtins.__import__

    def no_inference(name, *args, **kwargs):
        if name.startswith("lactojax.inference"):
            raise ImportError(f"No module named {name!r} (simulated)")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_inference)
    for mod in (bench_nuts, bench_herd):
        r = mod.run(quick=True)
        assert r["skipped"].startswith("skipped: inference package not available")
    monkeypatch.undo()
    data = _write_and_reload("herd", r, results_dir)
    assert data["skipped"].startswith("skipped: ")


@pytest.mark.slow
def test_herd_benchmark_keys(results_dir):
    """Quick herd benchmark on two synthetic cows (compiles a hierarchical gradient: ~1-2 min)."""
    pytest.importorskip("lactojax.inference.problem")
    import bench_herd

    r = _write_and_reload("herd", bench_herd.run(quick=True), results_dir)
    (row,) = r["sizes"].values()
    _assert_timing(row["wall_s"])
    assert row["finite"] is True and _finite(row["potential"])
    # the previous (adaptive) path side by side, same problem: same potential to the solvers' accuracy
    (previous,) = r["adaptive"].values()
    _assert_timing(previous["wall_s"])
    assert abs(previous["potential"] - row["potential"]) <= 1e-2 * abs(row["potential"])
    assert all(_finite(x) for x in r["speedup_wall"].values())


@pytest.mark.slow
def test_nuts_benchmark_keys(results_dir):
    """Quick NUTS benchmark (fits/tiny_smoke.toml through fit and write_fit: minutes of compilation)."""
    pytest.importorskip("lactojax.inference.runner")
    import bench_nuts

    r = _write_and_reload("nuts", bench_nuts.run(quick=True), results_dir)
    run = r["runs"][0]
    assert run["divergences"] is not None and _finite(run["wall_s"])
    assert all(_finite(p["ess_bulk"]) and _finite(p["ess_bulk_per_s"]) for p in run["parameters"].values())


@pytest.mark.slow
def test_long_benchmark_keys(results_dir):
    """Quick whole-lactation benchmark (2-day horizons, session solver vs adaptive, ~1 min) and
    its rows in the report."""
    import bench_long
    import report

    r = _write_and_reload("long", bench_long.run(quick=True, cohort=(2,)), results_dir)
    for case in ("cow", "mother"):
        for path in ("sessions", "adaptive"):
            entry = r[case][path]
            _assert_timing(entry["solve"]["wall"])
            _assert_timing(entry["solve"]["cpu"])
            assert entry["success"] is True and entry["num_steps"] > 0
            assert _finite(entry["accuracy_vs_reference"]["daily_max"])
        assert _finite(r[case]["speedup_solve"]["cpu"])
        # the solve ratio comes from paired rounds (one solve of each path per round)
        assert r[case]["speedup_solve_paired"] is True and _finite(r[case]["speedup_solve_blocks"]["wall"])
        for path in ("sessions", "adaptive"):
            _assert_timing(r[case]["solve_paired"][path]["wall"])
    assert r["cohort"]["sizes"]["2"]["all_finite"] is True
    text = report.render()
    assert "7. 305-day cow" in text and "7. 365-day mother" in text


def test_report_renders_from_json(solve_result, results_dir):
    import report

    text = report.render()
    assert "| benchmark | CPU | GPU | ratio vs peer | target | met? |" in text
    assert "1. One solve" in text and "pending (no GPU lent)" in text
    # the CPU figure comes from the JSON written above, not from hand-typed text
    med = solve_result["diffrax"]["wall_s"]["median"]
    assert report.fmt_s(med) in text


def test_report_replaces_only_the_readme_block(tmp_path):
    import report

    readme = tmp_path / "README.md"
    readme.write_text(f"# title\nbefore\n{report.BEGIN}\nold table\n{report.END}\nafter\n")
    report.update_readme(readme, "| new | table |\n")
    assert readme.read_text() == f"# title\nbefore\n{report.BEGIN}\n| new | table |\n{report.END}\nafter\n"
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        report.update_readme(readme, "x")
    assert readme.read_text() == "no markers\n"  # nothing written on error
