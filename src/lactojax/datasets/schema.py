"""The tidy observation table: its columns, allowed values and validation.

One row is one number (or one qualitative fact) about one subject or group:

| column      | type  | meaning |
|-------------|-------|---------|
| subject     | text  | individual id ("" for group summaries) |
| group       | text  | population / treatment / breed label |
| t_start_h   | float | start of the time window, h since delivery/calving ("" for event times) |
| t_end_h     | float | end of the window (= t_start_h for a single time point) |
| gland       | text  | "" (all glands or unknown), left/right (human), LF/RF/LR/RR (cow) |
| observable  | text  | a name from `lactojax.datasets.vocabulary` |
| statistic   | text  | value (individual), mean, median, interval (only bounds known), qualitative |
| value       | float | the number, in `unit` (event times: the time in h) |
| unit        | text  | the unit of value/spread/lower/upper as printed (converted on load) |
| spread_type | text  | "", SD, SEM, CV (in %), range, IQR |
| spread      | float | SD/SEM/CV value |
| lower/upper | float | range or IQR bounds, or the bounds of an interval |
| n           | int   | subjects summarised (1 or empty for individual values) |
| flag        | text  | "" or a flag from `FLAGS` (row kept; excluded from fits by rule) |
| source_row  | int   | 1-based data row in the source file this row came from ("" if added) |
| note        | text  | transcription note |

An empty cell means "not applicable". Text such as "nan" or "inf" in a numeric column is
an error, as is any rule below; each error is a `DatasetError` naming file, row (1-based
data row, with its line number in the file), column, what was expected and what was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lactojax.datasets import units
from lactojax.datasets.vocabulary import (
    OBSERVABLE_NAMES,
    QUALITATIVE,
    VOLUME,
    observable_property,
)

STR, FLOAT, INT = "str", "float", "int"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("subject", STR),
    ("group", STR),
    ("t_start_h", FLOAT),
    ("t_end_h", FLOAT),
    ("gland", STR),
    ("observable", STR),
    ("statistic", STR),
    ("value", FLOAT),
    ("unit", STR),
    ("spread_type", STR),
    ("spread", FLOAT),
    ("lower", FLOAT),
    ("upper", FLOAT),
    ("n", INT),
    ("flag", STR),
    ("source_row", INT),
    ("note", STR),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c for c, _ in COLUMNS)
COLUMN_TYPES: dict[str, str] = dict(COLUMNS)

STATISTICS = ("value", "mean", "median", "interval", "qualitative")
SPREAD_TYPES = ("", "SD", "SEM", "CV", "range", "IQR")
GLANDS: dict[str, int] = {"": -1, "left": 0, "right": 1, "LF": 0, "RF": 1, "LR": 2, "RR": 3}

# Row flags: the row is kept in the table and excluded from fitting by rule, with this
# reason (see lactojax.datasets.exclusions).
FLAGS: dict[str, str] = {
    "": "",
    "estimated": "value marked as estimated (not measured) in the source",
    "duplicate": "exact duplicate of another record in the source file",
    "at_reporting_limit": "value at the instrument's upper reporting limit (censored)",
    "unverified_source": "citation incomplete and the numbers could not be matched to a "
    "located publication",
}

# Columns that identify a record: two unflagged rows may not share all of them.
KEY_COLUMNS = ("subject", "group", "t_start_h", "t_end_h", "gland", "observable",
               "statistic", "flag")

_NONFINITE_TEXT = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity",
                   "-infinity", "na", "n/a", "null", "none"}


def where(row: int | None) -> str:
    """'row r (line r + 1)' for a 1-based data row; 'header (line 1)' for None."""
    return "header (line 1)" if row is None else f"row {row} (line {row + 1})"


def problem_text(file, row, column, expected, found=None, more=0) -> str:
    """The one-line description shared by `DatasetError` and `Problem`."""
    msg = f"{file}: {where(row)}, column {column!r}: expected {expected}"
    if found is not None:
        msg += f"; found {found!r}"
    if more:
        msg += f" (and {more} more row{'s' if more > 1 else ''} with the same problem)"
    return msg


@dataclass(frozen=True)
class Problem:
    """One problem in a user's file: what `DatasetError` says, as a value to collect.

    file: the file as given; row: 1-based data row (the header is line 1, so row r is
    line r + 1), None for the header or the file as a whole; column: the column (or
    '(file)'); expected: what the cell should hold; found: what it holds (None: nothing
    to show).
    """

    file: str
    row: int | None
    column: str
    expected: str
    found: object = None

    def __str__(self) -> str:
        return problem_text(self.file, self.row, self.column, self.expected, self.found)

    def error(self) -> "DatasetError":
        return DatasetError(self.file, self.row, self.column, self.expected, self.found)


class DatasetError(ValueError):
    """Invalid dataset content: names the file, row, column and what was expected.

    `row` is the 1-based data row (the header is line 1, so row r is line r + 1);
    None means the header or the file as a whole.
    """

    def __init__(self, file, row, column, expected, found=None, more=0):
        self.file = str(file)
        self.row = row
        self.column = column
        self.expected = expected
        self.found = found
        self.more = more
        super().__init__(problem_text(self.file, row, column, expected, found, more))

    def __reduce__(self):
        return (type(self), (self.file, self.row, self.column, self.expected, self.found,
                             self.more))

    @property
    def problem(self) -> Problem:
        return Problem(self.file, self.row, self.column, self.expected, self.found)


MAX_LISTED = 20  # problems spelled out in a ProblemsError message


class ProblemsError(DatasetError):
    """Every problem found in a file (`.problems`, in row order), raised at once.

    A DatasetError whose file, row, column, expected and found are those of the first
    problem, so that code catching DatasetError keeps working; its message lists the
    first `MAX_LISTED` problems, one per line, then '... and N more'.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        if not self.problems:
            raise ValueError("ProblemsError needs at least one problem")
        first = self.problems[0]
        super().__init__(first.file, first.row, first.column, first.expected, first.found)
        lines = [str(p) for p in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            lines.append(f"... and {len(self.problems) - MAX_LISTED} more")
        self.args = ("\n".join(lines),)

    def __reduce__(self):
        return (type(self), (self.problems,))


def in_row_order(problems: list[Problem]) -> list[Problem]:
    """Header / whole-file problems first, then by row (stable: check order within a
    row)."""
    return sorted(problems, key=lambda p: -1 if p.row is None else p.row)


def _first(mask: np.ndarray) -> tuple[int, int]:
    """Index of the first True and how many more there are."""
    idx = np.flatnonzero(mask)
    return int(idx[0]), int(idx.size - 1)


def check_columns(columns, file, problems: list[Problem] | None = None) -> None:
    """The header must hold exactly the schema's columns (any order).

    Raises DatasetError for the first problem, or, given a `problems` list, appends
    every missing, unknown and repeated column to it.
    """
    present = list(columns)
    found: list[Problem] = []
    for col in COLUMN_NAMES:
        if col not in present:
            found.append(Problem(str(file), None, col,
                                 f"a column named {col!r} (required: "
                                 f"{', '.join(COLUMN_NAMES)})", f"columns {present}"))
    for col in present:
        if col not in COLUMN_TYPES:
            found.append(Problem(str(file), None, col,
                                 f"only the schema's columns ({', '.join(COLUMN_NAMES)})",
                                 f"unknown column {col!r}"))
    dup = list(dict.fromkeys(c for c in present if present.count(c) > 1))
    for col in dup:
        found.append(Problem(str(file), None, col, "each column once",
                             f"columns {present}"))
    if problems is None:
        if found:
            raise found[0].error()
    else:
        problems.extend(found)


def _parse_numbers(text: pd.Series, column: str, file, integer: bool,
                   problems: list[Problem] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Parse a text column: '' -> NaN (not applicable); anything else must be a finite
    number (an integer if `integer`).

    Returns (values, bad): bad marks cells that are not numbers (NaN in values).
    Raises DatasetError for the first bad cell, or appends every one to `problems`.
    """
    s = text.astype(str)
    stripped = s.str.strip()
    empty = (stripped == "").to_numpy()
    values = pd.to_numeric(stripped.where(~empty, None), errors="coerce")
    values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~empty & ~np.isfinite(values)

    def expected(i: int) -> str:
        if str(stripped.iloc[i]).lower() in _NONFINITE_TEXT:
            return (f"a finite number (NaN/inf are not allowed; leave the cell empty "
                    f"only where {column!r} does not apply)")
        return "an integer" if integer else "a number"

    if bad.any():
        if problems is None:
            i, more = _first(bad)
            raise DatasetError(file, i + 1, column, expected(i), s.iloc[i], more)
        for i in np.flatnonzero(bad):
            problems.append(Problem(str(file), int(i) + 1, column, expected(i), s.iloc[i]))
    values = np.where(bad, np.nan, values)
    return values, bad


class _Validator:
    """Holds a table being validated and reports its problems: raises a DatasetError for
    the first one (`problems` None), or collects every bad cell into `problems`, one
    Problem per (row, column): a cell already reported is not reported again by a later
    rule."""

    def __init__(self, frame: pd.DataFrame, file, problems: list[Problem] | None = None):
        self.frame = frame
        self.file = file
        self.values: dict[str, np.ndarray] = {}
        self.problems = problems
        self.reported: set[tuple[int, str]] = set()

    def found(self, column: str, i: int):
        col = self.frame[column]
        if COLUMN_TYPES.get(column) == STR or col.dtype == object or col.dtype == "str":
            return col.iloc[i]
        v = self.values[column][i]
        if np.isnan(v):
            return ""
        return int(v) if COLUMN_TYPES[column] == INT or float(v).is_integer() else float(v)

    def note(self, problems: list[Problem]) -> None:
        """Mark cells reported elsewhere (e.g. by `_parse_numbers`)."""
        for p in problems:
            if p.row is not None:
                self.reported.add((p.row - 1, p.column))

    def check(self, mask, column, expected, why=None, found=None) -> None:
        """Report the rows where `mask` is True (raise for the first, or collect all)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return

        def describe(i: int) -> str:
            exp = expected(i) if callable(expected) else expected
            if why is not None:
                exp = f"{exp} ({why(i) if callable(why) else why})"
            return exp

        shown = found if found is not None else (lambda i: self.found(column, i))
        if self.problems is None:
            i, more = _first(mask)
            raise DatasetError(self.file, i + 1, column, describe(i), shown(i), more)
        for i in np.flatnonzero(mask):
            i = int(i)
            if (i, column) in self.reported:
                continue
            self.reported.add((i, column))
            self.problems.append(Problem(str(self.file), i + 1, column, describe(i),
                                         shown(i)))


def validate(raw: pd.DataFrame, file) -> pd.DataFrame:
    """Validate a table and return it typed.

    `raw` holds the schema's columns, either all as text (each cell a str, "" for
    empty) or with the numeric columns already parsed to float (NaN for empty), as
    `lactojax.datasets.loader.read_observations` reads them.
    Returns a DataFrame with the schema's columns in order: text columns as str, float
    columns float64 (NaN where empty), n and source_row as nullable Int64.
    Raises DatasetError on the first problem found (with a count of further rows with
    the same problem). `table_problems` runs the same rules and lists every problem.
    """
    return _validate(raw, file, None)


def table_problems(raw: pd.DataFrame, file) -> list[Problem]:
    """Every problem `validate` would find in `raw`, one per bad cell, in row order
    (header problems first). A cell is reported once, by the first rule it breaks; when
    columns are missing only the header is checked."""
    return validate_all(raw, file)[1]


def validate_all(raw: pd.DataFrame, file) -> tuple[pd.DataFrame, list[Problem]]:
    """(table, problems): `validate`'s typed table, meaningful only when `problems`
    (every problem, as `table_problems` lists them) is empty."""
    problems: list[Problem] = []
    table = _validate(raw, file, problems)
    return table, in_row_order(problems)


def _validate(raw: pd.DataFrame, file, problems: list[Problem] | None) -> pd.DataFrame:
    """`validate` (problems None: raise at the first problem) or `table_problems`
    (append every problem to `problems`; the returned table is then not meaningful)."""
    check_columns(raw.columns, file, problems)
    if problems is not None:
        if any(c not in raw.columns for c in COLUMN_NAMES):
            return pd.DataFrame(columns=list(COLUMN_NAMES))  # rows need every column
        raw = raw.loc[:, list(COLUMN_NAMES)]  # unknown columns are reported above
    raw = raw.reset_index(drop=True)
    nrows = len(raw)
    v = _Validator(raw, file, problems)
    text: dict[str, pd.Series] = {}
    unparsable: dict[str, np.ndarray] = {}  # cells that are not numbers (collect mode)
    for col, kind in COLUMNS:
        series = raw[col]
        if kind == STR:
            text[col] = series.astype(str)
            continue
        if series.dtype.kind in "fiu":
            vals = series.to_numpy(dtype=np.float64, na_value=np.nan)
            v.values[col] = vals
            bad = np.isinf(vals)
            v.check(bad, col,
                    "a finite number (NaN/inf are not allowed; leave the cell empty only "
                    f"where {col!r} does not apply)")
            if bad.any():  # collecting: reported; read as empty from here on
                vals = vals.copy()
                vals[bad] = np.nan
                v.values[col] = vals
        else:
            parse_problems: list[Problem] | None = None if problems is None else []
            vals, bad = _parse_numbers(series, col, file, integer=kind == INT,
                                       problems=parse_problems)
            if parse_problems:
                v.note(parse_problems)
                problems.extend(parse_problems)
            v.values[col] = vals
        unparsable[col] = bad
        if kind == INT:
            fraction = np.isfinite(vals) & (vals != np.round(vals))
            v.check(fraction, col, "an integer")
            if fraction.any():  # collecting: reported; read as empty from here on (an Int64 column)
                v.values[col] = np.where(fraction, np.nan, vals)

    obs_s = text["observable"]
    obs = obs_s.to_numpy(dtype=object)
    stat = text["statistic"].to_numpy(dtype=object)
    stype = text["spread_type"].to_numpy(dtype=object)
    value, spread = v.values["value"], v.values["spread"]
    lower, upper = v.values["lower"], v.values["upper"]
    t0, t1 = v.values["t_start_h"], v.values["t_end_h"]
    n, src = v.values["n"], v.values["source_row"]
    has = {c: ~np.isnan(a) for c, a in v.values.items()}

    def isin(col: str, allowed) -> np.ndarray:
        return text[col].isin(list(allowed)).to_numpy()

    # Rules that depend on the observable apply to known observables only (when
    # collecting, an unknown name is reported once, not again for its unit etc.).
    known = isin("observable", OBSERVABLE_NAMES)
    obs_known = np.where(known, obs, OBSERVABLE_NAMES[0]) if len(obs) else obs

    # --- categorical columns -------------------------------------------------------
    def _close(i):
        import difflib

        close = difflib.get_close_matches(str(obs[i]), OBSERVABLE_NAMES, n=3)
        return f"closest: {close}" if close else "see lactojax.datasets.vocabulary"

    v.check(~isin("observable", OBSERVABLE_NAMES), "observable",
            "a known observable name", why=_close)
    v.check(~isin("statistic", STATISTICS), "statistic", f"one of {list(STATISTICS)}")
    v.check(~isin("spread_type", SPREAD_TYPES), "spread_type",
            f"one of {list(SPREAD_TYPES)} ('' for none)")
    v.check(~isin("gland", GLANDS), "gland", f"one of {list(GLANDS)} ('' for all/unknown)")
    v.check(~isin("flag", FLAGS), "flag", f"one of {list(FLAGS)} ('' for none)")

    factors = units.factors_for(obs_s, text["unit"])
    v.check(known & np.isnan(factors), "unit",
            lambda i: f"one of {sorted(units.accepted_units(obs[i]))} for observable "
            f"{obs[i]!r}")

    # --- per-observable properties -------------------------------------------------
    kind = observable_property(obs_known, "kind").astype(object)
    timed = observable_property(obs_known, "time_indexed").astype(bool) & known
    nonneg = observable_property(obs_known, "nonnegative").astype(bool) & known
    qual_obs = kind == QUALITATIVE

    is_qual = stat == "qualitative"
    v.check(known & (qual_obs != is_qual), "statistic",
            lambda i: "'qualitative' for a qualitative observable and a numeric statistic "
            f"otherwise ({obs[i]!r} is {'qualitative' if qual_obs[i] else 'numeric'})")

    # --- values by statistic ------------------------------------------------------
    needs_value = isin("statistic", ("value", "mean", "median"))
    v.check(needs_value & ~has["value"], "value",
            lambda i: f"a finite number (statistic {stat[i]!r} needs a value; NaN or an "
            "empty cell is not allowed)")
    v.check(~needs_value & has["value"], "value",
            lambda i: f"an empty cell (statistic {stat[i]!r} has no central value)")
    is_interval = stat == "interval"
    for col in ("lower", "upper"):
        v.check(is_interval & ~has[col], col,
                "a finite number (statistic 'interval' needs both bounds)")
    v.check(is_qual & (stype != ""), "spread_type", "an empty cell for a qualitative row")
    v.check(is_qual & (text["note"].str.strip() == "").to_numpy(), "note",
            "the qualitative fact written out")
    v.check((stat == "value") & (stype != ""), "spread_type",
            "an empty cell for an individual value (noise is modelled, not reported)")
    v.check(is_interval & (stype != ""), "spread_type",
            "an empty cell for statistic 'interval' (the bounds are in lower/upper)")

    # --- non-negative quantities ---------------------------------------------------
    for col in ("value", "lower", "upper"):
        neg = nonneg & has[col] & (np.nan_to_num(v.values[col], nan=0.0) < 0)
        v.check(neg, col,
                lambda i: ("a non-negative volume (a volume cannot be negative)"
                           if kind[i] == VOLUME else
                           f"a non-negative value ({obs[i]!r} cannot be negative)"))

    # --- spreads -------------------------------------------------------------------
    scalar_spread = isin("spread_type", ("SD", "SEM", "CV"))
    bound_spread = isin("spread_type", ("range", "IQR"))
    v.check(scalar_spread & ~has["spread"], "spread",
            lambda i: f"a positive number (spread_type is {stype[i]!r})")
    v.check(scalar_spread & has["spread"] & ~(spread > 0), "spread", "a positive number")
    v.check(~scalar_spread & has["spread"], "spread",
            lambda i: f"an empty cell (spread_type is {stype[i]!r})")
    uses_bounds = bound_spread | is_interval
    for col in ("lower", "upper"):
        v.check(bound_spread & ~has[col], col,
                lambda i: f"a finite number (spread_type is {stype[i]!r})")
        v.check(~uses_bounds & has[col], col,
                "an empty cell (no range, IQR or interval on this row)")
    both = has["lower"] & has["upper"]
    v.check(both & (lower > upper), "upper", "a value >= lower")
    within = both & has["value"] & (stype == "range")
    v.check(within & ((value < lower) | (value > upper)), "value",
            "a value within [lower, upper] (a central value lies inside its range)")

    # --- time window -------------------------------------------------------------------
    need_time = timed & ~is_qual
    for col in ("t_start_h", "t_end_h"):
        v.check(need_time & ~has[col], col,
                lambda i: f"a time in hours ({obs[i]!r} is measured over a time window)")
        v.check(known & ~timed & ~qual_obs & has[col], col,
                lambda i: f"an empty cell ({obs[i]!r} is an event time or parameter: the "
                "number itself is in 'value')")
    v.check(has["t_start_h"] & has["t_end_h"] & (t1 < t0), "t_end_h", "a time >= t_start_h")
    v.check((has["t_start_h"] ^ has["t_end_h"]) & ~unparsable["t_start_h"]
            & ~unparsable["t_end_h"], "t_end_h",
            "both t_start_h and t_end_h, or neither")

    # --- counts ------------------------------------------------------------------
    v.check(has["n"] & (n < 1), "n", "an integer >= 1 (or empty if not reported)")
    v.check((stat == "value") & has["n"] & (n != 1), "n",
            "1 or an empty cell for an individual value")
    v.check(has["source_row"] & (src < 1), "source_row",
            "a 1-based row number (or empty for a value added from the cited paper)")

    table = pd.DataFrame(
        {
            col: (text[col].astype("str") if k == STR else
                  pd.array(v.values[col], dtype="Int64") if k == INT else v.values[col])
            for col, k in COLUMNS
        }
    )
    table.index = pd.RangeIndex(nrows)
    if problems is None:
        _check_duplicates(table, file)
    else:
        # Only rows without other problems can be compared (a bad cell reads as empty).
        clean = np.ones(nrows, dtype=bool)
        for i, _ in v.reported:
            clean[i] = False
        rows = np.flatnonzero(clean)
        found: list[Problem] = []
        _check_duplicates(table.iloc[rows].reset_index(drop=True), file, found)
        for p in found:  # back to the rows of the whole table
            at = int(rows[p.row - 1]) + 1
            expected = re.sub(r"repeats row (\d+) \(line \d+\)",
                              lambda m: (f"repeats row {int(rows[int(m[1]) - 1]) + 1} "
                                         f"(line {int(rows[int(m[1]) - 1]) + 2})"),
                              p.expected)
            problems.append(Problem(p.file, at, p.column, expected, p.found))
    return table


def _check_duplicates(table: pd.DataFrame, file, problems: list[Problem] | None = None
                      ) -> None:
    """No two unflagged records may share KEY_COLUMNS; a row flagged 'duplicate' must
    repeat (key columns and value) a record that is not flagged. Raises DatasetError
    for the first offending row, or appends every one to `problems`."""
    is_dup_flag = (table["flag"] == "duplicate").to_numpy()
    key_cols = list(KEY_COLUMNS[:-1])  # flag handled by the rules below
    main_cols = key_cols + ["flag"]
    ids = table.groupby(main_cols, dropna=False, sort=False).ngroup().to_numpy()
    ids = np.where(is_dup_flag, -1 - np.arange(len(table)), ids)  # flagged rows: unique
    seen_first = pd.Series(ids).duplicated(keep="first").to_numpy()

    def repeated(i: int, more: int = 0) -> Problem | DatasetError:
        earlier = int(np.flatnonzero(ids == ids[i])[0])
        args = (str(file), i + 1, ", ".join(KEY_COLUMNS),
                f"each record once; this row repeats row {earlier + 1} (line {earlier + 2}) "
                "on all key columns (a known duplicate in the source is kept with "
                "flag='duplicate')", "duplicate row")
        return Problem(*args) if problems is not None else DatasetError(*args, more=more)

    if seen_first.any():
        if problems is None:
            raise repeated(*_first(seen_first))
        problems.extend(repeated(int(i)) for i in np.flatnonzero(seen_first))
    if is_dup_flag.any():
        cols = key_cols + ["value"]
        gid = table.groupby(cols, dropna=False, sort=False).ngroup().to_numpy()
        unflagged_ids = set(gid[~is_dup_flag & (table["flag"] == "").to_numpy()])
        orphan = is_dup_flag & ~np.isin(gid, list(unflagged_ids))
        _Validator(table, file, problems).check(
            orphan, "flag", "'duplicate' only on a row that repeats an unflagged row (same "
            "key columns and value)")
