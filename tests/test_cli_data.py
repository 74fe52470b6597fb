"""`lactojax data list` / `lactojax data show NAME`."""

from __future__ import annotations

import shutil

import pytest

from lactojax.cli import main
from lactojax.datasets import list_datasets
from lactojax.datasets.registry import data_root


def test_data_list(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in list_datasets():
        assert name in out
    assert f"{len(list_datasets())} datasets under" in out
    line = next(x for x in out.splitlines() if x.startswith("milkman "))
    assert "674286" in line and "cow" in line and "Friggens" in line
    line = next(x for x in out.splitlines() if x.startswith("saint1984 "))
    assert "0-672 h" in line and "human" in line


def test_data_show_human(capsys):
    assert main(["data", "show", "saint1984"]) == 0
    out = capsys.readouterr().out
    assert "Br J Nutr. 1984;52(1):87-95" in out
    assert "milk_intake_24h" in out and "g/24h -> mL/24h" in out
    assert "4 of 4 rows used" in out
    assert "SD from range (Wan 2014)" in out
    assert "sha256" in out and "licence" in out
    assert "0 to 672 h" in out
    assert "10 feeds/day (range 8-12)" in out


def test_data_show_dairy(capsys):
    assert main(["data", "show", "milkman"]) == 0
    out = capsys.readouterr().out
    assert "subjects: 288; groups: 3 (Holstein, Jersey, RDM)" in out
    assert "milk_yield_per_milking" in out and "160736" in out
    assert "674279 of 674286 rows used" in out
    assert "7 excluded [non-positive]" in out
    assert "2 milkings/day at 05:00, 14:30" in out
    assert "GPL" in out


def test_data_show_reports_exclusions_and_unverified(capsys):
    assert main(["data", "show", "weitzman1981"]) == 0
    out = capsys.readouterr().out
    assert "5 excluded [flag=unverified_source]" in out
    assert "[not modelled]" in out  # plasma_oxytocin_basal and friends
    assert "verified: no" in out


def test_data_show_unknown_name(capsys):
    assert main(["data", "show", "milkmn"]) == 2
    err = capsys.readouterr().err
    assert "lactojax data: error: unknown dataset 'milkmn'" in err
    assert "did you mean milkman" in err


def test_data_show_invalid_dataset(capsys, tmp_path, monkeypatch):
    shutil.copytree(data_root() / "kulski1981", tmp_path / "kulski1981")
    table = tmp_path / "kulski1981" / "observations.csv"
    table.write_text(table.read_text().replace(",32.0,", ",-32.0,"))
    monkeypatch.setenv("LACTOJAX_DATA_DIR", str(tmp_path))
    assert main(["data", "list"]) == 0
    assert "kulski1981" in capsys.readouterr().out
    assert main(["data", "show", "kulski1981"]) == 2
    err = capsys.readouterr().err
    assert "invalid" in err and "sha256" in err


def test_data_requires_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["data"])
