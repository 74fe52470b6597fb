"""Fuzzed bad input (hypothesis): observation tables, feed logs, fit configurations and
`lactojax simulate` options. Each example starts from a VALID input and applies one mutation
that makes it invalid; the command must end with exit status 2 and a message naming the
file and the row and column (tables), the dotted key (configurations) or the option, never
a traceback and never a silent drop. A mutation that may leave the input valid is not used.

Every case is refused before any simulation or fit: `_refused_before_work` replaces the
simulator, the posterior predictive and the fit's problem builder with functions that fail
the test, so an input that slips through is reported at once (and stays fast).

The default suite runs each test with the "lactojax" hypothesis profile (bounded examples,
tests/conftest.py); the `slow` copies at the end run the same bodies with the "fuzz-long"
profile (`make test-slow`, or `pytest -m slow tests/test_fuzz.py`).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lactojax.cli import main
from lactojax.datasets import units
from lactojax.datasets.feedlog import REMOVERS, SIDES
from lactojax.datasets.schema import COLUMN_NAMES, FLAGS, GLANDS, STATISTICS, where
from lactojax.datasets.vocabulary import OBSERVABLE_NAMES

pytestmark = pytest.mark.xdist_group("cli_simulate")

LONG = settings.get_profile("fuzz-long")


# --- running a command ------------------------------------------------------------------


class ReachedWork(AssertionError):
    """A bad input got past the checks to a simulation or a fit."""


@contextlib.contextmanager
def _refused_before_work():
    import lactojax.inference.adapter as adapter
    import lactojax.inference.predictive as predictive

    def reached(what):
        def fail(*args, **kwargs):
            raise ReachedWork(f"{what} was reached: the bad input was not refused first")
        return fail

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys.modules["lactojax.simulate"], "simulate", reached("simulate"))
        mp.setattr(predictive, "simulate", reached("simulate (posterior predictive)"))
        mp.setattr(adapter, "problem_from_config", reached("problem_from_config (the fit)"))
        yield


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `lactojax ARGV` run in process (argparse's exits
    included). Any other exception propagates: a crash fails the test."""
    capsys.readouterr()
    with _refused_before_work():
        try:
            rc = main(argv)
        except SystemExit as exc:
            rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def _refused(argv, capsys) -> tuple[str, str]:
    rc, out, err = _run(argv, capsys)
    assert rc == 2, (argv, rc, out, err)
    assert "Traceback" not in out + err, err
    return out, err


@contextlib.contextmanager
def _scratch(tmp_path):
    """A fresh directory per hypothesis example (tmp_path is shared by the examples)."""
    with tempfile.TemporaryDirectory(dir=tmp_path) as d:
        yield Path(d)


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Cell text that is never a finite number (nor empty): words, NaN / inf spellings, numbers
# too large for a float, decimal commas, hex.
NOT_A_NUMBER = st.one_of(
    st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e999", "1,5", "0x10",
                     "12 mL", "--1", "1..2", "n/a", "NULL", "none", "~"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
            min_size=1, max_size=12).filter(lambda s: s.strip() and not _is_number(s.strip())),
)
WORD = st.text(st.characters(codec="ascii", categories=("Ll", "Lu", "Nd"), include_characters="_-"),
               min_size=1, max_size=12)


def _problem_line(out: str, path, row, column) -> str:
    """The line of `data validate` naming this file, row and column (fails if none)."""
    prefix = f"{path}: {where(row)}, column {column!r}: expected "
    hits = [line for line in out.splitlines() if line.startswith(prefix)]
    assert hits, (prefix, out)
    return hits[0]


def _check_validate(out: str, err: str, path, row, column) -> None:
    _problem_line(out, path, row, column)
    n = sum(line.startswith(f"{path}: ") for line in out.splitlines())
    assert f"{n} problem{'s' if n != 1 else ''} in {path}" in out, out
    assert err == "" or str(path) in err


# --- observation tables -----------------------------------------------------------------

# observable -> (window length h, a unit, a typical value); gland: per-feed rows only.
OBSERVABLES = {
    "milk_intake_24h": (24.0, "mL/24h", "450"),
    "milk_production_24h": (24.0, "g/24h", "520"),
    "milk_sodium": (0.0, "mmol/L", "12"),
    "milk_lactose": (0.0, "g/L", "62"),
    "milk_removed_per_feed": (0.25, "mL", "18.8"),
}
OPTIONAL = ("subject", "group", "gland", "statistic", "note", "flag", "source_row")


@st.composite
def observation_tables(draw, species: str = "human"):
    """(header, rows) of a valid user observation table: the required columns and some
    optional ones, in any order, 1-8 rows with distinct times."""
    n = draw(st.integers(1, 8))
    starts = draw(st.lists(st.integers(0, 4000), min_size=n, max_size=n, unique=True))
    extra = draw(st.lists(st.sampled_from(OPTIONAL), unique=True, max_size=4))
    header = ["t_start_h", "t_end_h", "observable", "value", "unit", *extra]
    header = draw(st.permutations(header))
    glands = [g for g in GLANDS if g] if species is None else \
        {"human": ["left", "right"], "goat": ["left", "right"], "cow": ["LF", "RF", "LR", "RR"]}[species]
    rows = []
    for t0 in starts:
        obs = draw(st.sampled_from(sorted(OBSERVABLES)))
        span, unit, value = OBSERVABLES[obs]
        cells = {"t_start_h": f"{t0 / 2:g}", "t_end_h": f"{t0 / 2 + span:g}", "observable": obs,
                 "value": value, "unit": unit, "subject": "M01", "group": "", "statistic": "value",
                 "gland": draw(st.sampled_from(["", *glands])) if obs == "milk_removed_per_feed" else "",
                 "note": draw(st.sampled_from(["", "test weighing", 'a "quoted", note'])), "flag": "",
                 "source_row": ""}
        rows.append([cells[c] for c in header])
    return header, rows


