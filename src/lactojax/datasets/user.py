"""A user's own observation tables: the schema's rules, with the optional columns left out
and every problem listed at once.

A user table needs only `REQUIRED_COLUMNS` (t_start_h, t_end_h, observable, value, unit);
the other schema columns may be left out and take `OPTIONAL_DEFAULTS` (subject "",
statistic "value", source_row the row number, the rest empty). Unknown columns are a
problem. The rules are those of `lactojax.datasets.schema.validate`, run in its
collecting mode, so that `observation_problems` names every bad cell of every row.

`read_user_observations` raises `UserDataError` (a `DatasetError`, so a ValueError)
whose `.problems` lists every problem and whose row/column are the first one's.

`load_user_dataset` loads a file (or a directory holding observations.csv) as a
`Dataset`: with a PROVENANCE.md next to it exactly as `load_dataset` checks one
(checksum, row count); without, with a `UserDataWarning` and a provenance record built
from the file (its SHA-256, "unpublished (user data)", licence "unstated"), which the
fit records in its provenance.json.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from lactojax.datasets import exclusions
from lactojax.datasets.loader import Dataset, with_model_units
from lactojax.datasets.provenance import Provenance, read_provenance, sha256_file
from lactojax.datasets.registry import PROVENANCE_FILE
from lactojax.datasets.schema import (
    COLUMN_NAMES,
    COLUMN_TYPES,
    DatasetError,
    Problem,
    ProblemsError,
    in_row_order,
    validate_all,
)

REQUIRED_COLUMNS = ("t_start_h", "t_end_h", "observable", "value", "unit")
# Defaults of the optional columns ("" = empty cell; source_row: the data row number).
OPTIONAL_DEFAULTS: dict[str, str] = {
    "subject": "", "group": "", "gland": "", "statistic": "value", "spread_type": "",
    "spread": "", "lower": "", "upper": "", "n": "", "flag": "", "source_row": "(row)",
    "note": "",
}
TABLE_NAMES = ("observations.csv", "observations.csv.gz")
SPECIES_GLANDS: dict[str, tuple[str, ...]] = {
    "human": ("", "left", "right"), "goat": ("", "left", "right"),
    "cow": ("", "LF", "RF", "LR", "RR"),
}
USER_CITATION = "unpublished (user data)"
_CACHE: dict[tuple, Dataset] = {}  # as `loader.load_dataset`'s: keyed by the file's path, size and mtime
USER_LICENCE = "unstated"


class UserDataError(ProblemsError):
    """A user's table with problems: `.problems` lists every one (message: the first 20,
    one per line, then '... and N more'). A DatasetError for code that catches those."""


class UserDataWarning(UserWarning):
    """User data loaded without a PROVENANCE.md (its checksum goes into the fit's
    provenance.json instead)."""


def read_text_table(path, what: str) -> tuple[pd.DataFrame | None, list[str], list[Problem]]:
    """Read a CSV (or csv.gz) file with every cell as stripped text.

    Returns (frame, header as written, problems); frame is None when the file cannot be
    read (missing, a directory, empty, not UTF-8, malformed CSV: one problem saying so).
    A data row with more or fewer fields than the header is a problem naming the row
    (it is then padded with empty cells or cut, so its other cells are still checked).
    Blank lines are skipped. `what` names the expected file in problems ("a feed log",
    ...). A UTF-8 byte order mark (spreadsheet exports) is accepted.
    """
    import csv
    import gzip

    file = str(path)
    p = Path(path)

    def fail(expected: str, found: str):
        return None, [], [Problem(file, None, "(file)", expected, found)]

    if p.is_dir():
        return fail(f"{what} file", "a directory")
    if not p.is_file():
        return fail(f"{what} file", "no such file")
    opener = gzip.open if p.name.endswith(".gz") else open
    try:
        with opener(p, "rt", encoding="utf-8-sig", newline="") as f:
            lines = [r for r in csv.reader(f, strict=True) if r]
    except UnicodeDecodeError as err:
        return fail("UTF-8 text", f"undecodable bytes ({err.reason} at byte {err.start})")
    except (csv.Error, OSError, EOFError) as err:
        return fail("well-formed CSV", str(err).strip())
    if not lines:
        return fail("a header line naming the columns", "an empty file")
    header = [c.strip() for c in lines[0]]
    problems: list[Problem] = []
    width = len(header)
    body = []
    for r, cells in enumerate(lines[1:], start=1):
        if len(cells) != width:
            problems.append(Problem(file, r, "(row)",
                                    f"{width} fields, as in the header", f"{len(cells)} "
                                    f"field{'s' if len(cells) != 1 else ''}"))
            cells = (cells + [""] * width)[:width]
        body.append([c.strip() for c in cells])
    # positional columns: a repeated name stays repeated (reported by the callers)
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    frame.columns = header
    return frame, header, problems


def header_problems(file: str, header: list[str], allowed, expected: str, problems: list) -> bool:
    """Append a problem for every repeated column and every column not in `allowed`;
    True when a column is repeated (the rows cannot be read by name)."""
    repeated = list(dict.fromkeys(c for c in header if header.count(c) > 1))
    for col in repeated:
        problems.append(Problem(file, None, col, "each column once", f"columns {header}"))
    for col in dict.fromkeys(header):
        if col not in allowed:
            problems.append(Problem(file, None, col, expected, f"unknown column {col!r}"))
    return bool(repeated)


def _user_frame(path, species: str | None) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The file as a full schema table of text (defaults filled in), or None, and the
    header / file problems."""
    file = str(path)
    frame, header, problems = read_text_table(path, "an observation table")
    if frame is None:
        return None, problems
    fatal = header_problems(file, header, COLUMN_TYPES, f"only the schema's columns (required: "
                            f"{', '.join(REQUIRED_COLUMNS)}; optional: {', '.join(OPTIONAL_DEFAULTS)})", problems)
    for col in REQUIRED_COLUMNS:
        if col not in header:
            problems.append(Problem(
                file, None, col, f"a column named {col!r} (required: "
                f"{', '.join(REQUIRED_COLUMNS)})", f"columns {header}"))
            fatal = True
    if species is not None and species not in SPECIES_GLANDS:
        raise ValueError(f"species must be one of {list(SPECIES_GLANDS)}, got {species!r}")
    if fatal:
        return None, problems
    if len(frame) == 0:
        problems.append(Problem(file, None, "(file)", "at least one data row",
                                "a header only"))
        return None, problems
    rows = np.arange(1, len(frame) + 1).astype(str)
    full = pd.DataFrame(index=frame.index)
    for col in COLUMN_NAMES:
        if col in frame:
            full[col] = frame[col].astype(str)
        elif col == "source_row":
            full[col] = rows
        else:
            full[col] = OPTIONAL_DEFAULTS[col]
    return full, problems


