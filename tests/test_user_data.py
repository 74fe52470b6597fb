"""A user's own files: observation tables and feed logs, validated with every problem
listed (file, row, column), loaded as a Dataset / FeedSchedule, and `lactojax data
validate`. Fast: no fits."""

from __future__ import annotations

import warnings
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

from lactojax.cli import main
from lactojax.datasets import (
    DatasetError,
    FeedLogError,
    Problem,
    UserDataWarning,
    feed_log_problems,
    feed_log_schedule,
    load_user_dataset,
    observation_problems,
    read_feed_log,
    read_user_observations,
)
from lactojax.datasets.feedlog import (
    feed_log_subjects,
    gland_mask,
    schedule_to_log,
    write_feed_log,
)
from lactojax.datasets.provenance import render_provenance, sha256_file
from lactojax.datasets.schema import table_problems, validate
from lactojax.datasets.user import UserDataError
from lactojax.inputs import feed_schedule, milkings

from table_files import set_cell as _set, write_table as _write  # shared CSV helpers

OBS = """subject,t_start_h,t_end_h,observable,value,unit
A,72,96,milk_intake_24h,450,mL/24h
A,96,120,milk_intake_24h,520,g/24h
A,100,100,milk_sodium,12,mmol/L
A,120,144,milk_intake_24h,610,mL/24h
"""

FEEDS = """start_h,duration_min,side,by,effectiveness
0.5,10,left,infant,
0.6666666666666666,12,right,,0.8
3.1,20,both,pump,
7.3,7,,,1
"""




def _drop(text: str, column: str) -> str:
    df = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
    return df.drop(columns=[column]).to_csv(index=False, lineterminator="\n")


def _add(text: str, column: str, value: str) -> str:
    df = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
    df[column] = value
    return df.to_csv(index=False, lineterminator="\n")


def _named(problem, path, row, column, *fragments):
    """The problem names file, row (and its line), column; its text holds fragments."""
    msg = str(problem)
    assert problem.row == row, msg
    assert problem.column == column, msg
    assert str(path) in msg and "expected" in msg
    assert ("header (line 1)" if row is None else f"row {row} (line {row + 1})") in msg
    assert f"column {column!r}" in msg
    for f in fragments:
        assert f in msg, (f, msg)


def _expect_obs(path, row, column, *fragments):
    """Both the collecting function and the raising reader name the problem."""
    problems = observation_problems(path)
    hits = [p for p in problems if p.row == row and p.column == column]
    assert len(hits) == 1, problems
    _named(hits[0], path, row, column, *fragments)
    with pytest.raises(UserDataError) as info:
        read_user_observations(path)
    err = info.value
    assert isinstance(err, DatasetError) and isinstance(err, ValueError)
    assert err.problems == problems
    assert str(hits[0]) in str(err)
    return problems


def _expect_feeds(path, row, column, *fragments, **kw):
    problems = feed_log_problems(path, **kw)
    hits = [p for p in problems if p.row == row and p.column == column]
    assert len(hits) == 1, problems
    _named(hits[0], path, row, column, *fragments)
    with pytest.raises(FeedLogError) as info:
        read_feed_log(path, **kw)
    assert isinstance(info.value, ValueError)
    assert info.value.problems == problems
    assert str(hits[0]) in str(info.value)
    return problems


# --- observation tables ------------------------------------------------------------------


def test_good_user_table_fills_defaults(tmp_path):
    p = _write(tmp_path, OBS, "mother.csv")
    assert observation_problems(p) == []
    t = read_user_observations(p)
    assert len(t) == 4 and list(t["statistic"].unique()) == ["value"]
    assert t["source_row"].tolist() == [1, 2, 3, 4] and t["n"].isna().all()
    assert (t["gland"] == "").all() and (t["group"] == "").all()
    # a gz table reads the same
    assert read_user_observations(_write(tmp_path, OBS, "m.csv.gz")).equals(t)


def test_obs_missing_column(tmp_path):
    p = _write(tmp_path, _drop(OBS, "unit"), "obs.csv")
    problems = _expect_obs(p, None, "unit", "a column named 'unit'")
    assert len(problems) == 1  # rows are checked once the header is right


def test_obs_unknown_column(tmp_path):
    p = _write(tmp_path, _add(OBS, "comment", "x"), "obs.csv")
    _expect_obs(p, None, "comment", "unknown column 'comment'")


