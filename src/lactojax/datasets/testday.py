"""Milk-recording (DHI / ICAR) test-day tables -> a lactojax dataset.

A test-day table has one row per cow per test day: cow id, parity, calving date and/or
days in milk (DIM), test date, the cow's 24-h milk yield (kg) on the test day and often
fat %, protein %, lactose % (w/w), somatic cell count (x1000 cells/mL), breed and
milkings per day. `read_testday` reads and validates such a table (CSV, `,` `;` or tab
separated, optionally .gz); `import_testday` writes it as `data/<name>/`:

- `observations.csv`: one row per non-empty observable cell, statistic "value", over the
  window of test day d, [24 d - 12, 24 d + 12) h since calving
  (`lactojax.datasets.design.day_window_h`): milk -> milk_yield_daily (kg/d), fat ->
  fat_pct, protein -> protein_pct, lactose -> lactose_pct (%), SCC ->
  somatic_cell_count (1e3/mL). subject = the lactation id when the table has one, else
  "<cow>_<parity>"; group = breed when given, else "parity <k>".
- `subjects.csv`: one row per lactation, columns subject, breed, parity,
  milkings_per_day (empty where unknown).
- `PROVENANCE.md`: source file and its SHA-256, licence, citation, what was converted.

Validation collects every problem (file, 1-based data row, column, what was expected)
and raises one `TestDayError`; nothing is dropped silently: an empty optional cell gives
no row and is counted in PROVENANCE.md, and a record repeated identically is kept with
flag "duplicate" (excluded from fitting by rule, `lactojax.datasets.exclusions`).
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lactojax.datasets.design import DESIGNS, day_window_h, default_cow_design
from lactojax.datasets.provenance import render_provenance, sha256_file
from lactojax.datasets.registry import PROVENANCE_FILE, data_root
from lactojax.datasets.schema import COLUMN_NAMES, DatasetError

# --- columns ---------------------------------------------------------------------------

# Canonical column -> accepted header names, compared after `_normalise` (lower case,
# '%' -> 'pct', everything but letters and digits removed): "Fat %" matches "fatpct".
ALIASES: dict[str, tuple[str, ...]] = {
    "cow": ("cow", "cowid", "cowno", "cownr", "cownumber", "animal", "animalid",
            "animalnr", "animalnumber"),
    "parity": ("parity", "lact", "lactno", "lactnr", "lactnum", "lactation",
               "lactationnumber", "lactationno", "parityno"),
    "calving_date": ("calvingdate", "calving", "calvdate", "freshdate"),
    "dim": ("dim", "daysinmilk", "dayinmilk"),
    "test_date": ("testdate", "recordingdate", "recorddate", "sampledate", "controldate"),
    "milk_kg": ("milkkg", "milk", "milkyield", "milkyieldkg", "milkingyield",
                "testdaymilkyield", "milk24h", "dailymilk", "yield"),
    "fat_pct": ("fatpct", "fat", "fatpercent", "fatpercentage"),
    "protein_pct": ("proteinpct", "protein", "prot", "protpct", "proteinpercent",
                    "proteinpercentage"),
    "scc": ("scc", "somaticcellcount", "somaticcells", "cellcount", "sccx1000",
            "scc1000"),
    "lactose_pct": ("lactosepct", "lactose", "lactpct", "lactosepercent"),
    "milkings_per_day": ("milkingsperday", "milkings", "milkingfrequency", "milkingfreq",
                         "timesmilked", "mpd"),
    "breed": ("breed", "race"),
    "lactation_id": ("lactationid", "lactid", "testid"),
}
CANONICAL: tuple[str, ...] = tuple(ALIASES)

# Header names shown in messages and docs (any capitalisation is accepted).
EXAMPLE_NAMES: dict[str, str] = {
    "cow": "CowID, AnimalId, Cow",
    "parity": "Parity, Lact, LactationNumber",
    "calving_date": "CalvingDate, Calving",
    "dim": "DIM, DaysInMilk",
    "test_date": "TestDate, RecordingDate",
    "milk_kg": "Milk, MilkKg, MilkYield, MilkingYield",
    "fat_pct": "Fat, FatPct, Fat %",
    "protein_pct": "Protein, ProtPct",
    "scc": "SCC, SomaticCellCount",
    "lactose_pct": "Lactose, LactosePct",
    "milkings_per_day": "MilkingsPerDay, TimesMilked",
    "breed": "Breed",
    "lactation_id": "LactationId, TestId",
}

# Observable columns: canonical -> (vocabulary observable, unit written to the table).
OBSERVABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "milk_kg": ("milk_yield_daily", "kg/d"),
    "fat_pct": ("fat_pct", "%"),
    "protein_pct": ("protein_pct", "%"),
    "lactose_pct": ("lactose_pct", "%"),
    "scc": ("somatic_cell_count", "1e3/mL"),
}

# Plausible ranges (inclusive) of one cow's test-day values. Outside them a value is a
# unit or typing error far more often than a real cow: percentages per 100 g of milk
# (fat 0.5-15 %, protein 1-10 %, lactose 2-7 % covers every dairy breed, colostrum
# aside); milk above 150 kg/d exceeds any recorded cow; SCC above 50,000 x1000/mL
# (5e7 cells/mL) suggests a count in cells/mL instead of thousands.
BOUNDS: dict[str, tuple[float, float, str]] = {
    "milk_kg": (0.0, 150.0, "kg/d"),
    "fat_pct": (0.5, 15.0, "%"),
    "protein_pct": (1.0, 10.0, "%"),
    "lactose_pct": (2.0, 7.0, "%"),
    "scc": (0.0, 50000.0, "x1000 cells/mL"),
}
MAX_DIM = 1000
MAX_MILKINGS_PER_DAY = 6
DIM_TOLERANCE_DAYS = 1  # DIM column vs test date - calving date (counting conventions)
MAX_LISTED = 50  # problems listed in one error message; the rest are counted

DEFAULT_LICENCE = "unknown: set by the user"
TABLE_FILE = "observations.csv"
SUBJECTS_FILE = "subjects.csv"
SUBJECT_COLUMNS = ("subject", "breed", "parity", "milkings_per_day")

DATE_FORMATS = {"ISO8601": "ISO (YYYY-MM-DD)", "%d-%m-%Y": "d-m-Y"}


def _normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header).lower().replace("%", "pct"))


_ALIAS_OF = {alias: canon for canon, names in ALIASES.items() for alias in names}
assert len(_ALIAS_OF) == sum(len(v) for v in ALIASES.values()), "alias used twice"


# --- errors ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """One problem in a test-day table.

    row: 1-based data row (the first row below the header is row 1, line 2 of the
        file), or None for the header / the file as a whole.
    column: the column as written in the file, with its canonical name.
    """

    row: int | None
    column: str
    expected: str
    found: object = None

    def __str__(self) -> str:
        where = "header (line 1)" if self.row is None else \
            f"data row {self.row} (line {self.row + 1})"
        text = f"{where}, column {self.column}: expected {self.expected}"
        if self.found is not None:
            text += f"; found {self.found!r}"
        return text


class TestDayError(DatasetError):
    """Every problem found in a test-day table (`problems`), in one message naming the
    file and, for each problem, the data row (1-based), the column and what was
    expected. `row`, `column`, `expected`, `found` are those of the first problem."""

    __test__ = False  # not a pytest test class

    def __init__(self, file, problems, max_listed: int = MAX_LISTED):
        self.problems = sorted(problems, key=lambda p: (p.row or 0))
        first = self.problems[0]
        self.file, self.row, self.column = str(file), first.row, first.column
        self.expected, self.found = first.expected, first.found
        self.more = len(self.problems) - 1
        n = len(self.problems)
        lines = [f"{file}: {n} problem{'s' if n > 1 else ''} in the test-day table "
                 "(rows are 1-based data rows; line = row + 1 counting the header):"]
        lines += [f"  - {p}" for p in self.problems[:max_listed]]
        if n > max_listed:
            lines.append(f"  ... and {n - max_listed} more problems")
        ValueError.__init__(self, "\n".join(lines))

    def __reduce__(self):
        return (type(self), (self.file, self.problems))


class DatasetExistsError(FileExistsError):
    """The dataset directory exists already (pass force=True / --force to replace it)."""


class DatasetNameError(ValueError):
    """The dataset name is not usable (bad characters, or a bundled dataset's name)."""


# --- the parsed table ------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class TestDayTable:
    """A validated test-day table.

    file: the source file.
    records: one row per source record (in file order) with columns source_row (1-based
        data row), subject, cow, parity (Int64), lactation_id, breed, milkings_per_day
        (Int64), calving_date, test_date (datetime64, NaT where not given), dim (days in
        milk, int), milk_kg (kg/d), fat_pct, protein_pct, lactose_pct (% w/w), scc
        (x1000 cells/mL) (NaN where the cell was empty), duplicate (bool: repeats an
        earlier record exactly).
    columns: canonical name -> the column of the file it was read from.
    unused_columns: columns of the file not carried (not recognised).
    date_formats: canonical date column -> the format its dates were read with.
    dim_from: how DIM was obtained, in words.
    """

    __test__ = False  # not a pytest test class

    file: Path
    records: pd.DataFrame
    columns: dict[str, str]
    unused_columns: tuple[str, ...] = ()
    date_formats: dict[str, str] = field(default_factory=dict)
    dim_from: str = ""

    def observables(self) -> list[str]:
        """Canonical observable columns present in the file (milk_kg first)."""
        return [c for c in OBSERVABLE_COLUMNS if c in self.columns]

    def empty_cells(self) -> dict[str, int]:
        """Canonical observable column -> number of empty cells (records with no row)."""
        return {c: int(self.records[c].isna().sum()) for c in self.observables()}

    def lactations(self) -> int:
        return int(self.records["subject"].nunique())

    def observation_table(self) -> pd.DataFrame:
        """The tidy observation table (schema columns, source units): one row per
        non-empty observable cell, ordered by source row, then milk, fat, protein,
        lactose, SCC."""
        r = self.records
        windows = np.array([day_window_h(int(d)) for d in r["dim"]]).reshape(-1, 2)
        group = np.where(r["breed"] != "", r["breed"],
                         np.where(r["parity"].isna(), "",
                                  "parity " + r["parity"].astype("string").fillna("")))
        frames = []
        for order, canon in enumerate(self.observables()):
            observable, unit = OBSERVABLE_COLUMNS[canon]
            has = r[canon].notna().to_numpy()
            frames.append(pd.DataFrame({
                "subject": r["subject"].to_numpy()[has],
                "group": group[has],
                "t_start_h": windows[has, 0],
                "t_end_h": windows[has, 1],
                "gland": "",
                "observable": observable,
                "statistic": "value",
                "value": r[canon].to_numpy(dtype=np.float64)[has],
                "unit": unit,
                "spread_type": "",
                "spread": np.nan,
                "lower": np.nan,
                "upper": np.nan,
                "n": 1,
                "flag": np.where(r["duplicate"].to_numpy()[has], "duplicate", ""),
                "source_row": r["source_row"].to_numpy()[has],
                "note": "",
                "_order": order,
            }))
        table = pd.concat(frames, ignore_index=True)
        table = table.sort_values(["source_row", "_order"], kind="stable")
        table = table.loc[:, list(COLUMN_NAMES)].reset_index(drop=True)
        table["n"] = table["n"].astype("Int64")
        table["source_row"] = table["source_row"].astype("Int64")
        return table

    def subjects_table(self) -> pd.DataFrame:
        """One row per lactation (first-appearance order): subject, breed, parity,
        milkings_per_day; empty where unknown."""
        first = self.records.drop_duplicates("subject", keep="first")
        return pd.DataFrame({
            "subject": first["subject"].to_numpy(),
            "breed": first["breed"].to_numpy(),
            "parity": first["parity"].to_numpy(),
            "milkings_per_day": first["milkings_per_day"].to_numpy(),
        }).astype({"parity": "Int64", "milkings_per_day": "Int64"})


# --- reading ---------------------------------------------------------------------------

def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _separator(path: Path) -> str:
    """`,`, `;` or tab: whichever occurs most in the header line (European DHI exports
    often use `;` with decimal commas)."""
    with _open_text(path) as f:
        header = f.readline()
    return max((",", ";", "\t"), key=header.count)


def _label(canon: str, columns: dict[str, str]) -> str:
    source = columns.get(canon)
    if source is None or source == canon:
        return repr(canon)
    return f"{source!r} ({canon})"


def resolve_columns(header: list[str], columns: dict[str, str] | None = None
                    ) -> tuple[dict[str, str], list[Problem]]:
    """Canonical name -> column of the file, from an explicit mapping (`columns`,
    canonical -> header name, case-insensitive) and the aliases. Returns the mapping and
    the problems (unknown canonical name, mapped column missing, ambiguous aliases)."""
    problems: list[Problem] = []
    mapping: dict[str, str] = {}
    by_lower = {h.lower(): h for h in header}
    for canon, source in (columns or {}).items():
        if canon not in ALIASES:
            problems.append(Problem(None, repr(canon), "a canonical column name, one of "
                                    f"{', '.join(CANONICAL)}", canon))
            continue
        found = source if source in header else by_lower.get(str(source).lower())
        if found is None:
            problems.append(Problem(None, repr(canon), f"a column named {source!r} (given "
                                    f"in the column mapping); columns found: {header}"))
            continue
        mapping[canon] = found
    taken = set(mapping.values())
    candidates: dict[str, list[str]] = {}
    for h in header:
        canon = _ALIAS_OF.get(_normalise(h))
        if canon is not None and canon not in mapping and h not in taken:
            candidates.setdefault(canon, []).append(h)
    for canon, found in candidates.items():
        if len(found) > 1:
            problems.append(Problem(None, repr(canon), "one column for it; several match "
                                    f"({found}): choose one with --columns "
                                    f"{canon}=<column>"))
        else:
            mapping[canon] = found[0]
    return mapping, problems


def _missing_required(mapping: dict[str, str], header: list[str]) -> list[Problem]:
    def need(canon_options: str) -> str:
        return canon_options + f"; columns found: {header}"

    problems = []
    names = EXAMPLE_NAMES.__getitem__
    if "milk_kg" not in mapping:
        problems.append(Problem(None, "'milk_kg'", need(
            f"a 24-h milk yield column (kg; e.g. {names('milk_kg')}, or --columns "
            "milk_kg=<column>)")))
    if "lactation_id" not in mapping:
        for canon in ("cow", "parity"):
            if canon not in mapping:
                problems.append(Problem(None, repr(canon), need(
                    f"a {canon} column (e.g. {names(canon)}), or a lactation id column "
                    f"(e.g. {names('lactation_id')}) identifying each lactation")))
    if "dim" not in mapping:
        for canon in ("calving_date", "test_date"):
            if canon not in mapping:
                problems.append(Problem(None, repr(canon), need(
                    f"a days-in-milk column (e.g. {names('dim')}), or both a calving "
                    f"date and a test date column (missing: {canon}, e.g. "
                    f"{names(canon)})")))
    return problems


def _numbers(cells: pd.Series, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray]:
    """(values, bad): float values (NaN where empty or bad) and a mask of non-empty
    cells that are not finite numbers."""
    text = cells.str.strip()
    if decimal_comma:
        text = text.str.replace(r"^([+-]?\d+),(\d+)$", r"\1.\2", regex=True)
    empty = (text == "").to_numpy()
    values = pd.to_numeric(text.where(~empty, None), errors="coerce")
    values = values.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    bad = ~empty & ~np.isfinite(values)
    values[bad] = np.nan
    return values, bad


def _dates(cells: pd.Series, date_format: str | None) -> tuple[pd.Series, np.ndarray, str]:
    """(dates, bad, format): `date_format` if given, else ISO (YYYY-MM-DD) or d-m-Y
    (separators - / .), whichever reads more cells (ISO on a tie)."""
    text = cells.str.strip()
    empty = text == ""
    if date_format:
        tries = {date_format: text}
    else:
        # pandas' ISO8601 also reads "2023" or "2023-05" (as the 1st): require a full date
        full_iso = text.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}([ T][0-9:.]*)?")
        tries = {"ISO8601": text.where(full_iso, "not a date"),
                 "%d-%m-%Y": text.str.replace(r"[/.]", "-", regex=True)}
    best = None
    for fmt, t in tries.items():
        parsed = pd.to_datetime(t.where(~empty), format=fmt, errors="coerce")
        if best is None or parsed.notna().sum() > best[0].notna().sum():
            best = (parsed, fmt)
    parsed, fmt = best
    bad = (~empty & parsed.isna()).to_numpy()
    return parsed, bad, fmt


