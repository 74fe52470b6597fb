"""Load, validate and write datasets.

`load_dataset(name)` reads `data/<name>/PROVENANCE.md`, checks the table's SHA-256
against it, validates every row (`lactojax.datasets.schema`), converts values to model
units (`lactojax.datasets.units`, the only place units are converted) and applies the
exclusion rules (`lactojax.datasets.exclusions`) so that the rows fitting will not use
are counted with their reasons. Nothing is dropped from `Dataset.table`.

Columns added on load (model units): value_model, spread_model (SD/SEM in model units;
a CV stays in %), lower_model, upper_model, unit_model.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lactojax.atomic import write_bytes, write_text
from lactojax.datasets import exclusions, units
from lactojax.datasets.provenance import Provenance, read_provenance, sha256_file
from lactojax.datasets.registry import PROVENANCE_FILE, dataset_dir
from lactojax.datasets.schema import (
    COLUMN_NAMES,
    COLUMN_TYPES,
    STR,
    DatasetError,
    check_columns,
    validate,
)
from lactojax.datasets.vocabulary import VOCABULARY

MODEL_COLUMNS = ("value_model", "spread_model", "lower_model", "upper_model", "unit_model")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated dataset.

    name: dataset name (directory name).
    path: the dataset directory.
    table_path: the observation table file.
    table: validated rows (schema columns in source units, plus MODEL_COLUMNS).
    provenance: the parsed PROVENANCE.md header (citation, licence, sha256, ...).
    exclusions: which rows fitting excludes by rule, with counts and reasons.
    used: boolean mask (aligned with `table`) of rows fitting uses.
    """

    name: str
    path: Path
    table_path: Path
    table: pd.DataFrame
    provenance: Provenance
    exclusions: exclusions.ExclusionReport
    used: np.ndarray

    @property
    def species(self) -> str:
        return self.provenance.species

    def fit_rows(self) -> pd.DataFrame:
        """Rows used by likelihoods (exclusion rules applied; see `exclusions`)."""
        return self.table.loc[self.used]

    def observable_counts(self) -> pd.Series:
        """Rows per observable (all rows, including excluded ones)."""
        return self.table["observable"].value_counts().sort_index()

    def subjects(self) -> list[str]:
        """Sorted distinct subject ids (individual records); empty for summary datasets."""
        s = self.table["subject"]
        return sorted(s[s != ""].unique().tolist())

    def groups(self) -> list[str]:
        """Sorted distinct group labels."""
        g = self.table["group"]
        return sorted(g[g != ""].unique().tolist())

    def time_span_h(self) -> tuple[float, float] | None:
        """(earliest t_start_h, latest t_end_h) over time-indexed rows, or None."""
        t0 = self.table["t_start_h"].dropna()
        t1 = self.table["t_end_h"].dropna()
        if t0.empty:
            return None
        return float(t0.min()), float(t1.max())