def _col(header, name):
    return header.index(name)


@st.composite
def bad_observation_files(draw):
    """(content (str or bytes), file name, expected row, expected column, extra argv)."""
    header, rows = draw(observation_tables())
    kind = draw(st.sampled_from([
        "drop_required", "unknown_column", "repeated_column", "bad_number", "empty_value", "negative",
        "unit_of_another", "unknown_unit", "unknown_observable", "bad_gland", "other_species_gland",
        "end_before_start", "bad_statistic", "bad_flag", "field_count", "duplicate_row", "bad_count",
        "empty_file", "header_only", "binary", "latin1", "not_gzip"]))
    name, argv = "obs.csv", []
    r = draw(st.integers(0, len(rows) - 1))
    row = r + 1

    def cell(column, value):
        rows[r][_col(header, column)] = value

    def has(column):
        return column in header

    if kind == "drop_required":
        column = draw(st.sampled_from(["t_start_h", "t_end_h", "observable", "value", "unit"]))
        i = _col(header, column)
        header, rows = header[:i] + header[i + 1:], [x[:i] + x[i + 1:] for x in rows]
        return _csv(header, rows), name, None, column, argv
    if kind == "unknown_column":
        column = draw(WORD.filter(lambda s: s not in COLUMN_NAMES))
        header = header + [column]
        rows = [x + [draw(st.sampled_from(["", "1", "x"]))] for x in rows]
        return _csv(header, rows), name, None, column, argv
    if kind == "repeated_column":
        column = draw(st.sampled_from(header))
        i = _col(header, column)
        header, rows = header + [column], [x + [x[i]] for x in rows]
        return _csv(header, rows), name, None, column, argv
    if kind == "bad_number":
        column = draw(st.sampled_from(["t_start_h", "t_end_h", "value"]))
        cell(column, draw(NOT_A_NUMBER))
    elif kind == "empty_value":
        column = "value"
        cell(column, "")
    elif kind == "negative":
        column = "value"
        cell(column, "-" + rows[r][_col(header, "value")])
    elif kind in ("unit_of_another", "unknown_unit"):
        column = "unit"
        obs = rows[r][_col(header, "observable")]
        ok = units.accepted_units(obs)
        pool = sorted(set().union(*(units.accepted_units(o) for o in OBSERVABLES)) - set(ok))
        cell(column, draw(st.sampled_from(pool) if kind == "unit_of_another" else
                          WORD.filter(lambda s: s not in ok)))
    elif kind == "unknown_observable":
        column = "observable"
        cell(column, draw(WORD.filter(lambda s: s not in OBSERVABLE_NAMES)))
    elif kind in ("bad_gland", "other_species_gland") and has("gland"):
        column = "gland"
        if kind == "bad_gland":
            cell(column, draw(WORD.filter(lambda s: s not in GLANDS)))
        else:  # a cow's quarter in a human table, checked with --species human
            cell(column, draw(st.sampled_from(["LF", "RF", "LR", "RR"])))
            argv = ["--species", "human"]
    elif kind == "bad_statistic" and has("statistic"):
        column = "statistic"
        cell(column, draw(WORD.filter(lambda s: s not in STATISTICS)))
    elif kind == "bad_flag" and has("flag"):
        column = "flag"
        cell(column, draw(WORD.filter(lambda s: s not in FLAGS)))
    elif kind == "bad_count":
        column = "n" if not has("n") else "n"
        header, rows = header + ["n"], [x + [""] for x in rows]
        cell("n", draw(st.sampled_from(["0", "-1", "1.5", "2", "many", "nan"])))
    elif kind == "field_count":
        column = "(row)"
        rows[r] = rows[r] + ["extra"] if draw(st.booleans()) else rows[r][:-1]
    elif kind == "duplicate_row":
        rows.insert(r + 1, list(rows[r]))
        row, column = r + 2, None  # the copy repeats the row above it; any column
    elif kind == "empty_file":
        return draw(st.sampled_from(["", "\n", "\n\n", b"\xef\xbb\xbf"])), name, None, "(file)", argv
    elif kind == "header_only":
        return _csv(header, []), name, None, "(file)", argv
    elif kind == "binary":
        junk = b"\xff\xfe\x00\x81" + draw(st.binary(max_size=64))
        return junk, name, None, "(file)", argv
    elif kind == "latin1":
        cell("note", "café") if has("note") else None
        text = _csv(header, rows).replace("M01", "Müller") if has("subject") else \
            _csv(header, rows) + "é"
        return text.encode("latin-1"), name, None, "(file)", argv
    elif kind == "not_gzip":
        return _csv(header, rows), "obs.csv.gz", None, "(file)", argv
    else:  # the optional column the mutation needs is absent: corrupt the value instead
        column = "value"
        cell(column, draw(NOT_A_NUMBER))
    if kind == "end_before_start":
        obs = rows[r][_col(header, "observable")]
        if OBSERVABLES[obs][0] == 0:  # a point in time: move the end before it
            cell("t_end_h", f"{float(rows[r][_col(header, 't_start_h')]) - 1:g}")
        else:
            i, j = _col(header, "t_start_h"), _col(header, "t_end_h")
            rows[r][i], rows[r][j] = rows[r][j], rows[r][i]
        column = "t_end_h"
    return _csv(header, rows), name, row, column, argv


