"""`lactojax simulate` end to end: CSV columns, PNG, parameter overrides, clear errors."""

import pandas as pd
import pytest

from lactojax.cli import main

pytestmark = pytest.mark.xdist_group("cli_simulate")


def test_simulate_writes_table_and_plot(tmp_path, capsys):
    out, png = tmp_path / "t.csv", tmp_path / "f.png"
    assert main(["simulate", "--days", "3", "--feeds-per-day", "8", "--out", str(out), "--plot", str(png)]) == 0
    df = pd.read_csv(out)
    required = ["day", "milk_intake_ml", "milk_sodium_mmol_l", "milk_lactose_g_l", "milk_protein_g_l",
                "milk_fat_g_l", "prolactin_basal_ng_ml", "production_gland_0_ml", "production_gland_1_ml"]
    assert list(df.columns[:7]) == required[:7]
    assert set(required) <= set(df.columns)
    assert list(df["day"]) == [0, 1, 2]
    assert df["milk_intake_ml"].iloc[0] < df["milk_intake_ml"].iloc[2]
    assert png.stat().st_size > 10_000
    assert "wrote" in capsys.readouterr().out


def test_simulate_rejects_bad_input(tmp_path, capsys):
    assert main(["simulate", "--days", "3", "--param", "no_such_parameter=1", "--out", str(tmp_path / "x.csv")]) == 2
    assert "no_such_parameter" in capsys.readouterr().err
    assert main(["simulate", "--days", "3", "--param", "storage_capacity_ml=5", "--out", str(tmp_path / "x.csv")]) == 2
    assert "storage_capacity_ml=5" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
    assert main(["simulate", "--days", "1", "--feeds-per-day", "100", "--out", str(tmp_path / "y.csv")]) == 2
    assert "does not fit" in capsys.readouterr().err


def test_simulate_solver_methods_agree(tmp_path, capsys):
    """The default path is the session solver; --solver-method adaptive forces the detailed
    reference. Daily intake agrees within the session solver's tested accuracy (1 %)."""
    runs = {}
    for method in ("sessions", "adaptive"):
        out = tmp_path / f"{method}.csv"
        args = ["simulate", "--days", "3", "--out", str(out)]
        if method == "adaptive":
            args += ["--solver-method", "adaptive"]
        assert main(args) == 0
        runs[method] = pd.read_csv(out)
    capsys.readouterr()
    a, b = runs["sessions"]["milk_intake_ml"], runs["adaptive"]["milk_intake_ml"]
    assert ((a - b).abs() <= 0.01 * b.abs()).all()
    with pytest.raises(SystemExit) as exc:  # argparse refuses an unknown choice, exit status 2
        main(["simulate", "--days", "3", "--solver-method", "rk4", "--out", str(tmp_path / "z.csv")])
    assert exc.value.code == 2
    assert "--solver-method" in capsys.readouterr().err
    assert not (tmp_path / "z.csv").exists()