def test_obs_non_numeric_value(tmp_path):
    p = _write(tmp_path, _set(OBS, 2, "value", "lots"), "obs.csv")
    _expect_obs(p, 2, "value", "a number", "'lots'")


def test_obs_window_ends_before_it_starts(tmp_path):
    p = _write(tmp_path, _set(OBS, 4, "t_end_h", "100"), "obs.csv")
    _expect_obs(p, 4, "t_end_h", ">= t_start_h", "'100'")


def test_obs_unknown_observable(tmp_path):
    p = _write(tmp_path, _set(OBS, 3, "observable", "milk_sodum"), "obs.csv")
    problems = _expect_obs(p, 3, "observable", "a known observable", "milk_sodium")
    assert [q.column for q in problems] == ["observable"]  # its unit is not blamed too


def test_obs_unknown_unit(tmp_path):
    p = _write(tmp_path, _set(OBS, 1, "unit", "cups"), "obs.csv")
    _expect_obs(p, 1, "unit", "'mL/24h'", "found 'cups'")


def test_obs_every_bad_row_listed(tmp_path):
    text = _set(OBS, 1, "unit", "cups")
    text = _set(text, 2, "value", "lots")
    text = _set(text, 3, "observable", "milk_sodum")
    text = _set(text, 4, "t_end_h", "100")
    p = _write(tmp_path, _add(text, "comment", ""), "obs.csv")
    problems = observation_problems(p)
    assert [(q.row, q.column) for q in problems] == [
        (None, "comment"), (1, "unit"), (2, "value"), (3, "observable"), (4, "t_end_h")]
    with pytest.raises(UserDataError) as info:
        read_user_observations(p)
    lines = str(info.value).splitlines()
    assert lines == [str(q) for q in problems]
    assert info.value.row is None and info.value.column == "comment"


def test_obs_many_problems_message_is_capped(tmp_path):
    rows = "".join(f"A,{i},{i + 1},milk_intake_24h,x,mL/24h\n" for i in range(25))
    p = _write(tmp_path, OBS.splitlines()[0] + "\n" + rows, "obs.csv")
    with pytest.raises(UserDataError) as info:
        read_user_observations(p)
    assert len(info.value.problems) == 25
    lines = str(info.value).splitlines()
    assert len(lines) == 21 and lines[-1] == "... and 5 more"


def test_obs_species_glands(tmp_path):
    p = _write(tmp_path, _set(_add(OBS, "gland", ""), 2, "gland", "LF"), "obs.csv")
    assert observation_problems(p) == []  # a known gland name
    problems = observation_problems(p, species="human")
    assert [(q.row, q.column) for q in problems] == [(2, "gland")]
    assert "'left'" in str(problems[0])


def test_obs_unreadable_files(tmp_path):
    for path, found in ((tmp_path / "none.csv", "no such file"),
                        (_write(tmp_path, "", "empty.csv"), "an empty file"),
                        (tmp_path, "a directory")):
        (problem,) = observation_problems(path)
        assert problem.row is None and found in str(problem)


def test_schema_validate_unchanged_and_collecting(tmp_path):
    """One set of rules: validate raises the first problem (with its count), and
    table_problems lists every bad cell."""
    full = read_user_observations(_write(tmp_path, OBS, "obs.csv"))
    raw = pd.read_csv(pd.io.common.StringIO(full.to_csv(index=False)), dtype=str,
                      keep_default_na=False)  # every cell as text, "" for empty
    raw.loc[[0, 2], "unit"] = "cups"
    raw.loc[3, "value"] = "lots"
    with pytest.raises(DatasetError) as info:
        validate(raw, "t.csv")
    err = info.value
    assert (err.row, err.column, err.more) == (4, "value", 0)  # numbers are parsed first
    raw.loc[3, "value"] = "610"
    with pytest.raises(DatasetError) as info:
        validate(raw, "t.csv")
    assert (info.value.row, info.value.column, info.value.more) == (1, "unit", 1)
    assert "(and 1 more row with the same problem)" in str(info.value)
    raw.loc[3, "value"] = "lots"
    problems = table_problems(raw, "t.csv")
    assert [(q.row, q.column) for q in problems] == [(1, "unit"), (3, "unit"),
                                                     (4, "value")]
    assert str(problems[0]) == str(Problem("t.csv", 1, "unit", problems[0].expected,
                                           "cups"))
    assert str(problems[0]).startswith("t.csv: row 1 (line 2), column 'unit': expected ")


