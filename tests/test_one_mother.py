"""One mother from her own files (examples/one_mother, synthetic and model-generated): paths
to user data and a feed log in fit configurations, per-breast and per-feed rows mapped to
the model's outputs, the feed log simulated exactly, and the example fitted end to end (MAP
here; NUTS in the slow suite) recovering its true parameters within the reported intervals."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lactojax.cli import main
from lactojax.inference.config import ConfigError, load_config

pytestmark = pytest.mark.xdist_group("one_mother")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "one_mother"
CONFIG = EXAMPLE / "one_mother.toml"


def _write(tmp_path, text, name="fit.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


BASE = """
[fit]
species = "human"
datasets = ["{obs}"]
horizon_days = 10
[design]
{design}
[parameters]
estimate = ["lactose_vmax_mmol_h"]
"""


def test_paths_resolve_against_the_config_file(tmp_path):
    for name in ("observations.csv", "feeds.csv"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    cfg = load_config(_write(tmp_path, BASE.format(obs="observations.csv", design='feed_log = "feeds.csv"')))
    assert cfg.fit.datasets == (str(tmp_path / "observations.csv"),)
    assert cfg.design.feed_log == str(tmp_path / "feeds.csv")
    assert "feeds_per_day" not in cfg.design.to_dict()  # unused with a feed log
    # the resolved configuration reads back to the same one
    again = load_config(_write(tmp_path, cfg.to_toml(), "resolved.toml"))
    assert again == cfg


@pytest.mark.parametrize("obs, design, key", [
    ("missing.csv", "", "fit.datasets"),
    ("observations.csv", 'feed_log = "nofeeds.csv"', "design.feed_log"),
    ("observations.csv", 'feed_log = "feeds.csv"\nfeeds_per_day = 8', "design"),
    ("observations.csv", 'delivery_time = "2026-03-01T04:30"', "design.delivery_time"),
])
def test_config_errors_name_the_key(tmp_path, obs, design, key):
    for name in ("observations.csv", "feeds.csv"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, BASE.format(obs=obs, design=design)))
    assert err.value.key == key, str(err.value)
    assert "fit.toml" in str(err.value)


@pytest.fixture(scope="module")
def example_problem():
    from lactojax.inference.adapter import problem_from_config

    return problem_from_config(load_config(CONFIG))


def test_feed_log_is_the_simulated_schedule(example_problem):
    log = pd.read_csv(EXAMPLE / "feeds.csv")
    feeds = example_problem.problem.inputs.feeds
    assert np.array_equal(np.asarray(feeds.start_h), log["start_h"].to_numpy())
    assert np.array_equal(np.asarray(feeds.end_h), log["start_h"].to_numpy() + log["duration_min"].to_numpy() / 60.0)
    left = np.asarray(feeds.gland_mask)[:, 0] == 1
    assert np.array_equal(left, (log["side"] == "left").to_numpy())


def test_every_example_row_is_mapped_and_files_recorded(example_problem):
    data = example_problem
    assert len(data.excluded) == 0, data.excluded[["observable", "reason"]]
    files = {f["role"]: f for f in data.design["data_files"]}
    from lactojax.datasets.provenance import sha256_file

    assert files["observations"]["sha256"] == sha256_file(EXAMPLE / "observations.csv")
    assert files["feed log"]["sha256"] == sha256_file(EXAMPLE / "feeds.csv")
    assert files["observations"]["provenance"] == "none (user data)"


def test_per_breast_and_per_feed_predictions_match_the_simulation(example_problem):
    """Each row's prediction is the model output it names, computed directly."""
    from lactojax import observation as obs
    from lactojax.inference.density import predict
    from lactojax.simulate import simulate

    data = example_problem
    p = data.problem
    theta = np.asarray(p.prior.z_to_theta(np.zeros(p.k)))
    pred = np.asarray(predict(p, np.zeros(p.k))[0])
    params = p.base.with_vector(p.names, theta)
    traj = simulate(params, p.inputs, p.settings)
    sessions = obs.per_session(traj, params, p.inputs)
    daily = obs.daily(traj, params, p.inputs)
    starts = np.asarray(p.inputs.feeds.start_h)
    gland = {"left": 0, "right": 1}
    checked = set()
    for i, row in data.rows.iterrows():
        side = {0: "left", 1: "right"}.get(int(row["gland"]), "")
        if row["observable"] == "milk_removed_per_feed":
            j = int(np.flatnonzero(np.isclose(starts, row["t_start_h"]))[0])
            expect = float(sessions["removed_gland_ml"][j, gland[side]])
        elif row["observable"] == "milk_production_24h_per_gland":
            expect = float(daily["production_gland_ml"][int(row["t_start_h"] // 24), gland[side]])
        elif row["observable"] == "milk_sodium" and side:
            expect = float(daily["gland_sodium_mmol_l"][int(row["t_start_h"] // 24), gland[side]])
        else:
            continue
        checked.add((row["observable"], side))
        assert pred[i] == pytest.approx(expect, rel=1e-9), (row["observable"], side, row["t_start_h"])
    assert {("milk_removed_per_feed", "left"), ("milk_removed_per_feed", "right"),
            ("milk_production_24h_per_gland", "left"), ("milk_sodium", "right")} <= checked


def test_whole_feed_and_unmapped_gland_rows():
    """A row over a whole feed (both breasts, gland empty) sums the feed's sessions; a
    per-gland row of an observable without a per-gland output is excluded with the reason."""
    from lactojax.inference.problem import map_row
    from lactojax.inputs import feed_schedule, make_inputs
    from lactojax import observables as ob

    feeds = feed_schedule([1.0, 1.3, 4.0], [0.25, 0.25, 0.25], [[1, 0], [0, 1], [1, 0]])
    inputs = make_inputs(feeds, 2.0)
    Row = lambda **k: pd.Series({"gland": -1, **k})  # noqa: E731
    idx, w = map_row(Row(observable="milk_removed_per_feed", t_start_h=1.0, t_end_h=1.55), inputs, ob.READERS)
    assert len(idx) == 2 and np.all(w == 1.0)
    idx_l, _ = map_row(Row(observable="milk_removed_per_feed", t_start_h=1.0, t_end_h=1.55, gland=0), inputs,
                       ob.READERS)
    idx_r, _ = map_row(Row(observable="milk_removed_per_feed", t_start_h=1.0, t_end_h=1.55, gland=1), inputs,
                       ob.READERS)
    assert idx_r[0] - idx_l[0] == 1 and len(idx_l) == 2  # (session, gland) layout
    reason = map_row(Row(observable="milk_fat", t_start_h=0.0, t_end_h=24.0, gland=0), inputs, ob.READERS)
    assert reason == "milk_fat: no per-gland output (the row names a gland)"
    reason = map_row(Row(observable="milk_removed_per_feed", t_start_h=2.0, t_end_h=3.0), inputs, ob.READERS)
    assert "no feed session starting in the window" in reason


def _joint_p_value(posterior_nc, truth: pd.DataFrame) -> float:
    """P(chi2_k > d2), d2 the Mahalanobis distance of the true values from the posterior
    draws (log scale, where these positive parameters' posteriors are near Gaussian). The
    example's posterior is correlated (progesterone_receptor_k against lactose_vmax:
    r = -0.87 in the MAP fit), so the truth is judged inside the joint credible region,
    not by each marginal interval alone."""
    import arviz as az
    from scipy.stats import chi2

    post = az.from_netcdf(posterior_nc).posterior
    x = np.stack([np.log(np.asarray(post[n]).ravel()) for n in truth["parameter"]], axis=1)
    dx = np.log(truth["value"].to_numpy()) - x.mean(axis=0)
    d2 = float(dx @ np.linalg.solve(np.cov(x.T), dx))
    return float(chi2.sf(d2, len(truth)))


def _config_for_test(tmp_path, **sections) -> Path:
    """one_mother.toml with its paths made absolute and some sections changed."""
    cfg = load_config(CONFIG)
    cfg = cfg.replace(**{k: getattr(cfg, k).replace(**v) for k, v in sections.items()})
    return _write(tmp_path, cfg.to_toml(), "one_mother.toml")


def test_example_map_fit_recovers_truth(tmp_path):
    """MAP + Laplace on the example (one start: the prior centre reaches the optimum found by
    four in 100 steps): the true parameters inside the Laplace posterior's 99 % joint region,
    every data file recorded with its checksum."""
    config = _config_for_test(tmp_path, map={"starts": 1, "steps": 60})
    out = tmp_path / "one_mother"
    assert main(["fit", str(config), "--method", "map", "--out", str(out)]) == 0
    truth = pd.read_csv(EXAMPLE / "true_parameters.csv")
    assert _joint_p_value(out / "posterior.nc", truth) > 0.01
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["map"]["converged"] and diag["map"]["hessian_positive_definite"]
    prov = json.loads((out / "provenance.json").read_text())
    assert {f["role"] for f in prov["data_files"]} == {"observations", "feed log"}


@pytest.mark.slow
def test_example_nuts_fit_recovers_truth(tmp_path):
    """NUTS on the example as configured: converged, no divergences, the truth inside the
    posterior's 99 % joint region, and most rows inside their 90 % predictive intervals."""
    out = tmp_path / "one_mother"
    assert main(["fit", str(CONFIG), "--out", str(out)]) == 0
    truth = pd.read_csv(EXAMPLE / "true_parameters.csv")
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["divergences"] == 0 and diag["max_r_hat"] < 1.01
    assert _joint_p_value(out / "posterior.nc", truth) > 0.01
    import arviz as az

    idata = az.from_netcdf(out / "posterior.nc")  # y: a new observation of each row (its likelihood)
    y = np.asarray(idata.posterior_predictive["y"]).reshape(-1, len(idata.observed_data["y"]))
    obs = np.asarray(idata.observed_data["y"])
    inside = np.mean((obs >= np.percentile(y, 5, axis=0)) & (obs <= np.percentile(y, 95, axis=0)))
    assert inside > 0.75, inside  # 62 of 68 (91 %) when run on 2026-11-30


def test_herd_from_own_files_uses_each_cows_milking_log(tmp_path):
    """A herd from a user's table and milking log: each cow simulated at her own logged
    milkings (quarters, machine), her records mapped, the files in provenance."""
    from lactojax.inference.adapter import problem_from_config

    logs, obs = [], []
    for cow, clock in (("c1", (5.0, 16.0)), ("c2", (6.0, 14.0, 22.0))):
        for day in range(4):
            for c in clock:
                t = 24.0 * day + c
                logs.append({"subject": cow, "start_h": t, "duration_min": 8, "side": "all", "by": "machine"})
                if day >= 1:
                    obs.append({"subject": cow, "t_start_h": t, "t_end_h": t, "observable": "milk_yield_per_milking",
                                "value": 9.5, "unit": "kg"})
    pd.DataFrame(logs).to_csv(tmp_path / "milkings.csv", index=False)
    pd.DataFrame(obs).to_csv(tmp_path / "herd.csv", index=False)
    config = _write(tmp_path, """
[fit]
species = "cow"
datasets = ["herd.csv"]
horizon_days = 4
model = "hierarchical"
method = "map"
[design]
feed_log = "milkings.csv"
[parameters]
estimate = ["lactose_vmax_mmol_h"]
""")
    with pytest.warns(UserWarning, match="PROVENANCE"):
        data = problem_from_config(load_config(config))
    assert data.subjects == ("herd:c1", "herd:c2") and len(data.excluded) == 0 and len(data.rows) == len(obs)
    starts = np.asarray(data.problem.inputs.feeds.start_h)
    masks = np.asarray(data.problem.inputs.feeds.gland_mask)
    assert masks.shape[-1] == 4 and np.all(masks[:, :8] == 1)  # a cow: 4 quarters, all milked
    for s, cow in enumerate(("c1", "c2")):
        logged = [r["start_h"] for r in logs if r["subject"] == cow]
        assert np.array_equal(starts[s][: len(logged)], logged)
    assert {f["role"] for f in data.design["data_files"]} == {"observations", "feed log"}


def test_simulate_her_feed_log(tmp_path, capsys):
    """`lactojax simulate --feed-log`: her own sessions over the days the log covers; the
    evenly-spaced schedule's options and a horizon past the log are refused (exit 2)."""
    out = tmp_path / "her.csv"
    log = str(EXAMPLE / "feeds.csv")
    assert main(["simulate", "--days", "10", "--feed-log", log, "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert len(table) == 10 and table["milk_intake_ml"].iloc[-1] > 0
    assert main(["simulate", "--days", "10", "--feed-log", log, "--feeds-per-day", "8", "--out", str(out)]) == 2
    assert "not used with --feed-log" in capsys.readouterr().err
    assert main(["simulate", "--days", "20", "--feed-log", log, "--out", str(out)]) == 2
    assert "more than a day before the horizon of 20 days" in capsys.readouterr().err


def test_group_fit_of_a_table_with_several_mothers_names_one(tmp_path):
    """A group fit is one mother: a user's table holding several needs [design] subject."""
    from lactojax.inference.problem import load_rows

    rows = pd.DataFrame({"subject": ["A", "B"], "t_start_h": [48.0, 48.0], "t_end_h": [72.0, 72.0],
                         "observable": "milk_intake_24h", "value": [300.0, 350.0], "unit": "mL/24h"})
    path = tmp_path / "two.csv"
    rows.to_csv(path, index=False)
    with pytest.warns(UserWarning, match="PROVENANCE"):
        with pytest.raises(ValueError, match=r"subjects \['A', 'B'\].*\[design\] subject"):
            load_rows([str(path)])
        picked = load_rows([str(path)], subject="B")
        with pytest.raises(ValueError, match="no row of subject 'C'"):
            load_rows([str(path)], subject="C")
    assert list(picked["value"]) == [350.0]
