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


# --- found by the fuzz suite (tests/test_fuzz.py): each input below once crashed, ran, or
# was silently ignored --------------------------------------------------------------------


def _simulate(tmp_path, *argv) -> int:
    return main(["simulate", "--out", str(tmp_path / "x.csv"), *argv])


@pytest.mark.parametrize("argv, option", [
    (["--days", "nan"], "--days"),  # was a ValueError traceback
    (["--days", "1", "--feeds-per-day", "nan"], "--feeds-per-day"),  # was simulated with one feed
    (["--days", "1", "--feed-minutes", "inf"], "--feed-minutes"),
    (["--days", "1", "--rtol", "nan"], "--rtol"),
    (["--days", "1", "--complementary-from-day", "0", "--complementary-share", "nan"], "--complementary-share"),
    (["--days", "1", "--glands", "0"], "--glands"),
    (["--days", "1", "--solver", "rk45"], "--solver"),
])
def test_simulate_non_finite_or_out_of_range_option(tmp_path, capsys, argv, option):
    with pytest.raises(SystemExit) as exc:
        _simulate(tmp_path, *argv)
    assert exc.value.code == 2
    err = _err(capsys)
    assert f"argument {option}:" in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "2.5", "1e9"])
def test_simulate_milkings_per_day_whole_and_finite(tmp_path, capsys, value):
    """cow --feeds-per-day nan / inf crashed (int() of them), 2.5 was rounded down to 2
    without a word, 1e9 built a clock list of a billion milkings."""
    try:
        rc = _simulate(tmp_path, "--species", "cow", "--days", "1", "--feeds-per-day", value)
    except SystemExit as exc:
        rc = exc.code
    assert rc == 2
    assert "--feeds-per-day" in _err(capsys)


@pytest.mark.parametrize("argv, fragment", [
    (["--feeds-by-age="], "--feeds-by-age"),  # an empty plan was ignored (10 feeds a day)
    (["--posterior="], "--posterior"),  # an empty posterior path was ignored (nominal run)
    (["--feed-log="], "--feed-log"),  # an empty feed log path was ignored (even feeds)
    (["--complementary-share", "0.3"], "--complementary-from-day"),  # ignored without a start day
    (["--out", "DIR"], "--out"),  # a directory: failed after the simulation
    (["--plot", "DIR"], "--plot"),
])
def test_simulate_option_values_are_used_or_refused(tmp_path, capsys, argv, fragment):
    argv = [str(tmp_path) if a == "DIR" else a for a in argv]
    assert main(["simulate", "--days", "1", "--out", str(tmp_path / "x.csv"), *argv]) == 2
    err = _err(capsys)
    assert fragment in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_simulate_schedule_that_does_not_fit_names_the_options(tmp_path, capsys):
    assert _simulate(tmp_path, "--days", "1", "--feed-minutes", "200") == 2
    err = _err(capsys)
    assert "--feeds-per-day, --feed-minutes, --glands: a feed of 2 x 200.0 min does not fit" in err
    assert _simulate(tmp_path, "--days", "1", "--species", "cow", "--feeds-per-day", "12",
                     "--feed-minutes", "150") == 2
    assert "--feeds-per-day 12, --feed-minutes 150: a milking does not fit" in _err(capsys)


def test_config_that_is_not_utf8_or_a_directory(tmp_path, capsys):
    """Binary TOML was a UnicodeDecodeError traceback, a directory an IsADirectoryError."""
    cfg = tmp_path / "bin.toml"
    cfg.write_bytes(b"\xff\xfe[fit]\n")
    assert main(["config", "show", str(cfg)]) == 2
    err = _err(capsys)
    assert f"{cfg}: not valid TOML: not UTF-8 text" in err
    assert main(["fit", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert f"{tmp_path}: cannot read the file" in _err(capsys)


@pytest.mark.parametrize("key, value", [("map.learning_rate", "inf"), ("nuts.target_accept", "nan"),
                                        ("fit.horizon_days", "inf"), ("design.feed_duration_min", "inf")])
def test_config_non_finite_number_is_named(tmp_path, capsys, key, value):
    """TOML has inf and nan; they were accepted (learning_rate = inf) or refused with a
    message naming another key ([design] for feed_duration_min = inf)."""
    section, name = key.split(".")
    line = f"{name} = {value}\n"
    path = tmp_path / "c.toml"
    path.write_text(f'[fit]\ndatasets = ["saint1984"]\n{line if section == "fit" else ""}'
                    f'[parameters]\nestimate = ["lactose_vmax_mmol_h"]\n'
                    + ("" if section == "fit" else f"[{section}]\n{line}"))
    assert main(["config", "show", str(path)]) == 2
    err = _err(capsys)
    assert f"{path}: [{key}] expected a finite number, got {float(value)!r}" in err


def test_species_with_posterior_is_used_or_refused(tmp_path, capsys, monkeypatch):
    """The posterior records its species: --species (default human) must be it, and is then
    used (the predictive simulation is reached; stopped here before it runs)."""
    import lactojax.inference.predictive as predictive
    from test_fuzz import _fake_posterior

    post = _fake_posterior(tmp_path / "posterior.nc", "cow")
    for argv in ([], ["--species", "goat"]):
        assert main(["simulate", "--days", "2", "--posterior", str(post), "--out", str(tmp_path / "x.csv"),
                     *argv]) == 2
        err = _err(capsys)
        assert f"--posterior: {post}: a fit of species 'cow'" in err and "use --species cow" in err

    class Reached(Exception):
        pass

    def reached(*args, **kwargs):
        raise Reached

    monkeypatch.setattr(predictive, "simulate", reached)
    with pytest.raises(Reached):
        main(["simulate", "--days", "2", "--species", "cow", "--posterior", str(post), "--out",
              str(tmp_path / "x.csv")])