def _write(directory: Path, name: str, content) -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _check_bad_observations(tmp_path, capsys, case):
    content, name, row, column, argv = case
    with _scratch(tmp_path) as d:
        path = _write(d, name, content)
        out, err = _refused(["data", "validate", str(path), "--kind", "observations", *argv], capsys)
        if column is None:  # a repeated row: named by its row
            assert any(line.startswith(f"{path}: {where(row)}, column ") for line in out.splitlines()), out
            _check_validate(out, err, path, row, out.split(f"{where(row)}, column ")[1].split("'")[1])
        else:
            _check_validate(out, err, path, row, column)


@given(case=bad_observation_files())
def test_fuzz_bad_observation_table_is_named(tmp_path, capsys, case):
    _check_bad_observations(tmp_path, capsys, case)


def _check_good_observations(tmp_path, capsys, table, gz):
    header, rows = table
    with _scratch(tmp_path) as d:
        path = d / ("obs.csv.gz" if gz else "obs.csv")
        text = _csv(header, rows)
        path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
        rc, out, err = _run(["data", "validate", str(path)], capsys)
        assert rc == 0, out + err
        assert f"{path}: observation table OK: {len(rows)} rows," in out  # no row dropped


@given(table=observation_tables(), gz=st.booleans())
def test_fuzz_valid_observation_table_keeps_every_row(tmp_path, capsys, table, gz):
    _check_good_observations(tmp_path, capsys, table, gz)


# --- feed logs --------------------------------------------------------------------------

DELIVERY = "2026-03-01T04:30"


def _stamp(hours: float) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(DELIVERY) + timedelta(hours=hours)).isoformat(timespec="seconds")


@st.composite
def feed_logs(draw, species: str | None = None):
    """(species, header, rows, start times h, durations min) of a valid feed log: sessions
    of one subject that never overlap, in any row order; times in hours or as timestamps."""
    species = species or draw(st.sampled_from(["human", "cow", "goat"]))
    n = draw(st.integers(1, 8))
    gaps = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n))  # minutes between sessions
    durations = draw(st.lists(st.integers(1, 30), min_size=n, max_size=n))
    starts, t = [], 30
    for gap, dur in zip(gaps, durations):
        starts.append(t / 60)
        t += dur + gap  # the next starts after this one ends
    stamped = draw(st.booleans())
    extra = draw(st.lists(st.sampled_from(["side", "by", "effectiveness", "subject"]), unique=True, max_size=4))
    header = draw(st.permutations(["start" if stamped else "start_h", "duration_min", *extra]))
    sides = [s for s in SIDES[species]] + [""]
    order = draw(st.permutations(range(n)))
    rows = []
    for i in order:
        cells = {"start_h": f"{starts[i]!r}", "start": _stamp(starts[i]), "duration_min": str(durations[i]),
                 "side": draw(st.sampled_from(sides)), "by": draw(st.sampled_from(["", *REMOVERS[species]])),
                 "effectiveness": draw(st.sampled_from(["", "1", "0.5", "0.05"])), "subject": "M01"}
        rows.append([cells[c] for c in header])
    return species, header, rows, [starts[i] for i in order], [durations[i] for i in order]