def read_testday(path: str | Path, columns: dict[str, str] | None = None,
                 date_format: str | None = None) -> TestDayTable:
    """Read and validate a test-day table (see the module docstring).

    columns: explicit mapping canonical name -> column of the file, for columns the
        aliases do not recognise (e.g. {"milk_kg": "MyYield"}).
    date_format: strftime format of the dates (e.g. "%m/%d/%Y"); default: ISO
        (YYYY-MM-DD) or d-m-Y, detected per column.
    Raises TestDayError listing every problem found.
    """
    path = Path(path)
    if not path.is_file():
        raise TestDayError(path, [Problem(None, "(file)", "a test-day table file",
                                          "no such file")])
    sep = _separator(path)
    try:
        raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                          na_filter=False, compression="infer", encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise TestDayError(path, [Problem(None, "(file)", "a header line and data rows",
                                          "an empty file")]) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise TestDayError(path, [Problem(None, "(file)", "a CSV table (UTF-8)",
                                          str(err).strip())]) from None
    header = [str(c) for c in raw.columns]
    mapping, problems = resolve_columns(header, columns)
    problems += _missing_required(mapping, header)
    if problems:
        raise TestDayError(path, problems)
    if raw.empty:
        raise TestDayError(path, [Problem(None, "(file)", "at least one data row",
                                          "a header only")])
    return _validate(path, raw, mapping, header, date_format, decimal_comma=sep != ",")