# --- feed logs ---------------------------------------------------------------------------


def test_good_feed_log(tmp_path):
    p = _write(tmp_path, FEEDS, "feeds.csv")
    assert feed_log_problems(p) == []
    log = read_feed_log(p)
    assert log["start_h"].tolist() == [0.5, 0.6666666666666666, 3.1, 7.3]
    assert log["by"].tolist() == ["infant", "infant", "pump", "infant"]
    assert log["is_pump"].tolist() == [0, 0, 1, 0]
    assert log["effectiveness"].tolist() == [1.0, 0.8, 1.0, 1.0]
    assert (log["end_h"] == log["start_h"] + log["duration_min"] / 60).all()
    assert feed_log_subjects(log) == [""]


def test_feed_log_sorted_by_subject_then_start(tmp_path):
    text = """subject,start_h,duration_min
b,5,10
a,9,10
b,1,10
a,2,10
"""
    log = read_feed_log(_write(tmp_path, text, "feeds.csv"))
    assert log["subject"].tolist() == ["a", "a", "b", "b"]
    assert log["start_h"].tolist() == [2, 9, 1, 5]
    assert log["source_row"].tolist() == [4, 2, 3, 1]
    with pytest.raises(ValueError, match="2 subjects"):
        feed_log_schedule(log, 2)
    s = feed_log_schedule(log, 2, subject="b")
    assert np.asarray(s.start_h).tolist() == [1, 5]


def test_feed_overlaps_the_next(tmp_path):
    # rows in any order: the later session (row 1, starts 0.6 h) is reported
    text = "start_h,duration_min,side\n0.6,10,right\n0.5,10,left\n5,10,both\n"
    p = _write(tmp_path, text, "feeds.csv")
    _expect_feeds(p, 1, "start_h", "at or after 0.666667 h", "row 2 (line 3)",
                  "may not overlap")
    # another subject's session may overlap
    text = "subject,start_h,duration_min\nA,0.5,10\nB,0.6,10\n"
    assert feed_log_problems(_write(tmp_path, text, "two.csv")) == []


def test_feed_negative_duration(tmp_path):
    p = _write(tmp_path, _set(FEEDS, 2, "duration_min", "-5"), "feeds.csv")
    _expect_feeds(p, 2, "duration_min", "positive number of minutes", "'-5'")


def test_feed_zero_duration(tmp_path):
    p = _write(tmp_path, _set(FEEDS, 3, "duration_min", "0"), "feeds.csv")
    _expect_feeds(p, 3, "duration_min", "positive number of minutes", "'0'")


def test_feed_unknown_side(tmp_path):
    p = _write(tmp_path, _set(FEEDS, 1, "side", "middle"), "feeds.csv")
    _expect_feeds(p, 1, "side", "'left'", "'both'", "'middle'")
    # cow quarters are not human sides, and human sides are not cow quarters
    p = _write(tmp_path, _set(FEEDS, 1, "side", "LF"), "cow_side.csv")
    _expect_feeds(p, 1, "side", "for a human")
    text = "start_h,duration_min,side\n12,8,LF\n24,8,all\n36,8,left\n"
    _expect_feeds(_write(tmp_path, text, "cow.csv"), 3, "side", "'RR'", "for a cow",
                  species="cow")


def test_feed_unparsable_timestamp(tmp_path):
    text = "start,duration_min\n2026-03-01T09:00,15\nyesterday,15\n2026-03-01,15\n"
    p = _write(tmp_path, text, "feeds.csv")
    problems = _expect_feeds(p, 2, "start", "ISO 8601", "'yesterday'",
                             delivery_time="2026-03-01T08:00")
    assert [(q.row, q.column) for q in problems] == [(2, "start"), (3, "start")]


def test_feed_timestamp_without_delivery_time(tmp_path):
    text = "start,duration_min\n2026-03-01T09:00,15\n2026-03-01T12:00,15\n"
    p = _write(tmp_path, text, "feeds.csv")
    problems = _expect_feeds(p, 1, "start", "delivery time", "--delivery-time")
    assert len(problems) == 1  # said once, for the whole log
    _expect_feeds(p, 1, "start", "at or after delivery",
                  delivery_time="2026-03-01T10:00")
    (bad,) = feed_log_problems(p, delivery_time="when she arrived")
    assert bad.row is None and bad.column == "delivery_time"


