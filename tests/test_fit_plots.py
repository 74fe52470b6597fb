"""The diagnostic plots `write_fit` draws beside ppc.png (trace, rank, pair, subjects;
`lactojax.inference.plots`): the choice of the most correlated parameters, the files of a
fit, and degenerate posteriors (identical draws, one draw, NaN predictions, one parameter,
a failing plot) that must be recorded in diagnostics.json, never raised."""

import json
import types

import numpy as np
import pandas as pd
import pytest

from lactojax.inference import plots
from lactojax.inference.outputs import build_idata, write_fit

from fit_fixtures import tiny_nuts_fit  # noqa: F401  (session fixture)

NEW_PLOTS = ("trace.png", "rank.png", "pair.png", "subjects.png", "loo_pit.png")


# --- most_correlated ---------------------------------------------------------------------

def _correlated_draws(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    return {
        "x": rng.standard_normal(n),
        "a": np.exp(a),  # lognormal: correlated with b on the log scale
        "b": np.exp(0.95 * a + 0.3 * rng.standard_normal(n)),
        "c": a + 0.8 * rng.standard_normal(n),  # next most correlated with a and b
        "y": rng.standard_normal(n),
    }


def test_most_correlated_starts_from_the_known_pair():
    draws = _correlated_draws()
    assert plots.most_correlated(draws, k=2) == ["a", "b"]
    assert plots.most_correlated(draws, k=3) == ["a", "b", "c"]
    four = plots.most_correlated(draws, k=4)
    assert four[:3] == ["a", "b", "c"] and len(four) == 4 and four[3] in ("x", "y")
    assert len(plots.most_correlated(draws, k=10)) == 5
    # (chains, draws) arrays are pooled
    assert plots.most_correlated({k: v.reshape(4, -1) for k, v in draws.items()}, k=2) == ["a", "b"]


def test_most_correlated_degenerate_inputs():
    assert plots.most_correlated({}) == []
    assert plots.most_correlated({"only": np.ones(5)}) == ["only"]
    # identical draws: no correlation anywhere, the order of the input
    assert plots.most_correlated({"p": np.ones(10), "q": np.ones(10), "r": np.ones(10)}, k=2) == ["p", "q"]
    assert plots.most_correlated({"p": np.ones(1), "q": np.ones(1)}) == ["p", "q"]
    # a NaN draw is left out rather than poisoning the correlations
    d = _correlated_draws(n=500)
    d["x"][3] = np.nan
    assert plots.most_correlated(d, k=2) == ["a", "b"]


# --- write_fit of synthetic fits -----------------------------------------------------------

def _rows(subjects=None, per_subject=6):
    """Data rows as `FitData.rows` has them: two observables over a few days; with
    subjects, per_subject rows each (the first subjects have more rows)."""
    units = subjects or ["dsA", "dsB"]
    frames = []
    for i, u in enumerate(units):
        n = per_subject + (len(units) - i if subjects else 0)
        t = np.arange(n) * 12.0
        frames.append(pd.DataFrame({
            "dataset": "herd" if subjects else u, "observable": np.where(np.arange(n) % 2, "milk_fat", "milk_yield"),
            "t_start_h": t, "t_end_h": t + 12.0, "value": 10 + np.arange(n, dtype=float), "scale": 1.0,
            "kind_name": "group_mean", "spread_method": "SEM", **({"subject": u} if subjects else {})}))
    return pd.concat(frames, ignore_index=True)


def _result(variables, rows, chains, draws, subjects=(), centres=("all",), offsets=(), stats=None,
            pred=None, seed=0):
    """A FitResult-like value from draws (no model run): what `write_fit` reads."""
    rng = np.random.default_rng(seed)
    n = len(rows)
    pred = rows["value"].to_numpy() + rng.standard_normal((chains, draws, n)) if pred is None else pred
    data = types.SimpleNamespace(rows=rows, excluded=pd.DataFrame({"dataset": [], "reason": []}), label="synthetic",
                                 subjects=tuple(subjects), centres=tuple(centres), offsets=tuple(offsets), design={},
                                 species="human")
    y_new = pred + np.random.default_rng(2).standard_normal(pred.shape) * rows["scale"].to_numpy()
    idata = build_idata(data, variables, np.zeros_like(pred), pred, stats, y_new=y_new)
    return types.SimpleNamespace(data=data, idata=idata, method="nuts", summary=pd.DataFrame({"parameter": []}),
                                 diagnostics={"timings": {"total_s": 1.0}}, config_toml="", forecast=None)


def _group(chains=2, draws=40, k=3, constant=False):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((chains, draws))
    v = {f"p{i}": np.exp(base + (0.0 if i < 2 else 1.0) * rng.standard_normal((chains, draws)))
         for i in range(k)}
    if constant:
        v = {n: np.full((chains, draws), 2.0 + i) for i, n in enumerate(v)}
    return v


def _plots_record(out):
    return json.loads((out / "diagnostics.json").read_text())["plots"]


def _assert_all_written(out, record):
    for name in ("ppc.png",) + NEW_PLOTS:
        assert (out / name).stat().st_size > 0, name
        assert name in record["written"], name
    assert record["failed"] == {}
    for name in ("posterior.nc", "summary.csv", "data_rows.csv", "provenance.json"):
        assert (out / name).exists(), name


def test_write_fit_draws_every_plot_of_a_nuts_fit(tmp_path):
    chains, draws = 2, 40
    stats = {"diverging": np.zeros((chains, draws), bool)}
    stats["diverging"][0, :3] = True
    res = _result(_group(chains, draws), _rows(), chains, draws, stats=stats)
    write_fit(res, tmp_path)
    rec = _plots_record(tmp_path)
    _assert_all_written(tmp_path, rec)
    assert set(rec["seconds"]) == {"ppc.png", *NEW_PLOTS}
    assert "rank.png" not in rec["notes"]  # two chains
    diag = json.loads((tmp_path / "diagnostics.json").read_text())
    assert diag["timings"]["plots_s"] > 0 and "plots" not in res.diagnostics  # the result is unchanged


@pytest.mark.parametrize("case", ["map_without_hessian", "one_draw", "nan_predictions", "one_parameter"])
def test_degenerate_posteriors_still_write_every_file(tmp_path, case):
    rows = _rows()
    chains, draws, k = 1, 20, 3
    pred = None
    if case == "one_draw":
        draws = 1
    if case == "one_parameter":
        k = 1
    if case == "nan_predictions":
        pred = rows["value"].to_numpy() + np.zeros((chains, draws, len(rows)))
        pred[..., :3] = np.nan  # a whole row of failed predictions, and one draw of another
        pred[0, 5, 4] = np.nan
    variables = _group(chains, draws, k, constant=case in ("map_without_hessian", "one_draw"))
    with _no_fail():
        write_fit(_result(variables, rows, chains, draws, pred=pred), tmp_path)
    rec = _plots_record(tmp_path)
    _assert_all_written(tmp_path, rec)
    assert rec["notes"]["rank.png"].startswith("one chain")
    if case == "one_parameter":
        assert "marginal" in rec["notes"]["pair.png"]
    if case == "map_without_hessian":
        assert "without spread" in rec["notes"]["trace.png"]


class _no_fail:
    """Context: no 'not written' warning from write_fit."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings(record=True)
        self._log = self._cm.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        failed = [str(w.message) for w in self._log if "not written" in str(w.message)]
        assert not failed, failed


def test_hierarchical_fit_plots_population_variables_and_most_rowed_subjects(tmp_path):
    subjects = [f"cow{i:02d}" for i in range(20)]
    chains, draws, k = 2, 30, 2
    rng = np.random.default_rng(3)
    variables = {}  # in the order of density.posterior_variables: every mu_, every tau_, ...
    for prefix, shape in (("mu_", (2,)), ("tau_", ()), ("delta_", (1,)), ("", (len(subjects),))):
        for n in ("a", "b"):  # two centres, one offset level
            x = rng.standard_normal((chains, draws) + shape)
            variables[prefix + n] = x if prefix == "delta_" else np.exp(x)
    res = _result(variables, _rows(subjects), chains, draws, subjects=subjects,
                  centres=("breed=H", "breed=J"), offsets=("parity=2",))
    draws_shown = plots.population_draws(res.idata)  # grouped by parameter, no subject-level draws
    assert list(draws_shown) == ["mu_a[breed=H]", "mu_a[breed=J]", "tau_a", "delta_a[parity=2]",
                                 "mu_b[breed=H]", "mu_b[breed=J]", "tau_b", "delta_b[parity=2]"]
    write_fit(res, tmp_path)
    rec = _plots_record(tmp_path)
    _assert_all_written(tmp_path, rec)
    # 20 subjects x 2 observables: 12 panels, the subjects with most rows (cow00...) first
    assert rec["notes"]["subjects.png"].startswith("12 of 40 panels (6 of 20 subjects")


def test_a_failing_plot_is_recorded_and_the_other_files_written(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no pair today")

    monkeypatch.setattr(plots, "plot_pair", broken)
    res = _result(_group(), _rows(), 2, 40)
    with pytest.warns(RuntimeWarning, match="pair.png not written"):
        write_fit(res, tmp_path)
    rec = _plots_record(tmp_path)
    assert rec["failed"] == {"pair.png": "RuntimeError: no pair today"}
    assert "pair.png" not in rec["written"] and not (tmp_path / "pair.png").exists()
    for name in ("ppc.png", "trace.png", "rank.png", "subjects.png", "posterior.nc", "summary.csv"):
        assert (tmp_path / name).exists(), name
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # no figure left open


# --- a real fit --------------------------------------------------------------------------

@pytest.mark.xdist_group("inference_cli")
def test_tiny_fit_writes_the_diagnostic_plots(tiny_nuts_fit):  # noqa: F811
    rec = _plots_record(tiny_nuts_fit)
    _assert_all_written(tiny_nuts_fit, rec)
    assert "rank.png" not in rec["notes"]  # two chains


@pytest.mark.slow
def test_map_fit_without_hessian_writes_every_plot(tmp_path):
    """fits/tiny_smoke.toml by MAP with [map] hessian = false: every Laplace draw is the
    optimum (a posterior without spread); the plots are drawn, not raised on."""
    from pathlib import Path

    from lactojax.inference import fit_from_config
    from lactojax.inference.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[1] / "fits" / "tiny_smoke.toml").with_overrides(method="map")
    cfg = cfg.replace(map=cfg.map.replace(hessian=False))
    res = fit_from_config(cfg)
    with _no_fail():
        write_fit(res, tmp_path)
    rec = _plots_record(tmp_path)
    _assert_all_written(tmp_path, rec)
    assert "without spread" in rec["notes"]["trace.png"]


def test_predictive_check_counts_rows_inside_their_new_observation_interval():
    """data_rows.csv's pred_p05/pred_p95 are 5-95 % of the new-observation draws; the check
    counts the values inside them, overall and per observable."""
    from lactojax.inference.outputs import predictive_check, rows_with_predictions

    rows = pd.DataFrame({"dataset": "d", "observable": ["a", "a", "b"], "t_start_h": 0.0, "t_end_h": 1.0,
                         "value": [0.0, 5.0, 0.5], "scale": 1.0, "kind_name": "", "spread_method": ""})
    pred = np.zeros((2, 50, 3))  # the model's mean: 0 everywhere, no parameter uncertainty
    y_new = np.random.default_rng(0).standard_normal((2, 50, 3))  # a new observation: N(0, 1)
    table = rows_with_predictions(types.SimpleNamespace(rows=rows), pred, y_new)
    np.testing.assert_allclose(table["pred_p95"], np.percentile(y_new.reshape(-1, 3), 95, axis=0))
    assert list(table["mean_p05"]) == [0.0, 0.0, 0.0] and list(table["inside_90"]) == [True, False, True]
    check = predictive_check(table)
    assert (check["rows"], check["inside_90"]) == (3, 2)
    assert check["by_observable"] == {"a": {"rows": 2, "inside_90": 1}, "b": {"rows": 1, "inside_90": 1}}
