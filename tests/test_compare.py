"""`lactojax compare`: fits of the same rows ranked by PSIS-LOO (inference.comparison), on
the tiny fit every CLI test shares."""

import shutil

import pandas as pd
import pytest

from fit_fixtures import tiny_nuts_fit  # noqa: F401  (session fixture)

pytestmark = pytest.mark.xdist_group("inference_cli")


def test_a_fit_compared_with_a_copy_of_itself_ties(tiny_nuts_fit, tmp_path, capsys):  # noqa: F811
    import arviz as az

    from lactojax.cli import main

    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(tiny_nuts_fit / "posterior.nc", copy / "posterior.nc")
    out = tmp_path / "loo.csv"
    assert main(["compare", str(tiny_nuts_fit), str(copy), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table["fit"].sort_values()) == sorted([tiny_nuts_fit.name, "copy"])
    assert table["elpd_diff"].abs().max() < 1e-9 and table["rank"].tolist() == [0, 1]
    loo = az.loo(az.from_netcdf(tiny_nuts_fit / "posterior.nc"))
    assert table["elpd_loo"].iloc[0] == pytest.approx(float(loo.elpd_loo))
    rows = pd.read_csv(tiny_nuts_fit / "data_rows.csv")
    assert table["rows"].iloc[0] == len(rows)
    assert "best by PSIS-LOO" in capsys.readouterr().out


def test_fits_of_other_rows_or_no_fit_are_refused(tiny_nuts_fit, tmp_path, capsys):  # noqa: F811
    from lactojax.cli import main
    from lactojax.inference.comparison import _same_rows

    assert main(["compare", str(tiny_nuts_fit), str(tmp_path)]) == 2
    assert "a directory without a posterior.nc" in capsys.readouterr().err
    assert main(["compare", str(tiny_nuts_fit)]) == 2
    assert "at least two fits" in capsys.readouterr().err
    a = pd.DataFrame({"dataset": ["x", "y"], "observable": ["milk_intake_24h"] * 2, "t_start_h": [0.0, 24.0],
                      "t_end_h": [24.0, 48.0], "value": [1.0, 2.0]})
    with pytest.raises(ValueError, match="row 1 is y milk_intake_24h \\(24-48 h, 3\\)"):
        _same_rows(("a.nc", a), ("b.nc", a.assign(value=[1.0, 3.0])))
    with pytest.raises(ValueError, match="1 data rows"):
        _same_rows(("a.nc", a), ("b.nc", a.iloc[:1]))