def test_feed_effectiveness_out_of_range(tmp_path):
    for value in ("1.5", "0", "-0.2", "high"):
        p = _write(tmp_path, _set(FEEDS, 4, "effectiveness", value), "feeds.csv")
        _expect_feeds(p, 4, "effectiveness", "(0, 1]", repr(value))


def test_feed_unknown_column_and_by(tmp_path):
    p = _write(tmp_path, _add(FEEDS, "baby_weight", "3.4"), "feeds.csv")
    _expect_feeds(p, None, "baby_weight", "unknown column 'baby_weight'")
    p = _write(tmp_path, _set(FEEDS, 2, "by", "calf"), "by.csv")
    _expect_feeds(p, 2, "by", "'infant'", "'pump'")


def test_feed_missing_columns(tmp_path):
    p = _write(tmp_path, _drop(FEEDS, "duration_min"), "feeds.csv")
    _expect_feeds(p, None, "duration_min", "a column named 'duration_min'")
    p = _write(tmp_path, _drop(FEEDS, "start_h"), "nostart.csv")
    _expect_feeds(p, None, "start_h", "exactly one of")
    p = _write(tmp_path, _add(FEEDS, "start", "2026-03-01T09:00"), "both.csv")
    _expect_feeds(p, None, "start", "exactly one of")


def test_feed_every_bad_row_listed(tmp_path):
    text = _set(FEEDS, 1, "side", "middle")
    text = _set(text, 1, "duration_min", "0")
    text = _set(text, 2, "duration_min", "-3")
    text = _set(text, 3, "effectiveness", "2")
    text = _set(text, 4, "start_h", "soon")
    problems = feed_log_problems(_write(tmp_path, text, "feeds.csv"))
    assert [(q.row, q.column) for q in problems] == [
        (1, "duration_min"), (1, "side"), (2, "duration_min"), (3, "effectiveness"),
        (4, "start_h")]


def test_gland_mask():
    assert gland_mask("left").tolist() == [1, 0]
    assert gland_mask("", "human").tolist() == [1, 1]
    assert gland_mask("RR", "cow").tolist() == [0, 0, 0, 1]
    assert gland_mask("all", "cow", 4).tolist() == [1, 1, 1, 1]
    assert gland_mask("right", "goat").tolist() == [0, 1]
    with pytest.raises(ValueError, match="unknown side"):
        gland_mask("LF", "human")


# --- feed log <-> schedule ------------------------------------------------------------------


def _leaves_equal(a, b) -> bool:
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(np.array_equal(x, y) for x, y in zip(la, lb))


def test_feed_log_schedule_is_exact(tmp_path):
    log = read_feed_log(_write(tmp_path, FEEDS, "feeds.csv"))
    s = feed_log_schedule(log, 2)
    assert np.array_equal(np.asarray(s.start_h), log["start_h"].to_numpy())
    assert np.array_equal(np.asarray(s.end_h),
                          log["start_h"].to_numpy() + log["duration_min"].to_numpy() / 60)
    assert np.asarray(s.gland_mask).tolist() == [[1, 0], [0, 1], [1, 1], [1, 1]]
    assert np.asarray(s.is_pump).tolist() == [0, 0, 1, 0]
    assert np.asarray(s.effectiveness).tolist() == [1, 0.8, 1, 1]


def test_feed_log_round_trip(tmp_path):
    log = read_feed_log(_write(tmp_path, FEEDS, "feeds.csv"))
    s = feed_log_schedule(log, 2)
    back = schedule_to_log(s)
    assert back["duration_min"].tolist() == [10, 12, 20, 7]
    assert _leaves_equal(s, feed_log_schedule(
        read_feed_log(write_feed_log(back, tmp_path / "back.csv.gz")), 2))
    # a cow's milkings and awkward floats too
    cow = milkings(20, clock_times_h=(5.0, 14.5), duration_min=7.3)
    path = write_feed_log(schedule_to_log(cow, "cow"), tmp_path / "cow.csv")
    assert _leaves_equal(cow, feed_log_schedule(read_feed_log(path, "cow"), 4,
                                                species="cow"))
    odd = feed_schedule([0.1, 1 / 3, 2.2], [0.2, 0.7, 1 / 7], [[1, 0], [0, 1], [1, 1]],
                        [1.0, 0.55, 0.9], [0, 1, 0])
    path = write_feed_log(schedule_to_log(odd), tmp_path / "odd.csv")
    assert _leaves_equal(odd, feed_log_schedule(read_feed_log(path), 2))


