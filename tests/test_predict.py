"""`lactojax predict`: rows of datasets a fit has not seen, predicted under its posterior
(inference.heldout), on the tiny fit every CLI test shares."""

import numpy as np
import pandas as pd
import pytest

from fit_fixtures import tiny_nuts_fit  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("inference_cli")
DATASETS = "saint1984,kent1992,kent1999,arthur1989"  # fits/tiny_smoke.toml


def test_the_fit_s_own_rows_are_predicted_as_the_fit_did(tiny_nuts_fit, tmp_path, capsys):  # noqa: F811
    from lactojax.cli import main

    out = tmp_path / "rows.csv"
    assert main(["predict", "--posterior", str(tiny_nuts_fit), "--datasets", DATASETS, "--out", str(out)]) == 0
    mine, fitted = pd.read_csv(out), pd.read_csv(tiny_nuts_fit / "data_rows.csv")
    assert list(mine.columns) == list(fitted.columns)
    # the same rows and the same posterior draws: the same predictions of the model's mean
    pd.testing.assert_frame_equal(mine[["dataset", "observable", "t_start_h", "value"]],
                                  fitted[["dataset", "observable", "t_start_h", "value"]])
    for col in ("pred_median", "mean_p05", "mean_p95"):
        np.testing.assert_allclose(mine[col], fitted[col], rtol=1e-5, err_msg=col)
    text = capsys.readouterr().out
    assert f"inside their 90 % interval for a new observation: {int(mine['inside_90'].sum())} of {len(mine)}" in text


def test_a_held_out_file_is_predicted(tiny_nuts_fit, tmp_path, capsys):  # noqa: F811
    from lactojax.cli import main

    # a user's file of two 24-h intakes (made-up test values, not data): a dataset the fit did not see
    own = tmp_path / "observations.csv"
    own.write_text("t_start_h,t_end_h,observable,statistic,value,unit,spread_type,spread,n\n"
                   "24,48,milk_intake_24h,mean,120,mL/24h,SD,40,10\n48,72,milk_intake_24h,mean,260,mL/24h,SD,60,10\n")
    out = tmp_path / "rows.csv"
    assert main(["predict", "--posterior", str(tiny_nuts_fit / "posterior.nc"), "--datasets", str(own),
                 "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    assert len(rows) == 2 and list(rows["value"]) == [120, 260]
    assert np.all(rows["pred_p05"] <= rows["pred_median"]) and np.all(rows["pred_median"] <= rows["pred_p95"])
    assert np.all(rows["pred_p95"] - rows["pred_p05"] >= rows["mean_p95"] - rows["mean_p05"])  # noise widens it
    assert "2 rows of" in capsys.readouterr().out


def test_bad_requests_are_refused(tiny_nuts_fit, tmp_path, capsys):  # noqa: F811
    import arviz as az

    from lactojax.cli import main

    assert main(["predict", "--posterior", str(tiny_nuts_fit), "--datasets", "no_such_data"]) == 2
    assert "no_such_data" in capsys.readouterr().err
    assert main(["predict", "--posterior", str(tmp_path), "--datasets", "saint1984"]) == 2
    assert "without a posterior.nc" in capsys.readouterr().err
    herd = tmp_path / "herd.nc"
    idata = az.from_dict(posterior={"mu_x": np.zeros((1, 3))})
    idata.posterior.attrs.update({"lactojax_model": "hierarchical", "lactojax_estimated": '["x"]',
                                  "lactojax_base_params": "{}", "lactojax_species": "cow"})
    idata.to_netcdf(str(herd))
    assert main(["predict", "--posterior", str(herd), "--datasets", "milkman"]) == 2
    assert "hierarchical fit" in capsys.readouterr().err