@st.composite
def bad_feed_logs(draw):
    """(content, file name, species, expected row, expected column, extra argv)."""
    species, header, rows, starts, durations = draw(feed_logs())
    time_col = "start" if "start" in header else "start_h"
    argv = ["--delivery-time", DELIVERY] if time_col == "start" else []
    kind = draw(st.sampled_from([
        "drop_duration", "drop_time", "both_times", "unknown_column", "repeated_column", "bad_duration",
        "bad_start", "bad_side", "other_species_side", "bad_by", "bad_effectiveness", "overlap",
        "no_delivery_time", "bad_delivery_time", "before_delivery", "date_only", "field_count",
        "empty_file", "header_only", "binary", "not_gzip"]))
    name = "feeds.csv"
    r = draw(st.integers(0, len(rows) - 1))
    row = r + 1

    def cell(column, value):
        rows[r][header.index(column)] = value

    def drop(column):
        i = header.index(column)
        return header[:i] + header[i + 1:], [x[:i] + x[i + 1:] for x in rows]

    if kind == "drop_duration":
        h, rs = drop("duration_min")
        return _csv(h, rs), name, species, None, "duration_min", argv
    if kind == "drop_time":
        h, rs = drop(time_col)
        return _csv(h, rs), name, species, None, "start_h", argv
    if kind == "both_times":
        other = "start_h" if time_col == "start" else "start"
        rs = [x + ["1.0" if other == "start_h" else _stamp(1.0)] for x in rows]
        return _csv(header + [other], rs), name, species, None, "start", argv
    if kind == "unknown_column":
        column = draw(WORD.filter(lambda s: s not in ("subject", "start_h", "start", "duration_min", "side", "by",
                                                      "effectiveness")))
        return _csv(header + [column], [x + ["1"] for x in rows]), name, species, None, column, argv
    if kind == "repeated_column":
        column = draw(st.sampled_from(header))
        i = header.index(column)
        return _csv(header + [column], [x + [x[i]] for x in rows]), name, species, None, column, argv
    if kind == "empty_file":
        return draw(st.sampled_from(["", "\n", b"\xef\xbb\xbf"])), name, species, None, "(file)", argv
    if kind == "header_only":
        return _csv(header, []), name, species, None, "(file)", argv
    if kind == "binary":
        return b"\x80\xff\x00" + draw(st.binary(max_size=64)), name, species, None, "(file)", argv
    if kind == "not_gzip":
        return _csv(header, rows), "feeds.csv.gz", species, None, "(file)", argv
    if kind == "bad_delivery_time" and time_col == "start":
        argv = ["--delivery-time", draw(st.sampled_from(["2026-03-01", "yesterday", "2026-13-01T00:00", "",
                                                         "04:30"]))]
        return _csv(header, rows), name, species, None, "delivery_time", argv

    if kind == "bad_duration":
        column = "duration_min"
        cell(column, draw(st.one_of(NOT_A_NUMBER, st.sampled_from(["0", "-5", "-0.0", ""]))))
    elif kind == "bad_start" and time_col == "start_h":
        column = "start_h"
        cell(column, draw(st.one_of(NOT_A_NUMBER, st.sampled_from(["-1", "-0.001", ""]))))
    elif kind in ("bad_start", "date_only") and time_col == "start":
        column = "start"
        cell(column, draw(st.sampled_from(["2026-03-02", "20260302", "tomorrow", "2026-03-02T25:00", "", "nan"])))
    elif kind == "before_delivery":
        column = time_col
        cell(column, _stamp(-1.0) if time_col == "start" else "-1")
    elif kind in ("bad_side", "other_species_side") and "side" in header:
        column = "side"
        ok = list(SIDES[species]) + [""]
        if kind == "bad_side":
            cell(column, draw(WORD.filter(lambda s: s not in ok)))
        else:  # another species' side word
            cell(column, draw(st.sampled_from(sorted({w for s in SIDES.values() for w in s} - set(ok)))))
    elif kind == "bad_by" and "by" in header:
        column = "by"
        cell(column, draw(WORD.filter(lambda s: s not in REMOVERS[species])))
    elif kind == "bad_effectiveness" and "effectiveness" in header:
        column = "effectiveness"
        cell(column, draw(st.one_of(NOT_A_NUMBER, st.sampled_from(["0", "-0.5", "1.0001", "2", "-0"]))))
    elif kind == "overlap" and len(rows) > 1:
        # start one session inside another (in time order), reported on the later row
        k = sorted(range(len(rows)), key=lambda i: starts[i])
        j = draw(st.integers(1, len(rows) - 1))
        prev, cur = k[j - 1], k[j]
        inside = starts[prev] + durations[prev] / 60 / 2
        r, row, column = cur, cur + 1, time_col
        cell(column, _stamp(inside) if time_col == "start" else repr(inside))
    elif kind == "no_delivery_time" and time_col == "start":
        argv, column = [], "start"
        row = 1  # reported once, on the first row
    elif kind == "field_count":
        column = "(row)"
        rows[r] = rows[r] + ["x"] if draw(st.booleans()) else rows[r][:-1]
    else:  # the column the mutation needs is absent: a bad duration instead
        column = "duration_min"
        cell(column, draw(NOT_A_NUMBER))
    return _csv(header, rows), name, species, row, column, argv


def _check_bad_feeds(tmp_path, capsys, case, command):
    content, name, species, row, column, argv = case
    with _scratch(tmp_path) as d:
        path = _write(d, name, content)
        if command == "validate":
            out, err = _refused(["data", "validate", str(path), "--kind", "feeds", "--species", species, *argv],
                                capsys)
            _check_validate(out, err, path, row, column)
        else:  # the log given to simulate: the same problem on stderr, nothing written
            csv_out = d / "sim.csv"
            out, err = _refused(["simulate", "--species", species, "--days", "1", "--feed-log", str(path),
                                 "--out", str(csv_out), *argv], capsys)
            prefix = f"{path}: {where(row)}, column {column!r}: expected "
            assert prefix in err, (prefix, err)
            assert not csv_out.exists()


@given(case=bad_feed_logs(), command=st.sampled_from(["validate", "simulate"]))
def test_fuzz_bad_feed_log_is_named(tmp_path, capsys, case, command):
    _check_bad_feeds(tmp_path, capsys, case, command)


def _check_good_feeds(tmp_path, capsys, log):
    species, header, rows, starts, durations = log
    with _scratch(tmp_path) as d:
        path = _write(d, "feeds.csv", _csv(header, rows))
        argv = ["--delivery-time", DELIVERY] if "start" in header else []
        rc, out, err = _run(["data", "validate", str(path), "--species", species, *argv], capsys)
        assert rc == 0, out + err
        assert f"{path}: feed log OK: {len(rows)} sessions" in out  # no session dropped
        assert f"{sum(durations):g} min of removal" in out