def test_timestamp_log_equals_hours_log(tmp_path):
    stamps = """start,duration_min,side
2026-03-01T23:10,15,left
2026-03-02T01:25,10,right
2026-03-02T06:15:30,20,both
"""
    hours = """start_h,duration_min,side
0.5,15,left
2.75,10,right
7.591666666666667,20,both
"""
    a = read_feed_log(_write(tmp_path, stamps, "stamps.csv"),
                      delivery_time="2026-03-01T22:40")
    b = read_feed_log(_write(tmp_path, hours, "hours.csv"))
    pd.testing.assert_frame_equal(a, b)
    assert _leaves_equal(feed_log_schedule(a, 2), feed_log_schedule(b, 2))


def test_schedule_to_log_rejects_unwritable_masks():
    s = feed_schedule([1.0], [0.2], [[1, 1, 0, 0]], 1.0, 1.0)
    with pytest.raises(ValueError, match="not one of the sides"):
        schedule_to_log(s, "cow")


# --- load_user_dataset ------------------------------------------------------------------------


def test_load_user_dataset_without_provenance(tmp_path):
    p = _write(tmp_path, OBS, "mother_a.csv")
    with pytest.warns(UserDataWarning, match="no PROVENANCE.md") as rec:
        ds = load_user_dataset(p)
    assert "provenance.json" in str(rec[0].message)
    assert ds.provenance.sha256 == sha256_file(p)
    assert ds.name == "mother_a" and ds.species == "human" and ds.table_path == p
    assert ds.provenance.citation == "unpublished (user data)"
    assert ds.provenance.licence == "unstated"
    assert ds.provenance.rows == 4 and ds.provenance.source_file == str(p)
    assert ds.provenance.title == f"user data: {p}"
    assert ds.subjects() == ["A"] and ds.used.all()
    # g/24h -> mL/24h in model units, as load_dataset does
    row = ds.table.iloc[1]
    assert row["unit_model"] == "mL/24h" and row["value_model"] == pytest.approx(520 / 1.032)
    # a directory holding observations.csv, named after the directory
    d = tmp_path / "clinic_7"
    d.mkdir()
    _write(d, OBS, "observations.csv")
    with pytest.warns(UserDataWarning):
        assert load_user_dataset(d, name="m7").name == "m7"
    with pytest.warns(UserDataWarning):
        assert load_user_dataset(d).name == "clinic_7"


def _provenance(d: Path, table: Path, **override) -> None:
    fields = dict(name="mother_b", title="Mother B, days 3-6", species="human",
                  table=table.name, sha256=sha256_file(table), rows="4",
                  citation="unpublished (clinic records)", licence="CC-BY-4.0",
                  source_file="records.xlsx")
    fields.update(override)
    (d / "PROVENANCE.md").write_text(render_provenance(fields, "Notes."))


def test_load_user_dataset_with_provenance(tmp_path):
    d = tmp_path / "mother_b"
    d.mkdir()
    table = _write(d, OBS, "observations.csv")
    _provenance(d, table)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_user_dataset(d)
        assert load_user_dataset(table).name == "mother_b"  # the file, next to its record
    assert ds.name == "mother_b" and ds.provenance.licence == "CC-BY-4.0"
    assert ds.provenance.sha256 == sha256_file(table)
    _provenance(d, table, rows="5")
    with pytest.raises(DatasetError, match="5 data rows"):
        load_user_dataset(d)
    _provenance(d, table, sha256="0" * 64)
    with pytest.raises(DatasetError, match="sha256"):
        load_user_dataset(d)
    _provenance(d, table, species="cow")
    with pytest.raises(DatasetError, match="species"):
        load_user_dataset(d)


def test_load_user_dataset_bad_content(tmp_path):
    p = _write(tmp_path, _set(OBS, 2, "value", "lots"), "bad.csv")
    with pytest.raises(UserDataError) as info:
        load_user_dataset(p)
    assert info.value.row == 2 and info.value.column == "value"
    with pytest.raises(DatasetError, match="no such file"):
        load_user_dataset(tmp_path / "missing.csv")


# --- lactojax data validate -----------------------------------------------------------------