def _species_glands(full: pd.DataFrame, file: str, species: str | None) -> list[Problem]:
    """Gland names of another species (a cow quarter in a human table)."""
    if species is None:
        return []
    allowed = SPECIES_GLANDS[species]
    from lactojax.datasets.schema import GLANDS

    wrong = full["gland"].isin(list(GLANDS)) & ~full["gland"].isin(list(allowed))
    return [Problem(file, int(i) + 1, "gland",
                    f"one of {list(allowed)} for a {species} ('' for all/unknown)",
                    full["gland"].iloc[i]) for i in np.flatnonzero(wrong.to_numpy())]


def _check(path, species: str | None) -> tuple[pd.DataFrame | None, list[Problem]]:
    full, problems = _user_frame(path, species)
    if full is None:
        return None, in_row_order(problems)
    table, row_problems = validate_all(full, str(path))
    problems += row_problems + _species_glands(full, str(path), species)
    problems = in_row_order(problems)
    return (None if problems else table), problems


def observation_problems(path, species: str | None = None) -> list[Problem]:
    """Every problem in a user's observation table (csv or csv.gz), in row order: the
    header (unknown, missing required or repeated columns), then each bad cell of each
    row by the rules of `schema.validate` (a cell once, by the first rule it breaks).
    With `species` (human, cow, goat), gland names must be that species' ones. [] for a
    valid table. When required columns are missing only the header is checked."""
    return _check(path, species)[1]


def read_user_observations(path, species: str | None = None) -> pd.DataFrame:
    """Read and validate a user's observation table; returns the full schema table
    (`schema.validate`'s types, defaults filled in). Raises UserDataError listing every
    problem (`.problems`)."""
    table, problems = _check(path, species)
    if problems:
        raise UserDataError(problems)
    return table