@given(log=feed_logs())
def test_fuzz_valid_feed_log_keeps_every_session(tmp_path, capsys, log):
    _check_good_feeds(tmp_path, capsys, log)


# --- fit configurations -----------------------------------------------------------------

BASE_CONFIG = {
    "fit": {"datasets": ["saint1984"], "horizon_days": 3, "method": "map"},
    "parameters": {"estimate": ["lactose_vmax_mmol_h"]},
    "map": {"starts": 2, "steps": 5},
}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(v, "nan" if v != v else repr(v))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, str):
        import json

        return json.dumps(v)
    return str(v)  # int, or raw TOML text (a date)


class Raw(str):
    """TOML written as is (a date, an inline table of raw text)."""


def _toml_key(k: str) -> str:
    import re

    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_value(str(k))


def _toml(cfg: dict) -> str:
    lines = []
    for name, body in cfg.items():
        if not isinstance(body, dict):
            lines.insert(0, f"{_toml_key(name)} = {body if isinstance(body, Raw) else _toml_value(body)}")
            continue
        lines.append(f"[{_toml_key(name)}]")
        for k, v in body.items():
            lines.append(f"{_toml_key(k)} = {v if isinstance(v, Raw) else _toml_value(v)}")
    return "\n".join(lines) + "\n"


def _sections():
    from lactojax.inference.config import FitConfig

    return FitConfig.sections()


# (section, key) -> kind of value, for the keys mutated with a wrong type or a bad number
FLOAT_KEYS = {("fit", "horizon_days"): (0, 1096), ("design", "feeds_per_day"): (0, None),
              ("design", "feed_duration_min"): (0, None), ("map", "learning_rate"): (0, None),
              ("nuts", "target_accept"): (0, 1), ("svi", "learning_rate"): (0, None),
              ("solver", "rtol"): (0, 1), ("solver", "atol"): (0, None), ("solver", "max_step_h"): (0, None),
              ("solver", "save_every_h"): (0, None), ("hierarchical", "tau_scale"): (0, None),
              ("hierarchical", "offset_scale"): (0, None), ("solver", "startup_step_h"): (0, None),
              ("solver", "session_growth"): (0, None)}
INT_KEYS = {("fit", "seed"): 0, ("map", "starts"): 1, ("map", "steps"): 1, ("map", "screen"): 0,
            ("nuts", "chains"): 1, ("nuts", "warmup"): 0, ("nuts", "draws"): 1, ("nuts", "max_tree_depth"): 1,
            ("svi", "steps"): 1, ("svi", "draws"): 1, ("svi", "rank"): 1, ("solver", "max_steps"): 100,
            ("solver", "session_steps"): 1, ("outputs", "predictive_draws"): 1, ("design", "n_glands"): 1,
            ("hierarchical", "forecast_days"): 1, ("hierarchical", "predictive_draws"): 1}
STR_KEYS = {("fit", "name"), ("fit", "description"), ("design", "subject")}
BOOL_KEYS = {("map", "hessian"), ("nuts", "dense_mass"), ("design", "both_sides"), ("design", "night_feeds")}
CHOICE_KEYS = {("fit", "method"), ("fit", "model"), ("fit", "species"), ("solver", "method"), ("solver", "solver"),
               ("solver", "gradient"), ("svi", "guide"), ("nuts", "chain_method")}
DATE = Raw("1979-05-27T07:32:00")


def _wrong_type(draw, kind: str):
    other = {"float": [Raw('"1.5"'), True, [1.0], {"a": 1}, DATE],
             "int": [2.5, Raw('"3"'), True, [1], {"a": 1}, DATE, 3.0],
             "str": [1, 2.5, True, ["x"], {"a": "x"}, DATE],
             "bool": [1, 0, Raw('"true"'), ["true"], 1.0]}
    return draw(st.sampled_from(other[kind]))


