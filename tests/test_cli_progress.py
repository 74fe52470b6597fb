"""Progress of long work on a terminal (`lactojax.progress`): `simulate` (by stage),
`simulate --posterior` (per batch of draws) and `scenario run` (per batch of runs) draw a line
on stderr ending with the total done when LACTOJAX_PROGRESS=1 (as on a terminal), nothing
with LACTOJAX_PROGRESS=0 (or off a terminal), and write the same results either way.
Horizons beyond the model's range are refused on every path (exit 2)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lactojax.cli import main

pytestmark = pytest.mark.xdist_group("cli_simulate")


def _tiny_posterior(path, species="human", n=6):
    """A posterior.nc as `lactojax fit` writes it (FitAttrs on the posterior group): two
    estimated parameters a few % around their nominal values, 2 chains."""
    import arviz as az

    from lactojax.inference.outputs import FitAttrs
    from lactojax.parameters import Params

    base = {k: float(v) for k, v in Params.nominal(species).values.items()}
    names = ("storage_capacity_ml", "lactose_vmax_mmol_h")
    rng = np.random.default_rng(1)
    idata = az.from_dict(posterior={k: base[k] * np.exp(0.05 * rng.standard_normal((2, n // 2))) for k in names})
    idata.posterior.attrs.update(FitAttrs(species=species, estimated=names, base_params=base,
                                          method="nuts").to_attrs())
    idata.to_netcdf(str(path))
    return str(path)


def _lines(err: str) -> list[str]:
    return [x.rstrip() for x in err.replace("\n", "\r").split("\r") if x.strip()]


def _run_both(monkeypatch, capsys, tmp_path, argv_of):
    """Run the command with progress forced on and off; (stderr on, stderr off, out paths)."""
    errs, outs = {}, {}
    for flag in ("1", "0"):
        monkeypatch.setenv("LACTOJAX_PROGRESS", flag)
        outs[flag] = tmp_path / f"progress_{flag}"
        assert main(argv_of(outs[flag])) == 0
        errs[flag] = capsys.readouterr().err
    return errs["1"], errs["0"], outs


def test_simulate_shows_its_stages(monkeypatch, capsys, tmp_path):
    on, off, outs = _run_both(monkeypatch, capsys, tmp_path,
                              lambda o: ["simulate", "--days", "2", "--out", f"{o}.csv"])
    lines = _lines(on)
    assert lines[0].startswith("simulate: 0/4 stages (0 %)") and "compiling the model" in lines[0]
    assert lines[-1].startswith("simulate: 4/4 stages (100 %)") and on.endswith("\n")
    assert "left" not in on  # unequal stages: no time-left estimate
    assert off == ""
    assert open(f"{outs['1']}.csv").read() == open(f"{outs['0']}.csv").read()


def test_posterior_predictive_counts_draws_per_batch(monkeypatch, capsys, tmp_path):
    post = _tiny_posterior(tmp_path / "posterior.nc")
    on, off, outs = _run_both(monkeypatch, capsys, tmp_path, lambda o: [
        "simulate", "--days", "2", "--posterior", post, "--draws", "6", "--out", f"{o}.csv"])
    lines = _lines(on)
    assert lines[0].startswith("posterior predictive: 0/6 draws (0 %)") and "compiling" in lines[0]
    assert lines[-1].startswith("posterior predictive: 6/6 draws (100 %)")
    assert off == ""
    assert open(f"{outs['1']}.csv").read() == open(f"{outs['0']}.csv").read()


def test_posterior_predictive_batches_give_the_same_bands(tmp_path, capsys):
    """Progress is per batch of draws, with the time left from the first batch on (the
    compilation is timed apart); the batch size changes no band: one batch of 6 against
    batches of 4 + 2 (padded) and of 1."""
    from lactojax import inputs as inp
    from lactojax.inference.predictive import posterior_predictive_daily

    post = _tiny_posterior(tmp_path / "posterior.nc")
    inputs = inp.make_inputs(inp.regular_feeds(2.0, 10.0, n_glands=2), 2.0, inp.profile(2))
    bands = [posterior_predictive_daily(post, inputs, draws=6, batch=b, progress=b == 1) for b in (6, 4, 1)]
    lines = _lines(capsys.readouterr().err)  # batches of 1: 6 updates (drawn at most every 0.5 s)
    assert lines[0].startswith("posterior predictive: 0/6 draws") and lines[0].endswith("compiling the model")
    assert lines[-1].startswith("posterior predictive: 6/6 draws (100 %)")
    assert all(x.startswith("posterior predictive: ") for x in lines)
    for other in bands[1:]:
        assert list(other.columns) == list(bands[0].columns)
        np.testing.assert_allclose(other.to_numpy(), bands[0].to_numpy(), rtol=1e-12, atol=0)


def _two_day_scenario():
    """A cheap scenario: the `normal` one cut to 2 days, two arms (10 and 8 feeds a day)."""
    from lactojax import inputs as inp
    from lactojax.parameters import Params
    from lactojax.scenarios import Arm, Criterion, Setup, get

    def build():
        arms = tuple(Arm(f"feeds_{n}", Params.nominal("human"),
                         inp.make_inputs(inp.regular_feeds(2.0, float(n), n_glands=2), 2.0, inp.profile(2)))
                     for n in (10, 8))
        return Setup(days=2, arms=arms)

    def analyse(res):
        return {"intake_day1_ml": float(res["feeds_10"].daily["milk_intake_ml"][1])}

    return dataclasses.replace(get("normal"), name="two_days", build=build, analyse=analyse, panels=(),
                               criteria=(Criterion("intake_day1_ml", ">", 0.0, "test"),))


def test_scenario_run_shows_runs(monkeypatch, capsys, tmp_path):
    from lactojax.scenarios import BY_NAME

    monkeypatch.setitem(BY_NAME, "two_days", _two_day_scenario())
    on, off, outs = _run_both(monkeypatch, capsys, tmp_path,
                              lambda o: ["scenario", "run", "two_days", "--no-plot", "--out", str(o)])
    lines = _lines(on)
    assert lines[0].startswith("scenario: 0/2 runs (0 %)") and "two_days: " in lines[0]
    assert any("simulating 2 runs of 2 days in one batch" in x for x in lines)
    assert lines[-1].startswith("scenario: 2/2 runs (100 %)")
    assert off == ""
    for name in ("two_days.csv", "two_days_metrics.csv"):
        assert (outs["1"] / name).read_text() == (outs["0"] / name).read_text()


def test_horizons_beyond_the_model_are_refused_on_every_path(monkeypatch, capsys, tmp_path):
    from lactojax.scenarios import BY_NAME, SCENARIOS, Setup, get
    from lactojax.inputs import MAX_HORIZON_DAYS

    out = tmp_path / "x.csv"
    # a posterior over 5000 days: refused before the posterior is read
    post = _tiny_posterior(tmp_path / "posterior.nc")
    assert main(["simulate", "--days", "5000", "--posterior", post, "--out", str(out)]) == 2
    assert "--days 5000" in capsys.readouterr().err
    # a feed log spanning 20 years: the horizon is --days, at most 1096; later rows are not simulated
    log = tmp_path / "feeds.csv"
    starts = np.arange(0.0, 20 * 365 * 24.0, 3.0)
    pd.DataFrame({"start_h": starts, "duration_min": 15.0, "side": "left"}).to_csv(log, index=False)
    assert main(["simulate", "--days", "5000", "--feed-log", str(log), "--out", str(out)]) == 2
    assert "--days 5000" in capsys.readouterr().err
    assert not out.exists()
    assert main(["simulate", "--days", "2", "--feed-log", str(log), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 2
    capsys.readouterr()
    # scenarios: every registered one is within the range; a longer one is refused, naming it
    assert max(s.build().days for s in SCENARIOS) <= MAX_HORIZON_DAYS
    with pytest.raises(ValueError, match="5000 days"):
        Setup(days=5000, arms=())
    too_long = dataclasses.replace(get("normal"), name="too_long", build=lambda: Setup(days=5000, arms=()))
    monkeypatch.setitem(BY_NAME, "too_long", too_long)
    assert main(["scenario", "run", "too_long", "--out", str(tmp_path / "sc")]) == 2
    err = capsys.readouterr().err
    assert "too_long" in err and "1096" in err


def test_scenario_run_all_counts_the_runs_of_every_scenario(monkeypatch, capsys, tmp_path):
    """`scenario run all` (here two cheap scenarios): one line over both, each scenario's
    report and files as it ends."""
    first = _two_day_scenario()
    second = dataclasses.replace(first, name="two_days_b")
    monkeypatch.setattr("lactojax.scenarios.SCENARIOS", [first, second])
    monkeypatch.setenv("LACTOJAX_PROGRESS", "1")
    assert main(["scenario", "run", "all", "--no-plot", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    lines = _lines(captured.err)
    assert lines[0].startswith("scenario: 0/4 runs (0 %)") and "two_days (1 of 2 scenarios)" in lines[0]
    assert any(x.startswith("scenario: 2/4 runs") and "two_days_b (2 of 2 scenarios)" in x for x in lines)
    assert lines[-1].startswith("scenario: 4/4 runs (100 %)")
    assert captured.out.count("1/1 criteria met") == 2
    assert (tmp_path / "two_days.csv").exists() and (tmp_path / "two_days_b_metrics.csv").exists()