def _validate(path: Path, raw: pd.DataFrame, mapping: dict[str, str], header: list[str],
              date_format: str | None, decimal_comma: bool) -> TestDayTable:
    problems: list[Problem] = []
    n = len(raw)
    rows = np.arange(1, n + 1)
    label = {c: _label(c, mapping) for c in CANONICAL}

    def report(mask, canon, expected, found=None) -> None:
        """One problem per row where `mask` is True; found: cells (default: raw)."""
        cells = raw[mapping[canon]] if found is None and canon in mapping else found
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            value = None if cells is None else (
                cells.iloc[i] if isinstance(cells, pd.Series) else cells[i])
            problems.append(Problem(int(rows[i]), label[canon],
                                    expected(i) if callable(expected) else expected,
                                    value))

    def text(canon: str) -> pd.Series:
        if canon not in mapping:
            return pd.Series([""] * n, dtype=object)
        return raw[mapping[canon]].astype(str).str.strip()

    rec = pd.DataFrame({"source_row": rows})

    # identity of the lactation
    for canon in ("cow", "lactation_id", "breed"):
        rec[canon] = text(canon).to_numpy(dtype=object)
    for canon in ("cow", "lactation_id"):
        if canon in mapping:
            report(rec[canon] == "", canon,
                   f"a non-empty {'cow id' if canon == 'cow' else 'lactation id'}")
    parity = np.full(n, np.nan)
    if "parity" in mapping:
        parity, bad = _numbers(raw[mapping["parity"]], decimal_comma)
        empty = text("parity") == ""
        wrong = bad | (np.isfinite(parity) & ((parity < 1) | (parity != np.round(parity))))
        required = "lactation_id" not in mapping
        report(wrong | (empty.to_numpy() & required), "parity",
               "the lactation number, a whole number >= 1")
        parity[wrong] = np.nan
    rec["parity"] = pd.array(np.where(np.isfinite(parity), parity, np.nan)).astype("Int64")
    if "lactation_id" in mapping:
        rec["subject"] = rec["lactation_id"]
    else:
        rec["subject"] = rec["cow"] + "_" + rec["parity"].astype("string").fillna("")

    mpd = np.full(n, np.nan)
    if "milkings_per_day" in mapping:
        mpd, bad = _numbers(raw[mapping["milkings_per_day"]], decimal_comma)
        wrong = bad | (np.isfinite(mpd) & ((mpd < 1) | (mpd > MAX_MILKINGS_PER_DAY)
                                           | (mpd != np.round(mpd))))
        report(wrong, "milkings_per_day",
               f"a whole number of milkings per day, 1-{MAX_MILKINGS_PER_DAY}")
        mpd[wrong] = np.nan
    rec["milkings_per_day"] = pd.array(mpd).astype("Int64")

    # dates and days in milk
    date_formats: dict[str, str] = {}
    for canon in ("calving_date", "test_date"):
        if canon in mapping:
            dates, bad, fmt = _dates(raw[mapping[canon]], date_format)
            date_formats[canon] = DATE_FORMATS.get(fmt, fmt)
            report(bad, canon, f"a date ({DATE_FORMATS.get(fmt, fmt)}; use "
                   "--date-format for another layout)")
            empty = (text(canon) == "").to_numpy()
            report(empty, canon, "a date (the cell is empty)")
            rec[canon] = dates.to_numpy()
        else:
            rec[canon] = pd.Series(pd.NaT, index=rec.index, dtype="datetime64[us]")
    have_both_dates = "calving_date" in mapping and "test_date" in mapping
    between = ((rec["test_date"] - rec["calving_date"]).dt.days.to_numpy(dtype=np.float64,
                                                                        na_value=np.nan)
               if have_both_dates else np.full(n, np.nan))
    if have_both_dates:
        report(between < 0, "test_date",
               lambda i: f"a test date on or after the calving date "
               f"({rec['calving_date'].iloc[i].date()}, column {label['calving_date']})")
    if "dim" in mapping:
        dim, bad = _numbers(raw[mapping["dim"]], decimal_comma)
        empty = (text("dim") == "").to_numpy()
        report(bad | empty, "dim", "days in milk, a whole number")
        out = np.isfinite(dim) & ((dim < 0) | (dim > MAX_DIM) | (dim != np.round(dim)))
        report(out, "dim", f"days in milk, a whole number from 0 to {MAX_DIM}")
        dim[out] = np.nan
        off = np.isfinite(dim) & np.isfinite(between) & (between >= 0) & (
            np.abs(dim - between) > DIM_TOLERANCE_DAYS)
        report(off, "dim", lambda i: f"days in milk agreeing within "
               f"{DIM_TOLERANCE_DAYS} day with test date - calving date "
               f"({int(between[i])} d: {rec['test_date'].iloc[i].date()} - "
               f"{rec['calving_date'].iloc[i].date()})")
        dim_from = f"column {mapping['dim']!r}"
        if have_both_dates:
            dim_from += (f" (checked against test date - calving date, within "
                         f"{DIM_TOLERANCE_DAYS} day)")
    else:
        dim = np.where(between >= 0, between, np.nan)
        report(np.isfinite(dim) & (dim > MAX_DIM), "test_date",
               f"a test date at most {MAX_DIM} days after calving")
        dim[dim > MAX_DIM] = np.nan
        dim_from = (f"test date ({mapping['test_date']!r}) - calving date "
                    f"({mapping['calving_date']!r})")
    if "calving_date" not in mapping and "test_date" in mapping:
        # implied calving date, to check that a lactation has one calving
        rec["calving_date"] = rec["test_date"] - pd.to_timedelta(dim, unit="D")
    rec["dim"] = dim

    # observables
    for canon in OBSERVABLE_COLUMNS:
        if canon not in mapping:
            rec[canon] = np.nan
            continue
        values, bad = _numbers(raw[mapping[canon]], decimal_comma)
        lo, hi, unit = BOUNDS[canon]
        report(bad, canon, f"a number ({unit}) or an empty cell")
        report(np.isfinite(values) & (values < 0), canon,
               f"a non-negative number ({unit})")
        out = np.isfinite(values) & (values >= 0) & ((values < lo) | (values > hi))
        report(out, canon, f"a plausible value, {lo:g}-{hi:g} {unit}")
        values[bad | (values < 0) | out] = np.nan
        rec[canon] = values
    if "milk_kg" in mapping:
        # a test-day record without its yield is not a test-day record
        report((text("milk_kg") == "").to_numpy(), "milk_kg",
               "the 24-h milk yield (kg); the cell is empty")

    # one cow, parity, breed, frequency and calving per lactation
    by_subject = rec.groupby("subject", sort=False)
    for canon in ("cow", "parity", "breed", "milkings_per_day", "calving_date"):
        col = rec[canon]
        first = by_subject[canon].transform("first")
        if canon == "calving_date":
            if col.isna().all():
                continue
            differs = ((col - first).abs() > pd.Timedelta(days=DIM_TOLERANCE_DAYS)).to_numpy()
            what = "calving date" + ("" if "calving_date" in mapping else
                                     " (test date - DIM)")
            where = "calving_date" if "calving_date" in mapping else "test_date"
        else:
            if canon not in mapping or (canon == "parity" and "lactation_id" not in mapping):
                continue
            differs = (col.astype("string").fillna("") !=
                       first.astype("string").fillna("")).to_numpy()
            what, where = canon.replace("_", " "), canon
        first_row = by_subject["source_row"].transform("first").to_numpy()
        report(differs & (rec["subject"] != "").to_numpy(), where,
               lambda i, what=what: f"one {what} per lactation (lactation "
               f"{rec['subject'].iloc[i]!r}: data row {first_row[i]} differs)")

    # repeated test days: identical records are kept as flagged duplicates; differing
    # ones are errors
    value_cols = ["dim", "test_date", *OBSERVABLE_COLUMNS]
    rec["duplicate"] = False
    ok = np.isfinite(rec["dim"].to_numpy(dtype=np.float64))
    keys = ([["subject", "test_date"]] if "test_date" in mapping else []) + [
        ["subject", "dim"]]
    conflict = np.zeros(n, dtype=bool)
    for key in keys:
        sub = rec.loc[ok]
        earlier = sub.duplicated(key, keep="first").to_numpy()
        if not earlier.any():
            continue
        first_of = sub.reset_index().groupby(key, sort=False)["index"].transform("first")
        for j in np.flatnonzero(earlier):
            i, f = int(sub.index[j]), int(first_of.iloc[j])
            same = all(_same(rec[c].iloc[i], rec[c].iloc[f]) for c in value_cols)
            if same:
                rec.loc[i, "duplicate"] = True
            elif not conflict[i]:
                conflict[i] = True
                diff = [c for c in value_cols if not _same(rec[c].iloc[i], rec[c].iloc[f])]
                what = ("test date " + str(rec["test_date"].iloc[i].date())
                        if key[1] == "test_date" else f"DIM {int(rec['dim'].iloc[i])}")
                problems.append(Problem(
                    i + 1, ", ".join(label[c] for c in diff if c in mapping) or label["dim"],
                    f"one record per lactation and test day: lactation "
                    f"{rec['subject'].iloc[i]!r}, {what} is also on data row {f + 1} with "
                    f"different values ({', '.join(diff)}); an exact repeat would be kept "
                    "as a flagged duplicate"))
    if problems:
        raise TestDayError(path, problems)
    rec["dim"] = rec["dim"].astype(np.int64)
    unused = tuple(h for h in header if h not in set(mapping.values()))
    return TestDayTable(path, rec, dict(mapping), unused, date_formats, dim_from)