@st.composite
def bad_configs(draw):
    """(TOML text or bytes, the dotted key or fragment the message must hold)."""
    import copy

    from lactojax.datasets import list_datasets
    from lactojax.parameters import PARAMETERS, species_spec

    cfg = copy.deepcopy(BASE_CONFIG)
    kind = draw(st.sampled_from(["unknown_key", "unknown_section", "wrong_type", "out_of_range", "non_finite",
                                 "unknown_dataset", "unknown_parameter", "fixed_out_of_bounds", "choice",
                                 "syntax", "binary", "section_not_table", "missing_section", "missing_key",
                                 "repeated_entry", "missing_data_file"]))
    if kind == "unknown_key":
        section = draw(st.sampled_from(sorted(_sections())))
        keys = _sections()[section].keys()
        key = draw(WORD.filter(lambda s: s not in keys))
        cfg.setdefault(section, {})[key] = draw(st.sampled_from([1, "x", True, 2.5]))
        return _toml(cfg), f"[{section}.{key}]"
    if kind == "unknown_section":
        name = draw(WORD.filter(lambda s: s not in _sections() and s != "source"))
        cfg[name] = {"a": 1}
        return _toml(cfg), f"[{name}]"
    if kind == "wrong_type":
        pool = [(k, "float") for k in FLOAT_KEYS] + [(k, "int") for k in INT_KEYS] + \
            [(k, "str") for k in STR_KEYS] + [(k, "bool") for k in BOOL_KEYS] + \
            [(k, "str") for k in CHOICE_KEYS]
        (section, key), t = draw(st.sampled_from(pool))
        cfg.setdefault(section, {})[key] = _wrong_type(draw, t)
        return _toml(cfg), f"[{section}.{key}]"
    if kind in ("out_of_range", "non_finite"):
        if kind == "non_finite":
            section, key = draw(st.sampled_from(sorted(FLOAT_KEYS)))
            value = draw(st.sampled_from([float("nan"), float("inf"), float("-inf")]))
        elif draw(st.booleans()):
            section, key = draw(st.sampled_from(sorted(INT_KEYS)))
            value = INT_KEYS[(section, key)] - draw(st.integers(1, 10**6))
        else:
            (section, key), (lo, hi) = draw(st.sampled_from(sorted(FLOAT_KEYS.items())))
            below = lo - draw(st.floats(0, 1e6))
            value = below if hi is None or draw(st.booleans()) else hi + draw(st.floats(1e-3, 1e6))
        cfg.setdefault(section, {})[key] = value
        return _toml(cfg), f"[{section}.{key}]"
    if kind == "choice":
        section, key = draw(st.sampled_from(sorted(CHOICE_KEYS)))
        from lactojax.inference.config import FitConfig

        allowed = FitConfig.sections()[section].json_schema()["properties"][key]["enum"]
        cfg.setdefault(section, {})[key] = draw(WORD.filter(lambda s: s not in allowed))
        return _toml(cfg), f"[{section}.{key}]"
    if kind == "unknown_dataset":
        name = draw(WORD.filter(lambda s: s not in list_datasets() and not s.lower().endswith((".csv", ".csv.gz"))))
        cfg["fit"]["datasets"] = ["saint1984", name]
        return _toml(cfg), "[fit.datasets]"
    if kind == "missing_data_file":
        cfg["fit"]["datasets"] = [draw(st.sampled_from(["my_data.csv", "./nowhere", "mother/observations.csv.gz"]))]
        return _toml(cfg), "[fit.datasets]"
    if kind == "unknown_parameter":
        name = draw(WORD.filter(lambda s: s not in PARAMETERS))
        where_ = draw(st.sampled_from(["estimate", "fixed", "prior"]))
        if where_ == "estimate":
            cfg["parameters"]["estimate"] = ["lactose_vmax_mmol_h", name]
        elif where_ == "fixed":
            cfg["parameters"]["fixed"] = {name: 1.0}
        else:
            cfg["parameters"]["prior"] = {name: {"scale": 0.5}}
        return _toml(cfg), f"[parameters.{where_}"
    if kind == "fixed_out_of_bounds":
        name = draw(st.sampled_from(sorted(set(PARAMETERS) - {"lactose_vmax_mmol_h"})))
        spec = species_spec(name, "human")
        value = spec.upper + abs(spec.upper) + 1 if draw(st.booleans()) else spec.lower - abs(spec.lower) - 1
        cfg["parameters"]["fixed"] = {name: float(value)}
        return _toml(cfg), f"[parameters.fixed.{name}]"
    if kind == "repeated_entry":
        cfg["parameters"]["estimate"] = ["lactose_vmax_mmol_h", "lactose_vmax_mmol_h"]
        return _toml(cfg), "[parameters.estimate]"
    if kind == "section_not_table":
        section = draw(st.sampled_from(sorted(_sections())))
        cfg[section] = draw(st.sampled_from([3, "x", True, [1, 2]]))
        return _toml(cfg), f"[{section}]"
    if kind == "missing_section":
        section = draw(st.sampled_from(["fit", "parameters"]))
        del cfg[section]
        return _toml(cfg), f"[{section}]"
    if kind == "missing_key":
        section, key = draw(st.sampled_from([("fit", "datasets"), ("parameters", "estimate")]))
        del cfg[section][key]
        return _toml(cfg), f"[{section}.{key}]"
    if kind == "binary":
        return b"\xff\xfe\x00" + draw(st.binary(max_size=64)), "TOML"
    # syntax: a line that no TOML parser accepts, somewhere in a valid file
    text = _toml(cfg).splitlines()
    bad = draw(st.sampled_from(["method = ", "[fit", "= 3", 'name = "unterminated', "steps = 1 2",
                                "[map]\nsteps = 5", "x = [1, 2", "a.b.c", "key = 'it''s'"]))
    at = draw(st.integers(0, len(text)))
    return "\n".join(text[:at] + [bad] + text[at:]) + "\n", "not valid TOML"


def _check_bad_config(tmp_path, capsys, case, command):
    content, fragment = case
    with _scratch(tmp_path) as d:
        path = _write(d, "bad.toml", content)
        if command == "show":
            out, err = _refused(["config", "show", str(path)], capsys)
        else:
            out, err = _refused(["fit", str(path), "--out", str(d / "out"), "--quiet"], capsys)
            assert not (d / "out").exists()
        assert f"{path}: " in err, err
        assert fragment in err, (fragment, err)


@given(case=bad_configs(), command=st.sampled_from(["show", "fit"]))
def test_fuzz_bad_fit_config_is_named(tmp_path, capsys, case, command):
    _check_bad_config(tmp_path, capsys, case, command)