def read_observations(path: str | Path) -> pd.DataFrame:
    """Read and validate an observation table (csv or csv.gz); schema columns only.

    Raises DatasetError naming file, row, column and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, None, "(file)", "an observation table file", "no such file")
    try:
        header = pd.read_csv(path, nrows=0, compression="infer", encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DatasetError(path, None, "(file)", "a header line with the schema's columns",
                           "an empty file") from None
    check_columns(header.columns, path)
    numeric = [c for c in COLUMN_NAMES if COLUMN_TYPES[c] != STR]
    try:
        # Fast path: the C parser reads numbers; "" is NaN, any other non-number
        # (including the text "nan") fails and we fall back to the slow path.
        raw = pd.read_csv(path, dtype={c: ("float64" if c in numeric else str)
                                       for c in COLUMN_NAMES},
                          keep_default_na=False, na_values={c: [""] for c in numeric},
                          compression="infer", encoding="utf-8")
    except (ValueError, TypeError, pd.errors.ParserError):
        # Slow path: read every cell as text and let validation name the bad cell.
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                              compression="infer", encoding="utf-8")
        except pd.errors.ParserError as err:
            raise DatasetError(path, None, "(file)", "well-formed CSV", str(err)) from None
    return validate(raw, path)


def with_model_units(table: pd.DataFrame) -> pd.DataFrame:
    """Copy of a validated table with MODEL_COLUMNS added (values in model units)."""
    out = table.copy()
    f = units.factors_for(out["observable"], out["unit"])
    is_cv = (out["spread_type"] == "CV").to_numpy()
    out["value_model"] = out["value"].to_numpy() * f
    out["spread_model"] = np.where(is_cv, out["spread"].to_numpy(),
                                   out["spread"].to_numpy() * f)
    out["lower_model"] = out["lower"].to_numpy() * f
    out["upper_model"] = out["upper"].to_numpy() * f
    model_unit = {name: o.model_unit for name, o in VOCABULARY.items()}
    out["unit_model"] = out["observable"].map(model_unit).astype("str")
    return out


def table_bytes(table: pd.DataFrame, path: str | Path) -> bytes:
    """The bytes `write_observations` writes for `table` at `path` (deterministic)."""
    check_columns([c for c in table.columns if c not in MODEL_COLUMNS], path)
    frame = table.loc[:, list(COLUMN_NAMES)]
    text = frame.to_csv(index=False, na_rep="", lineterminator="\n")
    data = text.encode("utf-8")
    if str(path).endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0,
                           compresslevel=9) as gz:
            gz.write(data)
        data = buf.getvalue()
    return data


def write_observations(table: pd.DataFrame, path: str | Path) -> str:
    """Write a table (schema columns, source units) to csv / csv.gz; returns its sha256.

    The output is byte-for-byte deterministic (gzip mtime 0), so rewriting an unchanged
    table reproduces the file and its checksum.
    """
    path = Path(path)
    data = table_bytes(table, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, data)
    return sha256_file(path)


_CACHE: dict[tuple, Dataset] = {}


def load_dataset(name: str | Path, *, root: str | Path | None = None,
                 verify_checksum: bool = True) -> Dataset:
    """Load dataset `name` (a name under the data root, or a dataset directory).

    Checks the table's SHA-256 against PROVENANCE.md (verify_checksum=True) and the row
    count it records, validates every row, converts to model units and computes the
    exclusion report. Raises UnknownDatasetError for an unknown name, DatasetError for
    bad content, ProvenanceError for a malformed PROVENANCE.md.
    """
    directory = dataset_dir(name, root)
    prov = read_provenance(directory / PROVENANCE_FILE)
    table_path = directory / prov.table
    if not table_path.is_file():
        raise DatasetError(directory / PROVENANCE_FILE, None, "table",
                           f"an existing table file ({table_path} is missing)", prov.table)
    stat = table_path.stat()
    key = (str(table_path.resolve()), stat.st_size, stat.st_mtime_ns, verify_checksum,
           tuple(sorted(prov.fields.items())))
    cached = _CACHE.get(key)
    if cached is not None:
        return replace(cached, table=cached.table.copy(), used=cached.used.copy())
    if verify_checksum:
        digest = sha256_file(table_path)
        if digest != prov.sha256:
            raise DatasetError(
                table_path, None, "(whole file)",
                f"the table recorded in {directory / PROVENANCE_FILE} "
                f"(sha256 {prov.sha256}); the file changed since its provenance was "
                "written: rebuild it (scripts/build_datasets.py) or update the record",
                f"sha256 {digest}")
    table = read_observations(table_path)
    if len(table) != prov.rows:
        raise DatasetError(table_path, None, "(whole file)",
                           f"{prov.rows} data rows as recorded in PROVENANCE.md",
                           f"{len(table)} rows")
    table = with_model_units(table)
    used, report = exclusions.fit_mask(table)
    ds = Dataset(str(prov.name), directory, table_path, table, prov, report, used)
    _CACHE[key] = ds
    return replace(ds, table=table.copy(), used=used.copy())


def write_dataset(dataset: Dataset, directory: str | Path) -> Path:
    """Write a dataset (table in source units + PROVENANCE.md with the new checksum) to
    `directory`; `load_dataset(directory)` reads it back."""
    from lactojax.datasets.provenance import render_provenance

    directory = Path(directory)
    table_path = directory / dataset.provenance.table
    digest = write_observations(dataset.table, table_path)
    fields = dict(dataset.provenance.fields)
    fields["sha256"] = digest
    fields["rows"] = str(len(dataset.table))
    write_text(directory / PROVENANCE_FILE, render_provenance(fields, dataset.provenance.body))
    return directory