def _same(a, b) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)


# --- writing ---------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ImportResult:
    """What `import_testday` wrote: the dataset directory, the parsed table and the
    rows per observable."""

    directory: Path
    table: TestDayTable
    rows_per_observable: dict[str, int]

    @property
    def dim_range(self) -> tuple[int, int]:
        dim = self.table.records["dim"]
        return int(dim.min()), int(dim.max())


def _check_target(directory: Path, force: bool) -> None:
    if not directory.exists():
        return
    is_dataset = (directory / PROVENANCE_FILE).is_file()
    if not force:
        raise DatasetExistsError(
            f"{directory} exists already; choose another --name or pass --force to "
            "replace it (nothing was written)")
    if not directory.is_dir() or not (is_dataset or not any(directory.iterdir())):
        raise DatasetExistsError(
            f"{directory} exists and is not a dataset directory (no {PROVENANCE_FILE}); "
            "refusing to replace it even with --force")


def import_testday(path: str | Path, name: str, out_root: str | Path | None = None, *,
                   columns: dict[str, str] | None = None, date_format: str | None = None,
                   licence: str = DEFAULT_LICENCE, citation: str | None = None,
                   title: str | None = None, force: bool = False) -> ImportResult:
    """Import a test-day table as dataset `out_root/<name>/` (default root: the data
    root, `lactojax.datasets.data_root()`).

    Writes observations.csv, subjects.csv and PROVENANCE.md into a temporary directory,
    loads it back with `load_dataset` (full validation and checksum), then renames it
    into place. Refuses an existing directory unless `force` (and never replaces a
    directory that is not a dataset). Raises TestDayError (bad content, every problem
    listed), DatasetExistsError, or ValueError (bad name).
    """
    from lactojax.datasets.loader import load_dataset, write_observations

    if not _NAME.match(name):
        raise DatasetNameError(f"dataset name {name!r}: expected letters, digits, '_', '-' or "
                         "'.', starting with a letter or digit")
    if name in DESIGNS:
        raise DatasetNameError(f"dataset name {name!r} is a bundled dataset's name (its design "
                         "is recorded in lactojax.datasets.design); choose another")
    source = Path(path)
    root = Path(out_root) if out_root is not None else data_root()
    final = root / name
    _check_target(final, force)
    table = read_testday(source, columns=columns, date_format=date_format)

    observations = table.observation_table()
    subjects = table.subjects_table()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{name}.importing-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        digest = write_observations(observations, staging / TABLE_FILE)
        subjects.to_csv(staging / SUBJECTS_FILE, index=False, na_rep="",
                        lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        counts = observations["observable"].value_counts()
        rows_per_observable = {OBSERVABLE_COLUMNS[c][0]: int(counts.get(
            OBSERVABLE_COLUMNS[c][0], 0)) for c in table.observables()}
        text = _provenance(table, name, observations, subjects, digest, source,
                           licence=licence, citation=citation, title=title,
                           rows_per_observable=rows_per_observable)
        (staging / PROVENANCE_FILE).write_text(text, encoding="utf-8")
        load_dataset(staging)  # full validation of what was written, checksum included
        _check_target(final, force)  # again: another process may have written it
        if final.exists():
            retired = root / f".{name}.replaced-{os.getpid()}"
            final.rename(retired)
            staging.rename(final)
            shutil.rmtree(retired)
        else:
            staging.rename(final)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return ImportResult(final, table, rows_per_observable)


def _provenance(table: TestDayTable, name: str, observations: pd.DataFrame,
                subjects: pd.DataFrame, digest: str, source: Path, *, licence: str,
                citation: str | None, title: str | None,
                rows_per_observable: dict[str, int]) -> str:
    n_records = len(table.records)
    n_lact = table.lactations()
    title = title or (f"Test-day records of {n_lact} lactation{'s' if n_lact != 1 else ''} "
                      f"imported from {source.name}")
    citation = citation or (f"User-supplied test-day records, file {source.name} "
                            "(no citation given; pass --citation)")
    t0, t1 = observations["t_start_h"].min(), observations["t_end_h"].max()
    design = default_cow_design(name, float(t1), _common_frequency(subjects))
    fields = {
        "name": name,
        "title": title,
        "species": "cow",
        "kind": "individual_records",
        "table": TABLE_FILE,
        "sha256": digest,
        "rows": str(len(observations)),
        "observables": ", ".join(sorted(rows_per_observable)),
        "t_min_h": f"{t0:g}",
        "t_max_h": f"{t1:g}",
        "citation": " ".join(citation.split()),
        "doi": "",
        "licence": " ".join(licence.split()),
        "source_file": source.name,
        "source_sha256": sha256_file(source),
        "verified": "n/a (user-imported records)",
        "subjects_file": SUBJECTS_FILE,
        "imported_with": "lactojax data import-testday",
    }
    mapped = ", ".join(f"{src!r} -> {canon}" for canon, src in table.columns.items())
    empty = table.empty_cells()
    n_dup = int(table.records["duplicate"].sum())
    lo, hi = int(table.records["dim"].min()), int(table.records["dim"].max())
    notes = [
        f"{n_records} test-day records of {n_lact} lactations; columns read: {mapped}.",
        "subject = " + (f"the lactation id ({table.columns['lactation_id']!r})"
                        if "lactation_id" in table.columns else "'<cow>_<parity>'")
        + "; group = " + ("the breed" if "breed" in table.columns else "'parity <k>'")
        + f"; one row per lactation in {SUBJECTS_FILE} (subject, breed, parity, "
        "milkings_per_day; empty where unknown).",
        f"Days in milk from {table.dim_from}; DIM {lo}-{hi}. "
        + (f"Dates read as {', '.join(f'{k} {v}' for k, v in table.date_formats.items())}. "
           if table.date_formats else "")
        + "Times: day d from calving (calving day = day 0) with calving assumed at 12:00, "
        "so day d covers [24 d - 12, 24 d + 12) h (lactojax.datasets.design.day_window_h).",
        "Observables: " + "; ".join(
            f"{table.columns[c]!r} -> {OBSERVABLE_COLUMNS[c][0]} "
            f"({OBSERVABLE_COLUMNS[c][1]}): {rows_per_observable[OBSERVABLE_COLUMNS[c][0]]}"
            " rows" for c in table.observables()) + ".",
        "Empty cells (no row written): " + (", ".join(
            f"{table.columns[c]!r} {k}" for c, k in empty.items() if k) or "none") + ".",
        (f"{n_dup} records repeat an earlier record of the same lactation and test day "
         "in every value: kept with flag 'duplicate' and excluded from fitting by rule."
         if n_dup else "No repeated records."),
        "Not carried: " + (", ".join(repr(c) for c in table.unused_columns)
                           + " (not recognised as test-day columns)"
                           if table.unused_columns else "none") + ".",
    ]
    counts_lines = [f"- `{o}`: {k}" for o, k in rows_per_observable.items()]
    lines = [
        f"# {title}", "",
        f"Dataset `{name}`: {len(observations)} rows in `{TABLE_FILE}`. Rows per "
        "observable:", "", *counts_lines, "",
        "## Source", "",
        f"- Citation: {fields['citation']}",
        f"- Obtained from: user file `{source.name}` (sha256 `{fields['source_sha256']}`)",
        "- Verified against the publication: n/a (user-imported records)", "",
        "## Transcription notes", "",
        *[f"- {t}" for t in notes], "",
        "## Licence", "", fields["licence"], "",
        "## Table", "",
        f"`{TABLE_FILE}`, sha256 `{digest}` (checked on every load). Columns and units: "
        "docs/datasets.md.", "",
        "## Assumptions for simulation", "",
        design.assumptions + " (lactojax.datasets.design.default_cow_design; used by "
        "design_for for a dataset without a recorded design)", "",
        "This file is generated by `lactojax data import-testday`.", "",
    ]
    return render_provenance(fields, "\n".join(lines))


def _common_frequency(subjects: pd.DataFrame) -> int | None:
    freq = subjects["milkings_per_day"].dropna()
    return int(freq.mode().min()) if len(freq) else None


def parse_column_mapping(text: str | list[str] | None) -> dict[str, str]:
    """'milk_kg=MyYield,cow=Animal' (or a list of such strings) -> {canonical: column}.
    Raises ValueError on an item without '='."""
    items = [text] if isinstance(text, str) else list(text or [])
    mapping: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            canon, sep, column = part.partition("=")
            if not sep or not canon.strip() or not column.strip():
                raise ValueError(f"--columns: expected CANONICAL=COLUMN items separated "
                                 f"by commas (e.g. milk_kg=MyYield,cow=Animal); found "
                                 f"{part!r}")
            mapping[canon.strip()] = column.strip()
    return mapping
