"""Subject covariates of individual-record datasets: breed, parity and milking frequency
per lactation, for the population levels of a herd fit.

Where they come from, in order:
1. `data/<name>/subjects.csv` (written by `lactojax data import-testday`): columns
   subject, breed, parity, milkings_per_day; an empty cell is unrecorded.
2. The bundled datasets' own conventions (`RULES`): milkman's `group` column is the breed
   and its subject id `<cow>_<lactation>` carries the parity; bovi's `group` is
   "parity N"; nz_strain_trial's group names the strain in brackets ("(NZH 6.0)":
   New Zealand Holstein-Friesian at 6.0 t DM/cow/yr).
Parity is reported in classes `PARITY_CLASSES` ("1", "2", "3+"): later lactations are
pooled because few cows reach them (milkman: 288 lactations of 222 cows).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd

from lactojax.datasets.schema import DatasetError

SUBJECTS_FILE = "subjects.csv"
COVARIATES = ("breed", "parity", "milkings_per_day")
UNRECORDED = "unrecorded"
PARITY_CLASSES = ("1", "2", "3+")


@dataclasses.dataclass(frozen=True)
class SubjectRule:
    """How a bundled dataset's columns carry covariates: a regular expression whose first
    group is the value, applied to the `group` column or to the subject id."""

    breed_from_group: str | None = None
    parity_from_group: str | None = None
    parity_from_subject: str | None = None


RULES: dict[str, SubjectRule] = {
    "milkman": SubjectRule(breed_from_group=r"^(.+)$", parity_from_subject=r"_(\d+)$"),
    "bovi_test_day": SubjectRule(parity_from_group=r"^parity (\d+)$"),
    "bovi_one_cow_daily": SubjectRule(parity_from_group=r"^parity (\d+)$"),
    "nz_strain_trial": SubjectRule(breed_from_group=r"\((\w+) "),
}


def parity_class(parity) -> str:
    """"1", "2", "3+" for a lactation number, `UNRECORDED` when missing."""
    try:
        n = int(float(parity))
    except (TypeError, ValueError):
        return UNRECORDED
    if n < 1:
        return UNRECORDED
    return str(n) if n < 3 else "3+"


def _extract(pattern: str | None, values: pd.Series) -> pd.Series:
    if pattern is None:
        return pd.Series(UNRECORDED, index=values.index)
    return values.astype(str).str.extract(pattern, expand=False).fillna(UNRECORDED)


def read_subjects_file(path: Path) -> pd.DataFrame:
    """A dataset's subjects.csv, checked: the columns `subject` + `COVARIATES`, one row
    per subject, milkings_per_day a number in [1, 6] where given."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("subject", *COVARIATES) if c not in table.columns]
    if missing:
        raise DatasetError(path, None, ", ".join(missing), f"the columns subject, {', '.join(COVARIATES)}",
                           list(table.columns))
    dup = np.flatnonzero(table["subject"].duplicated().to_numpy())
    if dup.size:
        raise DatasetError(path, int(dup[0]) + 1, "subject", "each subject once", table["subject"].iloc[dup[0]],
                           more=int(dup.size - 1))
    for i, v in enumerate(table["milkings_per_day"]):
        if v.strip() and not (v.replace(".", "", 1).isdigit() and 1 <= float(v) <= 6):
            raise DatasetError(path, i + 1, "milkings_per_day", "a number of milkings per day, 1-6, or empty", v)
    return table


def subject_covariates(dataset) -> pd.DataFrame:
    """One row per subject of a loaded `Dataset`: subject, breed, parity (class, module
    doc), milkings_per_day (float, NaN when unrecorded)."""
    table = dataset.table
    first = table.drop_duplicates("subject").set_index("subject")
    path = Path(dataset.path) / SUBJECTS_FILE
    if path.exists():
        given = read_subjects_file(path).set_index("subject")
        unknown = sorted(set(given.index) - set(first.index))
        if unknown:
            raise DatasetError(path, None, "subject", "subjects that have observations in the table",
                               unknown[:5], more=max(0, len(unknown) - 5))
        given = given.reindex(first.index).fillna("")
        breed = given["breed"].where(given["breed"].str.strip() != "", UNRECORDED)
        parity = given["parity"].map(parity_class)
        per_day = pd.to_numeric(given["milkings_per_day"], errors="coerce")
    else:
        rule = RULES.get(dataset.name, SubjectRule())
        groups = first["group"].fillna("").astype(str)
        subjects = pd.Series(first.index.astype(str), index=first.index)
        breed = _extract(rule.breed_from_group, groups)
        raw_parity = (_extract(rule.parity_from_group, groups) if rule.parity_from_group
                      else _extract(rule.parity_from_subject, subjects))
        parity = raw_parity.map(parity_class)
        per_day = pd.Series(np.nan, index=first.index)
    return pd.DataFrame({"subject": first.index.astype(str), "breed": breed.to_numpy(),
                         "parity": parity.to_numpy(), "milkings_per_day": per_day.to_numpy(dtype=float)})


__all__ = ["COVARIATES", "PARITY_CLASSES", "RULES", "SUBJECTS_FILE", "SubjectRule", "UNRECORDED",
           "parity_class", "read_subjects_file", "subject_covariates"]
