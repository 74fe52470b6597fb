"""Daily milk yields (kg/d) per lactation from a lactojax dataset table.

Conventions (lactojax.datasets.design; data/milkman/PROVENANCE.md): day d in milk counts
calendar days from calving (calving day = day 0) and covers [24 d - 12, 24 d + 12) hours
since calving (`design.day_window_h`).

- `milk_yield_daily` rows (kg/d) are already the yield of day d, with t_start_h =
  24 d - 12 and a 24 h window; rows with another window (e.g. weekly means) are dropped.
- `milk_yield_per_milking` rows (kg at one milking, time = t_end_h, the milking) are
  summed per day d containing t_end_h. Only days with the full complement of milkings are
  kept: the most frequent number of milkings per day of that lactation (2 for milkman).
  A day with a missing milking would read as half a day's milk; a day with an extra one
  is a recording anomaly. Both are dropped and reported, never silently.

When a lactation has both kinds on the same day, the daily record is kept. Days before
day 1 (the calving day) are dropped: days in milk start at 1.

Values: `value_model` when the table has it (lactojax.datasets.units converts kg yields
to model units kg and kg/d: factor 1, checked against `unit_model`), otherwise `value`
converted with its `unit`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lactojax.datasets import units
from lactojax.datasets.design import CALVING_CLOCK_H

log = logging.getLogger(__name__)

PER_MILKING = "milk_yield_per_milking"
DAILY = "milk_yield_daily"
_KG_UNIT = {PER_MILKING: "kg", DAILY: "kg/d"}  # the unit each observable is summed in


@dataclass(frozen=True)
class DailyYields:
    """Daily yields per lactation and what was left out.

    by_subject: subject -> DataFrame (dim: int day in milk, yield_kg_d: float), sorted by
    dim; dropped: one row per day left out (subject, dim, n_milkings, expected, reason;
    n_milkings/expected are 0 for daily records).
    """

    by_subject: dict[str, pd.DataFrame]
    dropped: pd.DataFrame

    def summary(self) -> str:
        kept = sum(len(d) for d in self.by_subject.values())
        out = f"{len(self.by_subject)} lactations, {kept} days kept, {len(self.dropped)} days dropped"
        if len(self.dropped):
            counts = self.dropped["reason"].value_counts()
            out += ": " + "; ".join(f"{n} {reason}" for reason, n in counts.items())
        return out


def day_of(t_h, calving_clock_h: float = CALVING_CLOCK_H) -> np.ndarray:
    """Day in milk d whose window [24 d - 12, 24 d + 12) h contains t_h (hours since
    calving, with calving at `calving_clock_h` o'clock; window edges as in
    design.day_window_h)."""
    return np.floor((np.asarray(t_h, dtype=float) + calving_clock_h) / 24.0).astype(int)


def _yields_kg(rows: pd.DataFrame) -> np.ndarray:
    """Values in kg (per milking) or kg/d (daily), from value_model or value + unit."""
    obs = rows["observable"]
    if "value_model" in rows:
        if "unit_model" in rows:
            bad = rows["unit_model"].to_numpy() != obs.map(_KG_UNIT).to_numpy()
            if bad.any():
                r = rows[bad].iloc[0]
                raise ValueError(f"subject {r['subject']!r}: {r['observable']} value_model in "
                                 f"{r['unit_model']!r}, expected {_KG_UNIT[r['observable']]!r}")
        return rows["value_model"].to_numpy(dtype=float)
    if "unit" not in rows:
        raise ValueError("table has neither value_model nor value with unit")
    # the model units of these observables are kg and kg/d, so the factor gives kg
    return rows["value"].to_numpy(dtype=float) * units.factors_for(obs, rows["unit"])


def daily_yield_records(table: pd.DataFrame) -> DailyYields:
    """Daily milk yields (kg/d) per subject from a dataset table (module docstring)."""
    need = {"subject", "t_start_h", "t_end_h", "observable"}
    missing = need - set(table.columns)
    if missing:
        raise ValueError(f"table lacks columns {sorted(missing)}")
    rows = table[table["observable"].isin([PER_MILKING, DAILY])]
    y = _yields_kg(rows)
    frame = pd.DataFrame({"subject": rows["subject"].astype(str).to_numpy(),
                          "observable": rows["observable"].to_numpy(), "y": y,
                          "t_start_h": rows["t_start_h"].to_numpy(dtype=float),
                          "t_end_h": rows["t_end_h"].to_numpy(dtype=float)})
    dropped = []

    def drop(part, reason, n=0, expected=0):
        dropped.append(pd.DataFrame({"subject": part["subject"].to_numpy(), "dim": part["dim"].to_numpy(),
                                     "n_milkings": n, "expected": expected, "reason": reason}))

    bad_value = ~np.isfinite(frame["y"].to_numpy())
    # daily records: the day whose window starts at t_start_h
    daily = frame[(frame["observable"] == DAILY)].copy()
    daily["dim"] = day_of(daily["t_start_h"] + 12.0)
    one_day = np.isclose(daily["t_end_h"] - daily["t_start_h"], 24.0) & np.isclose(
        daily["t_start_h"], 24.0 * daily["dim"] - 12.0)
    drop(daily[~one_day], "daily record whose window is not one calendar day")
    daily = daily[one_day]
    bad = ~np.isfinite(daily["y"])
    drop(daily[bad], "non-finite daily yield")
    daily = daily[~bad].groupby(["subject", "dim"], as_index=False)["y"].mean()

    # per-milking records: summed over the day of the milking (t_end_h)
    milk = frame[(frame["observable"] == PER_MILKING)].copy()
    milk["dim"] = day_of(milk["t_end_h"])
    milk["bad"] = bad_value[(frame["observable"] == PER_MILKING).to_numpy()]
    per_day = milk.groupby(["subject", "dim"], as_index=False).agg(y=("y", "sum"), n=("y", "size"),
                                                                   bad=("bad", "any"))
    # most frequent milkings per day of each subject (ties: the larger count)
    expected = (per_day.groupby("subject")["n"]
                .agg(lambda n: n.value_counts().sort_index(ascending=False).idxmax()))
    per_day["expected"] = per_day["subject"].map(expected)
    drop(per_day[per_day["bad"]], "non-finite milking yield")
    per_day = per_day[~per_day["bad"]]
    for name, sel in (("fewer milkings than the usual number", per_day["n"] < per_day["expected"]),
                      ("more milkings than the usual number", per_day["n"] > per_day["expected"])):
        part = per_day[sel]
        drop(part, name, part["n"].to_numpy(), part["expected"].to_numpy())
    per_day = per_day[per_day["n"] == per_day["expected"]]
    both = per_day.set_index(["subject", "dim"]).index.isin(daily.set_index(["subject", "dim"]).index)
    drop(per_day[both], "per-milking day also has a daily record (daily record kept)")
    days = pd.concat([daily, per_day[~both][["subject", "dim", "y"]]], ignore_index=True)
    early = days["dim"] < 1
    drop(days[early], "before day 1 (calving day)")
    days = days[~early]

    by_subject = {s: (d[["dim", "y"]].rename(columns={"y": "yield_kg_d"}).sort_values("dim")
                      .reset_index(drop=True))
                  for s, d in days.groupby("subject", sort=True)}
    dropped_frame = (pd.concat(dropped, ignore_index=True) if dropped else
                     pd.DataFrame(columns=["subject", "dim", "n_milkings", "expected", "reason"]))
    dropped_frame = dropped_frame.sort_values(["subject", "dim"], kind="stable").reset_index(drop=True)
    out = DailyYields(by_subject=by_subject, dropped=dropped_frame)
    log.info("daily_yield_records: %s", out.summary())
    return out
