"""Feed logs: a mother's (or a cow's) own record of milk-removal sessions, as a CSV file.

One row per removal session: a feed from one breast, both breasts at once, a pump
session, a cow's milking. Columns (`FEED_LOG_COLUMNS`; any order, no others):

| column        | required | meaning |
|---------------|----------|---------|
| start_h       | one of   | start, hours since delivery/calving (float >= 0) |
| start         | the two  | start as an ISO 8601 date and time (`2026-03-02T06:15`); needs the delivery time |
| duration_min  | yes      | duration in minutes (> 0) |
| side          | no       | glands drained (`SIDES`); empty = all glands |
| by            | no       | who/what removes the milk (`REMOVERS`); default infant (human), machine (cow, goat) |
| effectiveness | no       | 0 < e <= 1, fraction of available milk the session can remove; default 1 |
| subject       | no       | mother / cow id when one log holds several; default "" |

Sequential breasts at one feed are two rows; both breasts at once is one row with side
`both`. Sessions of one subject may not overlap (the later row is reported). Every
problem names the file, the row (1-based data row and its line), the column, what was
expected and what was found (`Problem`); `feed_log_problems` lists all of them,
`read_feed_log` raises `FeedLogError` carrying all of them.

`feed_log_schedule` turns one subject's rows into a `lactojax.inputs.FeedSchedule`
(validated again by `lactojax.inputs.feed_schedule`); `schedule_to_log` and
`write_feed_log` go the other way.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from lactojax.atomic import write_csv
from lactojax.datasets.schema import Problem, ProblemsError, in_row_order

SPECIES = ("human", "cow", "goat")
DEFAULT_GLANDS: dict[str, int] = {"human": 2, "cow": 4, "goat": 2}

# side -> gland indices (None: every gland). Cow quarters follow schema.GLANDS.
_TWO_SIDES: dict[str, tuple[int, ...] | None] = {"left": (0,), "right": (1,), "both": None}
SIDES: dict[str, dict[str, tuple[int, ...] | None]] = {
    "human": _TWO_SIDES,
    "goat": _TWO_SIDES,
    "cow": {"LF": (0,), "RF": (1,), "LR": (2,), "RR": (3,), "all": None},
}
ALL_GLANDS_SIDE = {"human": "both", "goat": "both", "cow": "all"}

# by -> is_pump (1: pump / machine / hand, no infant appetite; 0: the young suckle).
REMOVERS: dict[str, dict[str, int]] = {
    "human": {"infant": 0, "pump": 1, "hand": 1},
    "cow": {"machine": 1, "hand": 1, "pump": 1, "calf": 0},
    "goat": {"machine": 1, "hand": 1, "pump": 1, "kid": 0},
}
DEFAULT_BY = {"human": "infant", "cow": "machine", "goat": "machine"}
SUCKLER = {"human": "infant", "cow": "calf", "goat": "kid"}

TIME_COLUMNS = ("start_h", "start")
FEED_LOG_COLUMNS = ("subject", "start_h", "start", "duration_min", "side", "by",
                    "effectiveness")
# read_feed_log's table (sorted by subject, then start_h).
LOG_TABLE_COLUMNS = ("subject", "start_h", "end_h", "duration_min", "side", "by",
                     "effectiveness", "is_pump", "source_row")

# Same tolerance as lactojax.inputs.feed_schedule, so that every log accepted here
# builds a schedule.
OVERLAP_TOL_H = 1e-9

_DATE_ONLY = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
_NONFINITE = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_TIMESTAMP_EXAMPLE = "2026-03-02T06:15"


class FeedLogError(ProblemsError):
    """A feed log with problems: `.problems` lists every one (a ValueError, and a
    `DatasetError` whose row and column are those of the first problem)."""


def _check_species(species: str) -> str:
    if species not in SPECIES:
        raise ValueError(f"species must be one of {list(SPECIES)}, got {species!r}")
    return species


def _n_glands(species: str, n_glands: int | None) -> int:
    n = DEFAULT_GLANDS[species] if n_glands is None else int(n_glands)
    if n < 1:
        raise ValueError(f"n_glands must be >= 1, got {n_glands}")
    return n


def allowed_sides(species: str = "human", n_glands: int | None = None) -> list[str]:
    """Side words a log of `species` with `n_glands` glands may use ("" = all)."""
    n = _n_glands(_check_species(species), n_glands)
    return [s for s, idx in SIDES[species].items() if idx is None or max(idx) < n] + [""]


def gland_mask(side: str, species: str = "human", n_glands: int | None = None) -> np.ndarray:
    """(n_glands,) 0/1 mask of the glands a session on `side` drains.

    n_glands defaults to 2 (human, goat) or 4 (cow). "" and both/all mean every gland.
    Raises ValueError for a side the species (or gland count) does not have.
    """
    n = _n_glands(_check_species(species), n_glands)
    side = str(side).strip()
    if side not in allowed_sides(species, n):
        raise ValueError(f"unknown side {side!r} for a {species} with {n} glands; "
                         f"expected one of {allowed_sides(species, n)}")
    mask = np.zeros(n)
    idx = SIDES[species].get(side) if side else None
    if idx is None:
        mask[:] = 1.0
    else:
        mask[list(idx)] = 1.0
    return mask


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 date and time (a date alone is not enough), or None."""
    text = str(text).strip()
    if not text or _DATE_ONLY.match(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def hours_between(t: datetime, t0: datetime) -> float:
    """(t - t0) in hours, rounded once (timedelta division is exact in microseconds)."""
    return (t - t0) / timedelta(hours=1)


def _number(text: str) -> float | None:
    """A finite float from a cell, or None (empty, not a number, NaN or inf)."""
    if text.lower() in _NONFINITE:
        return None
    try:
        x = float(text)
    except ValueError:
        return None
    return x if np.isfinite(x) else None


def _parse(path, species: str, n_glands: int | None, delivery_time: str | None
           ) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Parse and check a feed log: (table or None, problems)."""
    from lactojax.datasets.user import header_problems, read_text_table

    species = _check_species(species)
    n = _n_glands(species, n_glands)
    file = str(path)
    frame, header, problems = read_text_table(path, "a feed log")
    if frame is None:
        return None, problems

    # --- header ----------------------------------------------------------------------
    fatal = header_problems(file, header, FEED_LOG_COLUMNS, f"only feed log columns ({', '.join(FEED_LOG_COLUMNS)})",
                            problems)
    times = [c for c in TIME_COLUMNS if c in header]
    if len(times) != 1:
        problems.append(Problem(
            file, None, "start_h" if not times else "start",
            "exactly one of the columns 'start_h' (hours since delivery) and 'start' "
            f"(ISO 8601 date and time, e.g. {_TIMESTAMP_EXAMPLE})", f"columns {header}"))
        fatal = True
    if "duration_min" not in header:
        problems.append(Problem(file, None, "duration_min",
                                "a column named 'duration_min' (minutes, > 0)",
                                f"columns {header}"))
        fatal = True
    if fatal:
        return None, problems
    if len(frame) == 0:
        problems.append(Problem(file, None, "(file)", "at least one session (data row)",
                                "a header only"))
        return None, problems
    time_col = times[0]

    delivery = None
    if time_col == "start" and delivery_time is not None:
        delivery = parse_timestamp(delivery_time)
        if delivery is None:
            problems.append(Problem(
                file, None, "delivery_time", "the delivery/calving time as an ISO 8601 "
                f"date and time, e.g. {_TIMESTAMP_EXAMPLE}", str(delivery_time)))

    sides = allowed_sides(species, n)
    removers = REMOVERS[species]
    nrows = len(frame)
    start = np.full(nrows, np.nan)
    duration = np.full(nrows, np.nan)
    eff = np.ones(nrows)
    side_out = [""] * nrows
    by_out = [DEFAULT_BY[species]] * nrows
    subject = (frame["subject"].tolist() if "subject" in frame else [""] * nrows)
    no_delivery_reported = False

    def bad(i: int, col: str, expected: str, found: str) -> None:
        problems.append(Problem(file, i + 1, col, expected, found))

    for i in range(nrows):
        row = frame.iloc[i]
        # start
        cell = row[time_col]
        if time_col == "start_h":
            x = _number(cell)
            if x is None:
                bad(i, "start_h", "a number of hours since delivery (>= 0)", cell)
            elif x < 0:
                bad(i, "start_h", "a time >= 0 h (hours since delivery; a session before "
                    "delivery is not part of this lactation)", cell)
            else:
                start[i] = x
        else:
            ts = parse_timestamp(cell)
            if ts is None:
                bad(i, "start", "an ISO 8601 date and time, e.g. "
                    f"{_TIMESTAMP_EXAMPLE}", cell)
            elif delivery_time is None:
                if not no_delivery_reported:  # once: it concerns every row
                    bad(i, "start", "hours since delivery, which a timestamp gives only "
                        "with the delivery time: pass delivery_time (lactojax data "
                        "validate --delivery-time ISO), or give 'start_h' instead "
                        "(applies to every row)", cell)
                    no_delivery_reported = True
            elif delivery is not None:
                try:
                    h = hours_between(ts, delivery)
                except TypeError:
                    bad(i, "start", "a time with a time zone if and only if the delivery "
                        f"time {delivery_time!r} has one", cell)
                else:
                    if h < 0:
                        bad(i, "start", f"a time at or after delivery ({delivery_time})",
                            cell)
                    else:
                        start[i] = h
        # duration
        cell = row["duration_min"]
        x = _number(cell)
        if x is None:
            bad(i, "duration_min", "a number of minutes (> 0)", cell)
        elif x <= 0:
            bad(i, "duration_min", "a positive number of minutes (a session lasts some "
                "time)", cell)
        else:
            duration[i] = x
        # side
        if "side" in frame:
            cell = row["side"]
            if cell not in sides:
                bad(i, "side", f"one of {sides} for a {species} with {n} glands ('' for "
                    "all glands)", cell)
            else:
                side_out[i] = cell
        # by
        if "by" in frame:
            cell = row["by"]
            if cell and cell not in removers:
                bad(i, "by", f"one of {list(removers)} for a {species} ('' for "
                    f"{DEFAULT_BY[species]})", cell)
            elif cell:
                by_out[i] = cell
        # effectiveness
        if "effectiveness" in frame:
            cell = row["effectiveness"]
            if cell:
                x = _number(cell)
                if x is None or not 0 < x <= 1:
                    bad(i, "effectiveness", "a number in (0, 1] (the fraction of the "
                        "available milk the session can remove; '' for 1)", cell)
                else:
                    eff[i] = x

    # Durations in hours once, so that end_h = start_h + duration_min / 60 exactly as
    # feed_log_schedule passes them to the builder.
    end = start + duration / 60.0

    # --- overlaps: per subject, in order of start -----------------------------------------
    ok = np.isfinite(start) & np.isfinite(duration)
    order = sorted(np.flatnonzero(ok), key=lambda i: (subject[i], start[i], i))
    prev_subject, latest = None, None  # latest: row whose session ends last so far
    for i in order:
        if subject[i] != prev_subject:
            prev_subject, latest = subject[i], i
            continue
        if start[i] < end[latest] - OVERLAP_TOL_H:
            who = f" of subject {subject[i]!r}" if subject[i] else ""
            when = f"{end[latest]:.6g} h"
            if delivery is not None:
                ends = delivery + timedelta(hours=float(end[latest]))
                when += f" ({ends.isoformat(timespec='seconds')})"
            bad(i, time_col, f"a start at or after {when}, when the session"
                f"{who} in row {latest + 1} (line {latest + 2}) ends (sessions of one "
                "subject may not overlap; drain both breasts at once in one row with side "
                f"'{ALL_GLANDS_SIDE[species]}')", frame.iloc[i][time_col])
        if end[i] > end[latest]:
            latest = i

    if problems:
        return None, problems
    is_pump = np.array([removers[b] for b in by_out], dtype=float)
    table = pd.DataFrame({
        "subject": pd.Series(subject, dtype="str"),
        "start_h": start,
        "end_h": end,
        "duration_min": duration,
        "side": pd.Series(side_out, dtype="str"),
        "by": pd.Series(by_out, dtype="str"),
        "effectiveness": eff,
        "is_pump": is_pump,
        "source_row": np.arange(1, nrows + 1),
    })
    table = table.sort_values(["subject", "start_h"], kind="stable").reset_index(drop=True)
    table.attrs.update(species=species, n_glands=n, file=file)
    return table, problems


def feed_log_problems(path, species: str = "human", n_glands: int | None = None,
                      delivery_time: str | None = None) -> list[Problem]:
    """Every problem in a feed log (each bad cell of each row, the header, overlaps), in
    row order; [] for a valid log.

    species: human, cow or goat (sets the side and `by` words and the gland count);
    n_glands: default 2 (human, goat) or 4 (cow); delivery_time: ISO 8601 date and time
    of delivery/calving, needed when the log gives `start` timestamps.
    """
    return in_row_order(_parse(path, species, n_glands, delivery_time)[1])


def read_feed_log(path, species: str = "human", n_glands: int | None = None,
                  delivery_time: str | None = None) -> pd.DataFrame:
    """Read and validate a feed log (csv or csv.gz); raises FeedLogError listing every
    problem.

    Returns one row per session, sorted by subject then start_h: subject, start_h and
    end_h (h since delivery; end_h = start_h + duration_min / 60), duration_min (min),
    side ("" for all glands), by (defaults filled in), effectiveness (0..1), is_pump (1 for
    pump / machine / hand, 0 for infant / calf / kid), source_row (1-based data row).
    """
    table, problems = _parse(path, species, n_glands, delivery_time)
    if problems:
        raise FeedLogError(in_row_order(problems))
    return table


def feed_log_subjects(log: pd.DataFrame) -> list[str]:
    """Sorted distinct subjects of a feed log table ("" when it names none)."""
    return sorted(log["subject"].unique().tolist())


def feed_log_schedule(log: pd.DataFrame, n_glands: int | None = None,
                      subject: str | None = None, species: str | None = None,
                      source: str = "feed log"):
    """One subject's sessions as a `FeedSchedule` (via `lactojax.inputs.feed_schedule`).

    log: a `read_feed_log` table; n_glands: glands of the schedule (default: the log's,
    else 2 for human/goat, 4 for cow); subject: which subject (None: the log's only
    subject; ValueError if it has several); species: default the log's (else human).
    start_h is the log's start_h and end_h is start_h + duration_min / 60, bit for bit
    (float64: raises Float64Error unless `lactojax.enable_x64()` was called).
    """
    from lactojax.inputs import feed_schedule
    from lactojax.precision import require_x64

    require_x64("feed_log_schedule (a feed log's times in hours)")

    species = _check_species(species or log.attrs.get("species", "human"))
    if n_glands is None:
        n_glands = log.attrs.get("n_glands")
    n = _n_glands(species, n_glands)
    subjects = feed_log_subjects(log)
    if subject is None:
        if len(subjects) != 1:
            raise ValueError(f"{source}: the log holds {len(subjects)} subjects "
                             f"({subjects[:10]}); choose one with subject=...")
        subject = subjects[0]
    rows = log[log["subject"] == subject]
    if rows.empty:
        raise ValueError(f"{source}: no sessions of subject {subject!r}; the log holds "
                         f"{subjects[:10]}")
    if "duration_min" in rows:
        duration_h = rows["duration_min"].to_numpy(dtype=float) / 60.0
    else:  # a table without durations: only the window is known
        duration_h = rows["end_h"].to_numpy(dtype=float) - rows["start_h"].to_numpy(float)
    masks = np.stack([gland_mask(s, species, n) for s in rows["side"]])
    return feed_schedule(rows["start_h"].to_numpy(dtype=float), duration_h, masks,
                         rows["effectiveness"].to_numpy(dtype=float),
                         rows["is_pump"].to_numpy(dtype=float), source=source)


def _exact_duration_min(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Durations d (min) with start + d / 60 == end bit for bit where some float does:
    the one with fewest decimals (a log's 10 min, not 9.999999999999998), else searching
    a few ulps around (end - start) * 60; else the nearest."""
    d = (end - start) * 60.0
    best = d.copy()
    done = np.zeros(d.shape, dtype=bool)
    for decimals in range(10):
        cand = np.round(d, decimals)
        hit = ~done & (start + cand / 60.0 == end)
        best[hit] = cand[hit]
        done |= hit
    hit = ~done & (start + d / 60.0 == end)
    done |= hit
    up, down = d.copy(), d.copy()
    for _ in range(16):
        if done.all():
            break
        up, down = np.nextafter(up, np.inf), np.nextafter(down, -np.inf)
        for cand in (up, down):
            hit = ~done & (start + cand / 60.0 == end)
            best[hit] = cand[hit]
            done |= hit
    return best


def schedule_to_log(schedule, species: str = "human") -> pd.DataFrame:
    """A FeedSchedule written back as a feed log table: start_h, duration_min, side, by,
    effectiveness (padding rows dropped). feed_log_schedule of it rebuilds the same arrays.

    Raises ValueError for a session whose gland mask is not one side word (e.g. two of
    four quarters, or a fraction) or whose is_pump is not 0 or 1.
    """
    from lactojax.inputs import PAD_TIME_H

    species = _check_species(species)
    start = np.asarray(schedule.start_h, dtype=float)
    end = np.asarray(schedule.end_h, dtype=float)
    mask = np.asarray(schedule.gland_mask, dtype=float)
    eff = np.asarray(schedule.effectiveness, dtype=float)
    pump = np.asarray(schedule.is_pump, dtype=float)
    keep = start < PAD_TIME_H
    start, end, mask, eff, pump = start[keep], end[keep], mask[keep], eff[keep], pump[keep]
    n = mask.shape[-1]
    words = {tuple(gland_mask(s, species, n)): s for s in allowed_sides(species, n) if s}
    sides = []
    for i, row in enumerate(mask):
        word = words.get(tuple(row))
        if word is None:
            raise ValueError(f"session {i} drains glands {row.tolist()}: not one of the "
                             f"sides {list(words.values())} of a {species} feed log")
        sides.append(word)
    if not np.all((pump == 0) | (pump == 1)):
        raise ValueError("is_pump must be 0 or 1 in every session of a feed log")
    pump_word = "pump" if species == "human" else "machine"
    by = [pump_word if p else SUCKLER[species] for p in pump]
    return pd.DataFrame({
        "start_h": start,
        "duration_min": _exact_duration_min(start, end),
        "side": pd.Series(sides, dtype="str"),
        "by": pd.Series(by, dtype="str"),
        "effectiveness": eff,
    })


def write_feed_log(table: pd.DataFrame, path) -> Path:
    """Write a feed log table (from `schedule_to_log` or `read_feed_log`) as csv / csv.gz.

    Writes the feed log columns the table has (subject only if some row names one);
    floats are written in full (shortest round-trip form), so reading the file back gives
    the same numbers.
    """
    path = Path(path)
    cols = [c for c in FEED_LOG_COLUMNS if c in table.columns]
    if "subject" in cols and not (table["subject"] != "").any():
        cols.remove("subject")
    missing = [c for c in ("duration_min",) if c not in cols]
    if missing or not any(c in cols for c in TIME_COLUMNS):
        raise ValueError(f"a feed log table needs start_h (or start) and duration_min; "
                         f"got columns {list(table.columns)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table.loc[:, cols], path, index=False, lineterminator="\n", compression="infer", float_format=None)
    return path