def test_cli_validate_good_files(tmp_path, capsys):
    obs = _write(tmp_path, OBS, "obs.csv")
    assert main(["data", "validate", str(obs)]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1
    assert "observation table OK: 4 rows" in out and "1 subject (A)" in out
    assert "milk_intake_24h 3" in out and "72-144 h" in out
    feeds = _write(tmp_path, FEEDS, "feeds.csv")
    assert main(["data", "validate", str(feeds)]) == 0
    out = capsys.readouterr().out.strip()
    assert "feed log OK: 4 sessions (1 pump" in out and "0.5-7.41667 h" in out
    stamps = _write(tmp_path, "start,duration_min\n2026-03-02T06:15,20\n", "s.csv")
    assert main(["data", "validate", str(stamps), "--kind", "feeds",
                 "--delivery-time", "2026-03-02T06:00"]) == 0
    assert "0.25-0.583333 h" in capsys.readouterr().out
    cow = _write(tmp_path, "start_h,duration_min,side\n12,8,LF\n24,8,\n", "cow.csv")
    assert main(["data", "validate", str(cow), "--species", "cow"]) == 0


def test_cli_validate_bad_files(tmp_path, capsys):
    text = _set(_set(OBS, 1, "unit", "cups"), 3, "observable", "milk_sodum")
    obs = _write(tmp_path, text, "obs.csv")
    assert main(["data", "validate", str(obs)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [str(q) for q in observation_problems(obs)] + [
        f"2 problems in {obs} (checked as an observation table)"]
    assert "row 1 (line 2), column 'unit'" in out[0]
    assert "row 3 (line 4), column 'observable'" in out[1]

    text = _set(_set(FEEDS, 2, "duration_min", "0"), 4, "side", "middle")
    feeds = _write(tmp_path, text, "feeds.csv")
    assert main(["data", "validate", str(feeds)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and "3 problems" not in out[-1] and "2 problems" in out[-1]
    assert "row 2 (line 3), column 'duration_min'" in out[0]
    assert "row 4 (line 5), column 'side'" in out[1]

    stamps = _write(tmp_path, "start,duration_min\n2026-03-02T06:15,20\n", "s.csv")
    assert main(["data", "validate", str(stamps)]) == 2
    assert "--delivery-time" in capsys.readouterr().out


def test_cli_validate_missing_file(tmp_path, capsys):
    assert main(["data", "validate", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "lactojax data: error:" in err and "no such file" in err
    assert main(["data", "validate", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    empty = _write(tmp_path, "", "empty.csv")
    assert main(["data", "validate", str(empty)]) == 2
    assert "an empty file" in capsys.readouterr().out


def test_rows_with_wrong_field_count_and_bom(tmp_path):
    # pandas would read "1,10,5" under a 2-column header as index 1: never silently
    p = _write(tmp_path, "start_h,duration_min\n0.5,10\n1,10,5\n", "extra.csv")
    (problem,) = feed_log_problems(p)
    _named(problem, p, 2, "(row)", "2 fields, as in the header", "'3 fields'")
    p = _write(tmp_path, OBS.replace("A,96,120,milk_intake_24h,520,g/24h",
                                     "A,96,120,milk_intake_24h,520"), "fewer.csv")
    problems = observation_problems(p)
    assert [(q.row, q.column) for q in problems] == [(2, "(row)"), (2, "unit")]
    # a spreadsheet's UTF-8 byte order mark is not part of the first column's name
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + FEEDS.encode())
    assert feed_log_problems(p) == []


def test_user_dataset_named_after_its_directory(tmp_path):
    d = tmp_path / "mother_c"
    d.mkdir()
    table = _write(d, OBS, "observations.csv")
    with pytest.warns(UserDataWarning):
        assert load_user_dataset(table).name == "mother_c"


def test_obs_fractional_count_is_named_not_a_crash(tmp_path, capsys):
    """Found by tests/test_fuzz.py: n = 1.5 (or source_row 2.5) was reported as 'an
    integer' and then crashed building the Int64 column (TypeError traceback)."""
    text = _add(OBS, "n", "")
    text = _set(text, 2, "n", "1.5")
    path = _write(tmp_path, _add(text, "source_row", "2.5"))
    problems = observation_problems(path)
    assert [(p.row, p.column) for p in problems if p.column == "n"] == [(2, "n")]
    assert [p.row for p in problems if p.column == "source_row"] == [1, 2, 3, 4]
    _named(next(p for p in problems if p.column == "n"), path, 2, "n", "an integer", "1.5")
    assert main(["data", "validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}: row 2 (line 3), column 'n': expected an integer; found '1.5'" in out