def _name_of(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv"):
        name = name.removesuffix(suffix)
    return name


def load_user_dataset(path, species: str = "human", name: str | None = None) -> Dataset:
    """A user's observation table as a `Dataset` (model units and exclusions as
    `load_dataset`).

    path: a csv / csv.gz file, or a directory holding observations.csv (or .csv.gz).
    With a PROVENANCE.md in that directory (naming this table), it is checked as by
    `load_dataset` (SHA-256 and row count; its species must equal `species`). Without,
    a `UserDataWarning` is issued and the provenance is built from the file: name
    (`name`, else the file's stem, or the directory's name for a directory or a file
    named observations.csv), title "user data: <path>",
    species, table, sha256 (of the file's bytes), rows, citation "unpublished (user
    data)", licence "unstated", source_file (the path).
    Raises UserDataError (a DatasetError) for bad content, DatasetError for a missing
    table or a checksum / row-count mismatch, ProvenanceError for a malformed
    PROVENANCE.md.
    """
    if species not in SPECIES_GLANDS:
        raise ValueError(f"species must be one of {list(SPECIES_GLANDS)}, got {species!r}")
    path = Path(path)
    prov = None
    if path.is_dir():
        directory = path
        if (directory / PROVENANCE_FILE).is_file():
            prov = read_provenance(directory / PROVENANCE_FILE)
            table_path = directory / prov.table
        else:
            found = [directory / t for t in TABLE_NAMES if (directory / t).is_file()]
            table_path = found[0] if found else directory / TABLE_NAMES[0]
        default_name = directory.resolve().name
    else:
        directory = path.parent
        table_path = path
        default_name = _name_of(path)
        if path.name in TABLE_NAMES:  # .../mother_a/observations.csv is "mother_a"
            default_name = directory.resolve().name
        candidate = directory / PROVENANCE_FILE
        if candidate.is_file():
            record = read_provenance(candidate)
            if record.table == path.name:  # a PROVENANCE.md of another table is not this one's
                prov = record
    if not table_path.is_file():
        raise DatasetError(table_path, None, "(file)",
                           "an observation table (csv or csv.gz; a directory must hold "
                           "observations.csv)", "no such file")
    # a fit opens the same table for its rows, covariates and provenance: read it once
    stat = table_path.stat()
    key = (str(table_path.resolve()), stat.st_size, stat.st_mtime_ns, species, name, str(path),
           None if prov is None else tuple(sorted(prov.fields.items())))
    cached = _CACHE.get(key)
    if cached is not None:
        return replace(cached, table=cached.table.copy(), used=cached.used.copy())

    digest = sha256_file(table_path)
    if prov is not None:
        if prov.species != species:
            raise DatasetError(directory / PROVENANCE_FILE, None, "species",
                               f"the species being fitted ({species!r})", prov.species)
        if digest != prov.sha256:
            raise DatasetError(
                table_path, None, "(whole file)",
                f"the table recorded in {directory / PROVENANCE_FILE} (sha256 "
                f"{prov.sha256}); the file changed since its provenance was written: "
                "update the record or remove it", f"sha256 {digest}")
    table = read_user_observations(table_path, species)
    if prov is not None:
        if len(table) != prov.rows:
            raise DatasetError(table_path, None, "(whole file)",
                               f"{prov.rows} data rows as recorded in PROVENANCE.md",
                               f"{len(table)} rows")
    else:
        warnings.warn(
            f"{table_path}: no {PROVENANCE_FILE} found next to it; loading it as user "
            f"data (citation {USER_CITATION!r}, licence {USER_LICENCE!r}); its sha256 "
            f"{digest} is recorded in the fit's provenance.json", UserDataWarning,
            stacklevel=2)
        t0, t1 = table["t_start_h"].dropna(), table["t_end_h"].dropna()
        fields = {
            "name": name or default_name,
            "title": f"user data: {path}",
            "species": species,
            "kind": "user",
            "table": table_path.name,
            "sha256": digest,
            "rows": str(len(table)),
            "observables": ", ".join(sorted(table["observable"].unique())),
            "t_min_h": f"{t0.min():g}" if len(t0) else "",
            "t_max_h": f"{t1.max():g}" if len(t1) else "",
            "citation": USER_CITATION,
            "licence": USER_LICENCE,
            "source_file": str(path),
            "verified": "no (user data)",
        }
        prov = Provenance(table_path, fields, "")  # no record file: the table
    table = with_model_units(table)
    used, report = exclusions.fit_mask(table)
    ds = Dataset(str(name or prov.name), directory, table_path, table, prov, report, used)
    _CACHE[key] = ds
    return replace(ds, table=table.copy(), used=used.copy())
