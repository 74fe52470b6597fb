"""`lactojax fit` end to end with tiny settings (fits/tiny_smoke.toml): NUTS smoke run on
CPU, the output files, InferenceData round trip, posterior predictive bands, SVI."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from lactojax.cli import main

from fit_fixtures import tiny_nuts_fit  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("inference_cli")

from pathlib import Path

CONFIG = str(Path(__file__).resolve().parents[1] / "fits" / "tiny_smoke.toml")


@pytest.fixture
def nuts_fit(tiny_nuts_fit):  # noqa: F811
    return tiny_nuts_fit


def test_fit_writes_every_output(nuts_fit, capsys):
    for name in ("posterior.nc", "summary.csv", "ppc.png", "config.toml", "provenance.json",
                 "diagnostics.json", "data_rows.csv", "excluded_rows.csv"):
        assert (nuts_fit / name).stat().st_size > 0, name
    s = pd.read_csv(nuts_fit / "summary.csv")
    assert list(s.columns) == ["parameter", "unit", "mean", "sd", "hdi_3%", "hdi_97%", "r_hat",
                               "ess_bulk", "ess_tail", "prior_sd", "sd_ratio"]
    assert list(s["parameter"]) == ["lactose_vmax_mmol_h", "infant_stomach_week1_gain_ml"]
    assert np.all(s["hdi_3%"] < s["mean"]) and np.all(s["mean"] < s["hdi_97%"])
    prov = json.loads((nuts_fit / "provenance.json").read_text())
    assert prov["packages"]["jax"] and prov["packages"]["numpyro"]
    assert "revision" in prov["git"]
    diag = json.loads((nuts_fit / "diagnostics.json").read_text())
    assert diag["method"] == "nuts" and "divergences" in diag and "max_r_hat" in diag
    assert diag["map"]["n_starts"] == 4
    # the resolved configuration is a valid fit configuration
    from lactojax.inference.config import load_config

    cfg = load_config(nuts_fit / "config.toml")
    assert cfg.nuts.chains == 2 and cfg.fit.datasets[0] == "saint1984"
    ex = pd.read_csv(nuts_fit / "excluded_rows.csv")
    assert len(ex) > 0 and ex["reason"].str.contains("horizon").any()


def test_inference_data_round_trip(nuts_fit):
    import arviz as az

    idata = az.from_netcdf(nuts_fit / "posterior.nc")
    for group in ("posterior", "sample_stats", "observed_data", "posterior_predictive",
                  "log_likelihood", "constant_data"):
        assert hasattr(idata, group), group
    post = idata.posterior
    assert post["lactose_vmax_mmol_h"].shape == (2, 15)
    s = pd.read_csv(nuts_fit / "summary.csv").set_index("parameter")
    np.testing.assert_allclose(float(post["lactose_vmax_mmol_h"].mean()), s.loc["lactose_vmax_mmol_h", "mean"],
                               rtol=1e-5)
    n_rows = idata.observed_data["y"].shape[0]
    assert idata.log_likelihood["y"].shape == (2, 15, n_rows)
    assert idata.posterior_predictive["y"].shape == (2, 15, n_rows)
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    assert idata.sample_stats["diverging"].dtype == bool
    # observed data are the dataset values
    rows = pd.read_csv(nuts_fit / "data_rows.csv")
    np.testing.assert_allclose(idata.observed_data["y"].values, rows["value"].values, rtol=1e-6)
    # ArviZ diagnostics run on the file as written
    az.loo(idata)
    # pred_p05 / pred_p95: a new observation of the row (y); mean_p05 / mean_p95: the model's mean
    y = idata.posterior_predictive["y"].values.reshape(-1, n_rows)
    np.testing.assert_allclose(rows["pred_p05"], np.percentile(y, 5, axis=0), rtol=1e-5)
    assert np.all(rows["pred_p95"] - rows["pred_p05"] >= rows["mean_p95"] - rows["mean_p05"] - 1e-9)
    check = json.loads((nuts_fit / "diagnostics.json").read_text())["predictive_check"]
    assert check["rows"] == n_rows and check["inside_90"] == int(rows["inside_90"].sum())


def test_posterior_predictive_daily_bands(nuts_fit):
    from lactojax.inference.predictive import posterior_predictive_daily
    from lactojax.inputs import make_inputs, regular_feeds

    inputs = make_inputs(regular_feeds(3, 10), 3)
    df = posterior_predictive_daily(str(nuts_fit / "posterior.nc"), inputs, draws=8)
    assert len(df) == 3 and df.attrs["failed_draws"] == 0
    for col in ("milk_intake_ml", "milk_sodium_mmol_l", "production_gland_0_ml"):
        lo, med, hi = df[f"{col}_p05"], df[f"{col}_median"], df[f"{col}_p95"]
        assert np.all(lo <= med + 1e-9) and np.all(med <= hi + 1e-9)
    # the estimated parameter varies across draws, so day-2 intake has a band
    assert df["milk_intake_ml_p95"].iloc[2] > df["milk_intake_ml_p05"].iloc[2]


def test_fit_rejects_bad_config(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[fit]\ndatasets = ["saint1984"]\n[parameters]\nestimate = ["nope"]\n')
    assert main(["fit", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "parameters.estimate" in capsys.readouterr().err


@pytest.mark.slow
def test_svi_and_map_methods(tmp_path):
    from lactojax.inference import fit_from_config, write_fit
    from lactojax.inference.config import load_config

    cfg = load_config(CONFIG)
    for method in ("svi", "map"):
        out = tmp_path / method
        run = fit_from_config(cfg.with_overrides(method=method))
        write_fit(run, str(out))
        assert run.method == method and (out / "posterior.nc").exists()
        s = pd.read_csv(out / "summary.csv")
        assert np.all(np.isfinite(s["mean"])) and np.all(s["sd"] > 0)
