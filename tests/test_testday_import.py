"""`lactojax data import-testday` and `lactojax.datasets.testday`.

Every table in this file is SYNTHETIC: a few made-up test-day records written by the
test, in the lactationcurve (Bovi-analytics) layout and in a DHI-like layout.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lactojax.cli import main
from lactojax.datasets import design_for, load_dataset
from lactojax.datasets.design import day_window_h
from lactojax.datasets.provenance import REQUIRED_KEYS, read_provenance, sha256_file
from lactojax.datasets.testday import (
    DEFAULT_LICENCE,
    DatasetExistsError,
    DatasetNameError,
    TestDayError,
    import_testday,
    parse_column_mapping,
    read_testday,
)

REPO = Path(__file__).resolve().parents[1]


def write_table(path: Path, header: list[str], rows: list[list], sep: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=sep, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


# Synthetic, lactationcurve layout (d-m-Y dates; TestId = lactation; BirthDate is the
# cow's birth, not calving). Row 4 repeats row 3 exactly (kept, flagged duplicate).
LC_HEADER = ["BirthDate", "DaysInMilk", "Parity", "MilkingYield", "TestDate", "TestId"]
LC_ROWS = [
    ["26-8-2017", 27, 1, 23.6, "20-8-2019", 3781],
    ["26-8-2017", 64, 1, 23.1, "26-9-2019", 3781],
    ["3-1-2015", 5, 3, 31.2, "9-3-2020", 4100],
    ["3-1-2015", 5, 3, 31.2, "9-3-2020", 4100],
    ["3-1-2015", 301, 3, 12.05, "29-12-2020", 4100],
]

# Synthetic, DHI-like layout: no DIM column (from the dates), fat/protein/SCC/lactose,
# breed and 3 milkings a day; row 2 has no fat, row 5 no lactose.
DHI_HEADER = ["CowID", "Lact", "CalvingDate", "TestDate", "Milk", "Fat %", "ProtPct",
              "SCC", "Lactose", "Breed", "MilkingsPerDay"]
DHI_ROWS = [
    ["A12", 2, "2023-03-01", "2023-03-11", 35.5, 3.91, 3.05, 120, 4.81, "Holstein", 3],
    ["A12", 2, "2023-03-01", "2023-04-12", 41.0, "", 3.01, 85, 4.85, "Holstein", 3],
    ["B7", 1, "2023-01-15", "2023-01-16", 18.2, 4.6, 3.4, 410, 4.6, "Jersey", 3],
    ["B7", 1, "2023-01-15", "2023-05-20", 22.4, 5.1, 3.8, 95, 4.7, "Jersey", 3],
    ["B7", 1, "2023-01-15", "2023-10-30", 14.0, 5.6, 4.1, 150, "", "Jersey", 3],
]
DHI_OBS = {"Milk": ("milk_yield_daily", "kg/d"), "Fat %": ("fat_pct", "%"),
           "ProtPct": ("protein_pct", "%"), "SCC": ("somatic_cell_count", "1e3/mL"),
           "Lactose": ("lactose_pct", "%")}


def _expected_rows(frame: pd.DataFrame, subject, group, dim, observables) -> pd.DataFrame:
    """The observation rows a source table should give (one per non-empty cell)."""
    out = []
    for i, rec in frame.iterrows():
        for column, (observable, unit) in observables.items():
            if str(rec[column]) == "":
                continue
            t0, t1 = day_window_h(int(dim[i]))
            out.append({"subject": subject[i], "group": group[i], "t_start_h": t0,
                        "t_end_h": t1, "observable": observable, "value": float(rec[column]),
                        "unit": unit, "source_row": i + 1})
    return pd.DataFrame(out)


def _compare(loaded: pd.DataFrame, expected: pd.DataFrame) -> None:
    key = ["source_row", "observable"]
    got = loaded[list(expected.columns)].astype({"source_row": "int64"})
    got = got.sort_values(key, kind="stable").reset_index(drop=True)
    expected = expected.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_round_trip_lactationcurve_layout(tmp_path):
    src = write_table(tmp_path / "mr_synthetic.csv", LC_HEADER, LC_ROWS)
    result = import_testday(src, "lc", tmp_path / "data")
    ds = load_dataset(tmp_path / "data" / "lc")
    frame = pd.DataFrame(LC_ROWS, columns=LC_HEADER)
    expected = _expected_rows(frame, frame["TestId"].astype(str),
                              "parity " + frame["Parity"].astype(str), frame["DaysInMilk"],
                              {"MilkingYield": ("milk_yield_daily", "kg/d")})
    _compare(ds.table, expected)
    assert ds.table["flag"].tolist() == ["", "", "", "duplicate", ""]
    assert ds.table["statistic"].eq("value").all() and ds.table["n"].eq(1).all()
    assert ds.used.sum() == 4  # the exact repeat is kept and excluded by rule
    subjects = pd.read_csv(tmp_path / "data" / "lc" / "subjects.csv", dtype=str,
                           keep_default_na=False)
    assert subjects.columns.tolist() == ["subject", "breed", "parity", "milkings_per_day"]
    assert subjects.values.tolist() == [["3781", "", "1", ""], ["4100", "", "3", ""]]
    assert result.table.unused_columns == ("BirthDate",)
    prov = ds.provenance
    assert prov.species == "cow" and prov.get("kind") == "individual_records"
    assert prov.licence == DEFAULT_LICENCE and prov.rows == 5
    assert prov.source_file == "mr_synthetic.csv"
    assert prov.get("source_sha256") == sha256_file(src)
    assert "'BirthDate'" in prov.body and "1 records repeat" in prov.body
    design = design_for("lc", root=tmp_path / "data")
    assert design.milkings_per_day == 2 and design.milking_clock_h == (5.0, 17.0)
    assert design.birth_clock_h == 12.0 and design.horizon_h == day_window_h(301)[1]


def test_round_trip_dhi_layout(tmp_path):
    src = write_table(tmp_path / "dhi.csv", DHI_HEADER, DHI_ROWS)
    import_testday(src, "dhi", tmp_path, licence="CC-BY-4.0", citation="Synthetic herd",
                   title="Synthetic DHI test days")
    ds = load_dataset(tmp_path / "dhi")
    frame = pd.DataFrame(DHI_ROWS, columns=DHI_HEADER)
    dim = (pd.to_datetime(frame["TestDate"]) - pd.to_datetime(frame["CalvingDate"])).dt.days
    assert dim.tolist() == [10, 42, 1, 125, 288]
    subject = frame["CowID"] + "_" + frame["Lact"].astype(str)
    expected = _expected_rows(frame, subject, frame["Breed"], dim, DHI_OBS)
    _compare(ds.table, expected)
    assert len(ds.table) == 5 * 5 - 2  # one empty fat cell, one empty lactose cell
    counts = ds.observable_counts()
    assert counts["fat_pct"] == 4 and counts["lactose_pct"] == 4
    assert counts["milk_yield_daily"] == 5
    # SCC converts to the model unit unchanged (x1000 cells/mL)
    scc = ds.table[ds.table["observable"] == "somatic_cell_count"]
    assert np.array_equal(scc["value_model"], [120.0, 85.0, 410.0, 95.0, 150.0])
    subjects = pd.read_csv(tmp_path / "dhi" / "subjects.csv", dtype=str)
    assert subjects.values.tolist() == [["A12_2", "Holstein", "2", "3"],
                                        ["B7_1", "Jersey", "1", "3"]]
    prov = read_provenance(tmp_path / "dhi" / "PROVENANCE.md")
    assert all(prov.get(k) for k in REQUIRED_KEYS)
    assert prov.title == "Synthetic DHI test days" and prov.licence == "CC-BY-4.0"
    assert prov.citation == "Synthetic herd"
    assert "'Fat %' 1" in prov.body and "'Lactose' 1" in prov.body  # empty cells counted
    design = design_for(tmp_path / "dhi")
    assert design.milkings_per_day == 3 and design.milking_clock_h == (5.0, 13.0, 21.0)


def test_column_mapping_date_format_and_semicolons(tmp_path):
    src = write_table(tmp_path / "custom.csv",
                      ["Animal", "LactNo", "Calved", "Tested", "Days", "MyYield"],
                      [["7", "1", "03/30/2024", "04/09/2024", "10", "25,5"],
                       ["7", "1", "03/30/2024", "05/09/2024", "40", "30,25"]], sep=";")
    mapping = parse_column_mapping(["calving_date=Calved,test_date=tested",
                                    "dim=Days,milk_kg=MyYield"])
    table = read_testday(src, columns=mapping, date_format="%m/%d/%Y")
    assert table.columns["test_date"] == "Tested" and table.columns["cow"] == "Animal"
    assert table.records["dim"].tolist() == [10, 40]
    assert table.records["milk_kg"].tolist() == [25.5, 30.25]  # decimal commas
    assert table.records["subject"].tolist() == ["7_1", "7_1"]
    with pytest.raises(ValueError, match="CANONICAL=COLUMN"):
        parse_column_mapping("milk_kg")


def test_cli_end_to_end(tmp_path, capsys, monkeypatch):
    src = write_table(tmp_path / "dhi.csv", DHI_HEADER, DHI_ROWS)
    out = tmp_path / "root"
    assert main(["data", "import-testday", str(src), "--name", "herd", "--out", str(out),
                 "--citation", "Synthetic records"]) == 0
    text = capsys.readouterr().out
    assert "5 test-day records of 2 lactations" in text
    assert "fat_pct 4" in text and "days in milk: 1-288" in text
    assert str(out / "herd") in text
    for name in ("observations.csv", "subjects.csv", "PROVENANCE.md"):
        assert (out / "herd" / name).is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left
    monkeypatch.setenv("LACTOJAX_DATA_DIR", str(out))
    assert main(["data", "show", "herd"]) == 0
    shown = capsys.readouterr().out
    assert "subjects: 2; groups: 2 (Holstein, Jersey)" in shown
    assert "3 milkings/day at 05:00, 13:00, 21:00" in shown
    assert load_dataset("herd").name == "herd"


def test_imported_dataset_feeds_a_hierarchical_cohort(tmp_path, monkeypatch):
    """The fit's cohort builder finds the imported lactations and their default design."""
    from lactojax.inference.problem import dataset_cohort

    import_testday(write_table(tmp_path / "dhi.csv", DHI_HEADER, DHI_ROWS), "herd", tmp_path)
    monkeypatch.setenv("LACTOJAX_DATA_DIR", str(tmp_path))
    records, inputs = dataset_cohort(["herd"], 300.0)
    assert sorted(inputs) == ["herd:A12_2", "herd:B7_1"]
    assert len(records) == 23 and set(records["subject"]) == set(inputs)


