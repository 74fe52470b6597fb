"""Bad input ends in exit status 2 and one message naming the file, option or key, never a
traceback; `lactojax --version`. Every case is refused before any simulation or fit (fast)."""

import numpy as np
import pytest

from lactojax.cli import main, package_version

pytestmark = pytest.mark.xdist_group("cli_simulate")


def _err(capsys) -> str:
    return capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out == f"lactojax {package_version()}"
    assert package_version()[0].isdigit()


def test_posterior_that_is_not_netcdf(tmp_path, capsys):
    text = tmp_path / "notes.nc"
    text.write_text("not a netCDF file\n")
    out = tmp_path / "x.csv"
    assert main(["simulate", "--days", "2", "--posterior", str(text), "--out", str(out)]) == 2
    err = _err(capsys)
    assert "--posterior" in err and str(text) in err and "netCDF" in err
    assert "Traceback" not in err and not out.exists()


def test_posterior_that_is_not_a_lactojax_fit(tmp_path, capsys):
    import arviz as az
    import xarray as xr

    plain = tmp_path / "plain.nc"  # netCDF without a posterior group
    xr.Dataset({"a": ("x", np.arange(3.0))}).to_netcdf(plain, engine="h5netcdf")
    assert main(["simulate", "--days", "2", "--posterior", str(plain), "--out", str(tmp_path / "x.csv")]) == 2
    err = _err(capsys)
    assert str(plain) in err and "posterior" in err
    other = tmp_path / "other.nc"  # an arviz posterior lactojax did not write
    az.from_dict(posterior={"x": np.zeros((1, 5))}).to_netcdf(str(other))
    assert main(["simulate", "--days", "2", "--posterior", str(other), "--out", str(tmp_path / "x.csv")]) == 2
    assert "not a lactojax fit" in _err(capsys)


def test_param_with_posterior_is_refused(tmp_path, capsys):
    post = tmp_path / "posterior.nc"
    post.write_text("never read: --param is refused first")
    assert main(["simulate", "--posterior", str(post), "--param", "storage_capacity_ml=120",
                 "--out", str(tmp_path / "x.csv")]) == 2
    err = _err(capsys)
    assert "--param" in err and "storage_capacity_ml" in err and "posterior draw" in err


def test_simulate_days_beyond_the_model(tmp_path, capsys):
    out = tmp_path / "x.csv"
    assert main(["simulate", "--days", "100000", "--out", str(out)]) == 2
    err = _err(capsys)
    assert "--days" in err and "1096" in err and "two years" in err
    assert not out.exists()


def _fit_config(tmp_path, **fit) -> str:
    keys = {"datasets": '["saint1984"]', "horizon_days": "3", **fit}
    path = tmp_path / "bad.toml"
    path.write_text("[fit]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
                    + '[parameters]\nestimate = ["lactose_vmax_mmol_h"]\n')
    return str(path)


def test_fit_synthetic_dataset_name_is_a_config_error(tmp_path, capsys):
    cfg = _fit_config(tmp_path, datasets='["synthetic:demo"]')
    assert main(["fit", cfg, "--out", str(tmp_path / "out")]) == 2
    err = _err(capsys)
    assert "fit.datasets" in err and "synthetic:demo" in err and cfg in err


def test_fit_horizon_beyond_the_model_is_a_config_error(tmp_path, capsys):
    cfg = _fit_config(tmp_path, horizon_days="5000")
    assert main(["fit", cfg, "--out", str(tmp_path / "out")]) == 2
    err = _err(capsys)
    assert "fit.horizon_days" in err and "1096" in err and cfg in err


def test_makefile_refuses_a_python_the_package_cannot_use(tmp_path):
    """`make` builds the virtual environment only with Python 3.11 / 3.12 and says how to pass
    one (`make -n`: nothing is run but the version probe)."""
    import shutil
    import subprocess
    from pathlib import Path

    if shutil.which("make") is None:
        pytest.skip("no make on PATH")
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(["make", "-n", "-C", str(root), "install", "PYTHON=/nonexistent/python3.9",
                          f"VENV={tmp_path / 'venv'}"], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "needs Python 3.11 or 3.12" in run.stderr and "PYTHON=/nonexistent/python3.9" in run.stderr
    assert "make PYTHON=/path/to/python3.11" in run.stderr


def test_posterior_directory_without_a_fit(tmp_path, capsys):
    assert main(["simulate", "--days", "2", "--posterior", str(tmp_path), "--out", str(tmp_path / "x.csv")]) == 2
    err = _err(capsys)
    assert "--posterior" in err and "without a posterior.nc" in err
    (tmp_path / "posterior.nc").write_text("not netCDF")  # a fit directory: its posterior.nc is read
    assert main(["simulate", "--days", "2", "--posterior", str(tmp_path), "--out", str(tmp_path / "x.csv")]) == 2
    assert f"{tmp_path / 'posterior.nc'}: cannot be read as netCDF" in _err(capsys)