# --- `lactojax simulate` options ---------------------------------------------------------

NON_POSITIVE = ["0", "-1", "-0.5", "-1e9", "nan", "-inf", "inf"]


def _simulate_options() -> list[str]:
    from lactojax.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices["simulate"]
    return [o for a in sub._actions for o in a.option_strings]


@st.composite
def bad_simulate_args(draw):
    """(argv after `simulate`, fragment the message must hold)."""
    base = ["--days", "1"]
    kind = draw(st.sampled_from(["days", "feeds_per_day", "feed_minutes", "glands", "tolerance", "share",
                                 "from_day", "feeds_by_age", "choice", "unknown_option", "param", "cow_milkings",
                                 "clash", "posterior_param", "posterior_draws", "not_a_number", "posterior_file",
                                 "dairy_only_human", "output", "empty_path", "posterior_species"]))
    if kind == "days":
        value = draw(st.sampled_from(NON_POSITIVE + ["1097", "1e6", "1e400"]))
        return ["--days", value], "--days"
    if kind == "not_a_number":
        option = draw(st.sampled_from(["--days", "--feeds-per-day", "--feed-minutes", "--rtol", "--atol",
                                       "--complementary-from-day", "--complementary-share", "--glands",
                                       "--draws"]))
        return base + [option, draw(NOT_A_NUMBER.filter(lambda s: not s.startswith("-")))], option
    if kind == "feeds_per_day":
        return base + ["--feeds-per-day", draw(st.sampled_from(NON_POSITIVE + ["1e9", "100"]))], "--feeds-per-day"
    if kind == "feed_minutes":
        return base + ["--feed-minutes", draw(st.sampled_from(NON_POSITIVE + ["1e9", "200"]))], "--feed-minutes"
    if kind == "glands":
        return base + ["--glands", draw(st.sampled_from(["0", "-1", "-100", "1.5", "nan", "1e9"]))], "--glands"
    if kind == "tolerance":
        option = draw(st.sampled_from(["--rtol", "--atol"]))
        return base + [option, draw(st.sampled_from(NON_POSITIVE))], option
    if kind == "share":
        value = draw(st.sampled_from(["-0.1", "1.5", "nan", "inf", "-inf", "2"]))
        return base + ["--complementary-from-day", "0", "--complementary-share", value], "--complementary-share"
    if kind == "from_day":
        value = draw(st.sampled_from(["-1", "-0.001", "nan", "inf", "-inf"]))
        return base + ["--complementary-from-day", value], "--complementary-from-day"
    if kind == "feeds_by_age":
        value = draw(st.sampled_from(["abc", "0:", ":10", "0:10,", "5:10", "0:10,0:8", "0:10,90:-1", "0:nan",
                                      "nan:10", "0:0", "0:inf", "0:10:3", "", "0:10,-5:8", "inf:10"]))
        return base + ["--feeds-by-age", value], "--feeds-by-age"
    if kind == "choice":
        option = draw(st.sampled_from(["--species", "--solver-method", "--solver"]))
        return base + [option, draw(WORD.filter(lambda s: s not in ("human", "cow", "goat", "sessions",
                                                                    "adaptive", "tsit5", "kvaerno5", "kvaerno3",
                                                                    "kvaerno4", "dopri5")))], option
    if kind == "unknown_option":
        known = _simulate_options()  # argparse takes an unambiguous prefix (--a: --atol) as that option
        option = draw(WORD.filter(lambda s: not s.startswith("-")).map(lambda s: "--" + s)
                      .filter(lambda o: not any(k.startswith(o) for k in known)))
        return base + [option, "1"], "unrecognized arguments"
    if kind == "param":
        from lactojax.parameters import PARAMETERS, species_spec

        how = draw(st.sampled_from(["no_equals", "bad_value", "unknown", "out_of_bounds", "non_finite"]))
        name = draw(st.sampled_from(sorted(PARAMETERS)))
        if how == "no_equals":
            text, fragment = name, "NAME=VALUE"
        elif how == "bad_value":
            text, fragment = f"{name}={draw(NOT_A_NUMBER.filter(lambda s: _is_number(s) is False))}", name
        elif how == "unknown":
            text = f"{draw(WORD.filter(lambda s: s not in PARAMETERS))}={draw(st.floats(-1e3, 1e3))}"
            fragment = text.split("=")[0]
        elif how == "non_finite":
            text, fragment = f"{name}={draw(st.sampled_from(['nan', 'inf', '-inf']))}", name
        else:
            spec = species_spec(name, "human")
            value = spec.upper + abs(spec.upper) + 1 if draw(st.booleans()) else spec.lower - abs(spec.lower) - 1
            text, fragment = f"{name}={value!r}", name
        return base + ["--param", text], fragment
    if kind == "cow_milkings":
        species = draw(st.sampled_from(["cow", "goat"]))
        value = draw(st.sampled_from(NON_POSITIVE + ["2.5", "0.5", "1e9", "1000"]))
        return base + ["--species", species, "--feeds-per-day", value], "--feeds-per-day"
    if kind == "dairy_only_human":
        species = draw(st.sampled_from(["cow", "goat"]))
        option = draw(st.sampled_from([["--feeds-by-age", "0:2"], ["--complementary-from-day", "100"]]))
        return base + ["--species", species, *option], option[0]
    if kind == "clash":
        option = draw(st.sampled_from([["--feeds-per-day", "8"], ["--feed-minutes", "10"], ["--no-night-feeds"],
                                       ["--feeds-by-age", "0:10"]]))
        return base + ["--feed-log", "FEEDS", *option], option[0]
    if kind == "output":  # checked before the simulation, not when writing after it
        option = draw(st.sampled_from(["--out", "--plot"]))
        return base + [f"{option}={draw(st.sampled_from(['DIRECTORY', '', 'UNDER_FILE']))}"], option
    if kind == "empty_path":
        option = draw(st.sampled_from(["--feed-log", "--posterior"]))
        return base + [f"{option}="], option
    if kind == "posterior_species":  # the posterior records its species: another --species is refused
        fitted, asked = draw(st.permutations(["human", "cow", "goat"]))[:2]
        argv = ["--days", "2", "--posterior", f"FAKE_{fitted}"] + ([] if asked == "human" else ["--species", asked])
        if draw(st.booleans()):  # --param with --posterior: refused first
            return argv + ["--param", "storage_capacity_ml=200"], "--param"
        return argv, f"a fit of species {fitted!r}; simulating it as {asked!r} would mix presets (use --species {fitted})"
    if kind == "posterior_param":
        return ["--posterior", "POSTERIOR", "--param", "storage_capacity_ml=200"], "--param"
    if kind == "posterior_draws":
        return ["--posterior", "POSTERIOR", "--draws", draw(st.sampled_from(["0", "-1", "-100"]))], "--draws"
    # posterior_file: not a lactojax fit
    return ["--posterior", draw(st.sampled_from(["POSTERIOR", "MISSING", "DIRECTORY"]))], "--posterior"


