"""Rules that keep a loaded row out of likelihoods, each with a reason and a count.

Nothing is dropped from a loaded table. Fitting uses the rows that pass these rules, in
order (a row is counted under the first rule that excludes it):

1. qualitative: qualitative facts are kept for scenario tests, never likelihood rows;
2. flag: rows flagged in the table (estimated values, duplicates in the source,
   values at a reporting limit, unverified sources) - see `schema.FLAGS`;
3. unmodelled: observables with `modelled=False` in the vocabulary;
4. non-positive value on a log-scale likelihood: an individual value <= 0 whose
   likelihood is log-normal or log-Student-t (e.g. a somatic cell count recorded as 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lactojax.datasets.schema import FLAGS
from lactojax.datasets.vocabulary import (
    LOG_STUDENT_T,
    LOGNORMAL,
    VOCABULARY,
    observable_property,
)


@dataclass(frozen=True)
class Exclusion:
    """One reason rows were excluded, and how many."""

    rule: str
    reason: str
    count: int


@dataclass(frozen=True)
class ExclusionReport:
    """Counts of rows used and excluded (by rule and reason) for one table."""

    n_total: int
    n_used: int
    entries: tuple[Exclusion, ...]

    @property
    def n_excluded(self) -> int:
        return self.n_total - self.n_used

    def lines(self) -> list[str]:
        out = [f"{self.n_used} of {self.n_total} rows used for fitting; "
               f"{self.n_excluded} excluded"]
        out += [f"  {e.count:>8} excluded [{e.rule}]: {e.reason}" for e in self.entries]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def fit_mask(table: pd.DataFrame, include_flags: tuple[str, ...] = ()
             ) -> tuple[np.ndarray, ExclusionReport]:
    """Boolean mask of rows usable in likelihoods, and the report of the others.

    include_flags: flags whose rows should be used anyway (e.g. ("estimated",)).
    """
    remaining, report, _ = _apply_rules(table, include_flags)
    return remaining, report


def exclusion_reasons(table: pd.DataFrame, include_flags: tuple[str, ...] = ()) -> np.ndarray:
    """Per row: "" if fitting may use it, else "[rule] reason" of the first rule that
    excludes it (the rules and order of `fit_mask`), e.g. "[non-positive]
    somatic_cell_count: value <= 0 in the source; its log-scale likelihood is undefined"."""
    return _apply_rules(table, include_flags)[2]


def _apply_rules(table: pd.DataFrame, include_flags: tuple[str, ...]):
    n = len(table)
    remaining = np.ones(n, dtype=bool)
    why = np.full(n, "", dtype=object)
    entries: list[Exclusion] = []

    def exclude(mask: np.ndarray, rule: str, reason: str) -> None:
        nonlocal remaining
        hit = mask & remaining
        if hit.any():
            entries.append(Exclusion(rule, reason, int(hit.sum())))
            why[hit] = f"[{rule}] {reason}"
            remaining &= ~hit

    stat = table["statistic"].to_numpy(dtype=object)
    exclude(stat == "qualitative", "qualitative",
            "qualitative fact (kept for scenario tests; not a likelihood row)")

    flags = table["flag"].to_numpy(dtype=object)
    for flag, reason in FLAGS.items():
        if flag and flag not in include_flags:
            exclude(flags == flag, f"flag={flag}", reason)

    obs = table["observable"].to_numpy(dtype=object)
    for name in pd.unique(obs):
        entry = VOCABULARY[name]
        if not entry.modelled:
            exclude(obs == name, "unmodelled",
                    f"{name}: not predicted by the model ({entry.unmodelled_reason})")

    family = observable_property(obs, "individual_likelihood")
    log_scale = np.isin(family, (LOGNORMAL, LOG_STUDENT_T))
    value = table["value"].to_numpy(dtype=np.float64)
    nonpos = (stat == "value") & log_scale & (np.nan_to_num(value, nan=1.0) <= 0)
    for name in pd.unique(obs[nonpos & remaining]):
        exclude(nonpos & (obs == name), "non-positive",
                f"{name}: value <= 0 in the source; its log-scale likelihood is undefined")

    return remaining, ExclusionReport(n, int(remaining.sum()), tuple(entries)), why