def test_readme_example_command(tmp_path):
    """The README's example, as a user runs it (a fresh process, the bundled file)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    cmd = [sys.executable, "-m", "lactojax.cli", "data", "import-testday",
           "examples/testday/herd_testdays.csv", "--name", "herd_example", "--out",
           str(tmp_path)]
    run = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "24 test-day records of 3 lactations" in run.stdout
    ds = load_dataset(tmp_path / "herd_example")
    assert ds.subjects() == ["SYN101_1", "SYN102_2", "SYN103_3"]


# --- bad input: exit code 2 and a message naming the row and the column ----------------

def _dhi_with(change) -> list[list]:
    rows = [list(r) for r in DHI_ROWS]
    change(rows)
    return rows


def _set(row, col, value):
    def change(rows):
        rows[row - 1][DHI_HEADER.index(col)] = value
    return change


BAD = {
    "non_numeric_yield": (_set(2, "Milk", "abc"), 2, "'Milk' (milk_kg)", "a number"),
    "negative_yield": (_set(3, "Milk", -4), 3, "'Milk' (milk_kg)", "non-negative"),
    "empty_yield": (_set(3, "Milk", ""), 3, "'Milk' (milk_kg)", "24-h milk yield"),
    "negative_scc": (_set(1, "SCC", -1), 1, "'SCC' (scc)", "non-negative"),
    "fat_out_of_bounds": (_set(4, "Fat %", 25), 4, "'Fat %' (fat_pct)", "0.5-15 %"),
    "protein_out_of_bounds": (_set(4, "ProtPct", 0.4), 4, "'ProtPct' (protein_pct)",
                              "1-10 %"),
    "lactose_out_of_bounds": (_set(1, "Lactose", 9.1), 1, "'Lactose' (lactose_pct)", "2-7 %"),
    "non_numeric_percent": (_set(1, "Fat %", "3.9%"), 1, "'Fat %' (fat_pct)", "a number"),
    "test_before_calving": (_set(5, "TestDate", "2022-12-30"), 5, "'TestDate' (test_date)",
                            "on or after the calving date"),
    "unparsable_date": (_set(2, "TestDate", "2023-13-45"), 2, "'TestDate' (test_date)",
                        "a date"),
    "dim_over_1000": (_set(5, "TestDate", "2026-01-01"), 5, "'TestDate' (test_date)",
                      "at most 1000 days"),
    "empty_cow_id": (_set(3, "CowID", ""), 3, "'CowID' (cow)", "non-empty cow id"),
    "duplicate_test_day": (_set(2, "TestDate", "2023-03-11"), 2, "'Milk' (milk_kg)",
                           "one record per lactation and test day: lactation 'A12_2', "
                           "test date 2023-03-11 is also on data row 1"),
    "bad_parity": (_set(1, "Lact", 0), 1, "'Lact' (parity)", "whole number >= 1"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exit_2_names_row_and_column(case, tmp_path, capsys):
    change, row, column, expected = BAD[case]
    src = write_table(tmp_path / "bad.csv", DHI_HEADER, _dhi_with(change))
    assert main(["data", "import-testday", str(src), "--name", "x",
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert str(src) in err
    assert f"data row {row} (line {row + 1}), column {column}" in err, err
    assert expected in err, err
    assert not (tmp_path / "out" / "x").exists()


def test_dim_out_of_range_and_disagreeing(tmp_path):
    rows = [list(r) for r in LC_ROWS]
    rows[0][1] = -1
    rows[1][1] = 1200
    with pytest.raises(TestDayError) as info:
        read_testday(write_table(tmp_path / "t.csv", LC_HEADER, rows))
    text = str(info.value)
    assert "data row 1 (line 2), column 'DaysInMilk' (dim): expected days in milk, a " \
        "whole number from 0 to 1000; found '-1'" in text
    assert "data row 2 (line 3), column 'DaysInMilk' (dim)" in text
    # DIM and dates disagreeing by more than a day
    dhi = [r[:4] + [12] + r[4:] for r in DHI_ROWS]
    dhi[0][4] = 13  # dates say 10
    header = DHI_HEADER[:4] + ["DIM"] + DHI_HEADER[4:]
    with pytest.raises(TestDayError, match=r"data row 1 \(line 2\), column 'DIM' \(dim\): "
                       r"expected days in milk agreeing within 1 day"):
        read_testday(write_table(tmp_path / "d.csv", header, dhi))


def test_missing_required_column_lists_needed_and_found(tmp_path, capsys):
    header = [h for h in DHI_HEADER if h != "Milk"]
    rows = [[v for h, v in zip(DHI_HEADER, r) if h != "Milk"] for r in DHI_ROWS]
    src = write_table(tmp_path / "nomilk.csv", header, rows)
    assert main(["data", "import-testday", str(src), "--name", "x", "--out",
                 str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "header (line 1), column 'milk_kg': expected a 24-h milk yield column" in err
    assert "milk_kg=<column>" in err and "'CowID'" in err  # the columns found
    no_dim = write_table(tmp_path / "nodim.csv", ["CowID", "Lact", "TestDate", "Milk"],
                         [["1", "1", "2023-01-01", "20"]])
    with pytest.raises(TestDayError, match="calving_date") as info:
        read_testday(no_dim)
    assert "days-in-milk column" in str(info.value)


def test_every_problem_listed_up_to_a_cap(tmp_path):
    rows = [list(DHI_ROWS[0]) for _ in range(60)]
    for i, r in enumerate(rows):
        r[DHI_HEADER.index("TestDate")] = f"2023-0{4 + i // 28}-{1 + i % 28:02d}"
        r[DHI_HEADER.index("Fat %")] = 30
    rows[0][0] = ""
    with pytest.raises(TestDayError) as info:
        read_testday(write_table(tmp_path / "many.csv", DHI_HEADER, rows))
    err = info.value
    assert len(err.problems) == 61 and err.row == 1
    assert "61 problems" in str(err) and "... and 11 more problems" in str(err)


def test_reimport_refuses_without_force(tmp_path, capsys):
    src = write_table(tmp_path / "dhi.csv", DHI_HEADER, DHI_ROWS)
    import_testday(src, "herd", tmp_path / "root")
    directory = tmp_path / "root" / "herd"
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}
    src2 = write_table(tmp_path / "lc.csv", LC_HEADER, LC_ROWS)
    assert main(["data", "import-testday", str(src2), "--name", "herd", "--out",
                 str(tmp_path / "root")]) == 2
    err = capsys.readouterr().err
    assert "exists already" in err and "--force" in err
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}
    assert after == before
    with pytest.raises(DatasetExistsError, match="--force"):
        import_testday(src2, "herd", tmp_path / "root")
    # a bad table with --force leaves the old dataset in place too
    bad = write_table(tmp_path / "bad.csv", LC_HEADER, [LC_ROWS[0][:3] + ["x"] + LC_ROWS[0][4:]])
    with pytest.raises(TestDayError):
        import_testday(bad, "herd", tmp_path / "root", force=True)
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == \
        {k: v[0] for k, v in before.items()}
    import_testday(src2, "herd", tmp_path / "root", force=True)
    assert load_dataset(directory).provenance.source_file == "lc.csv"
    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == ["herd"]


def test_refuses_non_dataset_directory_and_bundled_names(tmp_path):
    src = write_table(tmp_path / "dhi.csv", DHI_HEADER, DHI_ROWS)
    (tmp_path / "root" / "notes").mkdir(parents=True)
    (tmp_path / "root" / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetExistsError, match="not a dataset directory"):
        import_testday(src, "notes", tmp_path / "root", force=True)
    assert (tmp_path / "root" / "notes" / "keep.txt").read_text() == "mine"
    with pytest.raises(DatasetNameError, match="bundled"):
        import_testday(src, "milkman", tmp_path / "root")
    with pytest.raises(DatasetNameError):
        import_testday(src, "../escape", tmp_path / "root")


def test_milking_frequency_per_lactation(tmp_path):
    mpd = DHI_HEADER.index("MilkingsPerDay")
    rows = [list(r) for r in DHI_ROWS]
    for r in rows[2:]:
        r[mpd] = 2  # cow B7 milked twice, A12 three times: a tie, the lower is used
    import_testday(write_table(tmp_path / "mixed.csv", DHI_HEADER, rows), "mixed", tmp_path)
    design = design_for("mixed", root=tmp_path)
    assert design.milkings_per_day == 2 and design.milking_clock_h == (5.0, 17.0)
    assert "2/day: 1 lactation, 3/day: 1 lactation" in design.assumptions
    rows[3][mpd] = 3  # a frequency change within one lactation: one value per lactation
    with pytest.raises(TestDayError, match=r"data row 4 \(line 5\), column 'MilkingsPerDay' "
                       r"\(milkings_per_day\): expected one milkings per day per lactation"):
        read_testday(write_table(tmp_path / "changes.csv", DHI_HEADER, rows))