def _fake_posterior(path: Path, species: str) -> Path:
    """A posterior.nc as `lactojax fit` writes one (the attributes simulate reads), of `species`."""
    import json

    import arviz as az
    import numpy as np

    from lactojax.parameters import Params

    base = {k: float(np.asarray(v)) for k, v in Params.nominal(species).values.items() if np.size(v) == 1}
    idata = az.from_dict(posterior={"lactose_vmax_mmol_h": np.full((1, 4), 12.0)})
    idata.posterior.attrs.update(lactojax_estimated=json.dumps(["lactose_vmax_mmol_h"]),
                                 lactojax_base_params=json.dumps(base), lactojax_species=species)
    idata.to_netcdf(str(path))
    return path


def _check_bad_simulate(tmp_path, capsys, argv):
    argv, fragment = argv
    with _scratch(tmp_path) as d:
        feeds = _write(d, "feeds.csv", "start_h,duration_min\n1,10\n")
        post = _write(d, "posterior.nc", "not netCDF\n")
        sub = {"FEEDS": str(feeds), "POSTERIOR": str(post), "MISSING": str(d / "none.nc"), "DIRECTORY": str(d / "e"),
               "UNDER_FILE": str(feeds / "x.csv")}
        (d / "e").mkdir()
        for a in argv:
            if a.startswith("FAKE_"):
                sub[a] = str(_fake_posterior(d / "fake.nc", a.removeprefix("FAKE_")))
        out_csv = d / "out.csv"
        argv = ["simulate", "--out", str(out_csv),
                *[a.split("=")[0] + "=" + sub.get(a.split("=")[1], a.split("=")[1]) if a.startswith("--") and "=" in a
                  else sub.get(a, a) for a in argv]]
        out, err = _refused(argv, capsys)
        assert fragment in err, (argv, fragment, err)
        assert not out_csv.exists()


@given(argv=bad_simulate_args())
def test_fuzz_bad_simulate_options_are_named(tmp_path, capsys, argv):
    _check_bad_simulate(tmp_path, capsys, argv)


# --- the long profile (slow suite) -------------------------------------------------------


@pytest.mark.slow
@settings(LONG)
@given(case=bad_observation_files())
def test_fuzz_long_bad_observation_table(tmp_path, capsys, case):
    _check_bad_observations(tmp_path, capsys, case)


@pytest.mark.slow
@settings(LONG)
@given(table=observation_tables(), gz=st.booleans())
def test_fuzz_long_valid_observation_table(tmp_path, capsys, table, gz):
    _check_good_observations(tmp_path, capsys, table, gz)


@pytest.mark.slow
@settings(LONG)
@given(case=bad_feed_logs(), command=st.sampled_from(["validate", "simulate"]))
def test_fuzz_long_bad_feed_log(tmp_path, capsys, case, command):
    _check_bad_feeds(tmp_path, capsys, case, command)


@pytest.mark.slow
@settings(LONG)
@given(log=feed_logs())
def test_fuzz_long_valid_feed_log(tmp_path, capsys, log):
    _check_good_feeds(tmp_path, capsys, log)


@pytest.mark.slow
@settings(LONG)
@given(case=bad_configs(), command=st.sampled_from(["show", "fit"]))
def test_fuzz_long_bad_fit_config(tmp_path, capsys, case, command):
    _check_bad_config(tmp_path, capsys, case, command)


@pytest.mark.slow
@settings(LONG)
@given(argv=bad_simulate_args())
def test_fuzz_long_bad_simulate_options(tmp_path, capsys, argv):
    _check_bad_simulate(tmp_path, capsys, argv)
