"""Study designs: the milk-removal schedule assumed for each dataset, as plain data.

The model needs a feeding or milking schedule to simulate a study; most sources report
only summaries. Each `StudyDesign` records what we assume and why, so the model side can
turn it into model inputs (this module does not import the model). All times in hours;
clock times in hours after midnight.

Conventions shared by the cow datasets (used by scripts/build_datasets.py to compute the
times stored in the tables, so the tables and these designs agree):
- "day d" of lactation counts calendar days with the day of calving as day 0, the usual
  definition of days in milk (DIM = test date - calving date).
- The clock time of calving is not recorded; we assume 12:00 (the midpoint of the unknown
  calving time on day 0, so the error is at most +-12 h). Clock time c on day d is then
  t = 24 d + c - 12 hours since calving (`clock_to_hours`), and day d covers
  [24 d - 12, 24 d + 12) (`day_window_h`).
"""

from __future__ import annotations

from dataclasses import dataclass

CALVING_CLOCK_H = 12.0


def clock_to_hours(day: float, clock_h: float, calving_clock_h: float = CALVING_CLOCK_H
                   ) -> float:
    """Hours since calving of clock time `clock_h` on day `day` (calving day = day 0)."""
    return 24.0 * day + clock_h - calving_clock_h


def day_window_h(first_day: float, last_day: float | None = None,
                 calving_clock_h: float = CALVING_CLOCK_H) -> tuple[float, float]:
    """(start, end) in hours since calving of the calendar days first_day..last_day."""
    last_day = first_day if last_day is None else last_day
    return (clock_to_hours(first_day, 0.0, calving_clock_h),
            clock_to_hours(last_day, 24.0, calving_clock_h))


def milking_window_h(day: int, milking_index: int, clock_h: tuple[float, ...],
                     calving_clock_h: float = CALVING_CLOCK_H) -> tuple[float, float]:
    """(previous scheduled milking, this milking) in hours since calving.

    A yield weighed at milking `milking_index` (0 = first of the day) of day `day` is the
    milk secreted since the previous scheduled milking, which for the first milking of
    the day is the last milking of the previous day. The start is clipped at 0 (calving).
    """
    end = clock_to_hours(day, clock_h[milking_index], calving_clock_h)
    if milking_index > 0:
        start = clock_to_hours(day, clock_h[milking_index - 1], calving_clock_h)
    else:
        start = clock_to_hours(day - 1, clock_h[-1], calving_clock_h)
    return max(start, 0.0), end


@dataclass(frozen=True)
class StudyDesign:
    """Schedule assumptions for one dataset (plain data; no model import).

    dataset: dataset name.
    species: "human" or "cow".
    n_glands: 2 (breasts) or 4 (udder quarters); 0 where not a lactation study.
    removal: "breastfeeding", "milking" or "none".
    feeds_per_day: nominal feeds per 24 h (human), with `feeds_per_day_range` the
        plausible range to sample or test; None for cows.
    feed_duration_h: assumed duration of one feed (h).
    milkings_per_day: milkings per 24 h (cows).
    milking_clock_h: clock times of the milkings (h after midnight), assumed unless the
        source states them.
    birth_clock_h: assumed clock time of delivery/calving (h after midnight).
    horizon_h: simulate from 0 to this time (h) to cover every row of the dataset.
    assumptions: the assumptions in words, with their reasons and sources.
    """

    dataset: str
    species: str
    n_glands: int
    removal: str
    horizon_h: float
    assumptions: str
    feeds_per_day: float | None = None
    feeds_per_day_range: tuple[float, float] | None = None
    feed_duration_h: float | None = None
    milkings_per_day: int | None = None
    milking_clock_h: tuple[float, ...] | None = None
    birth_clock_h: float | None = None


_HUMAN_FEEDING = (
    "Feeding on demand, assumed 10 feeds/24 h (plausible range 8-12, the number of "
    "feeds per 24 h recommended for term newborns: American Academy of Pediatrics, "
    "Section on Breastfeeding 2012, Pediatrics 129:e827), evenly spaced, both breasts "
    "at each feed, 0.25 h per feed (an assumption, not a measurement). The source does "
    "not report the feeding schedule."
)


def _human(dataset: str, horizon_h: float, extra: str = "") -> StudyDesign:
    return StudyDesign(
        dataset=dataset,
        species="human",
        n_glands=2,
        removal="breastfeeding",
        horizon_h=horizon_h,
        assumptions=(_HUMAN_FEEDING + (" " + extra if extra else "")),
        feeds_per_day=10.0,
        feeds_per_day_range=(8.0, 12.0),
        feed_duration_h=0.25,
    )


MILKMAN_MILKING_CLOCK_H = (5.0, 14.5)

_COW_TIME = (
    "Days are days from calving with the calving day as day 0; the calving clock time "
    "is unknown and assumed to be 12:00 (error at most +-12 h); see "
    "lactojax.datasets.design."
)

DESIGNS: dict[str, StudyDesign] = {
    d.dataset: d
    for d in (
        _human("saint1984", 672.0),
        _human("casey1986", 120.0),
        _human("arthur1989", 240.0,
               "Event times (transition start/end) are simulated over 0-240 h."),
        _human("kulski1981", 240.0),
        _human("kent1992", 120.0),
        _human("chonnam1982", 10800.0),
        _human("stolley1981", 2160.0),
        _human("hartmann_kulski1978", 8760.0,
               "The weaning group (qualitative row) stops feeding abruptly after "
               "39-443 days of full lactation."),
        _human("cox1996", 4380.0),
        _human("kent1999", 4380.0),
        _human("dewey1991_darling", 2160.0),
        _human("dewey_lonnerdal1983", 4380.0,
               "Infants received at most 50 kcal/d from other foods (source abstract)."),
        _human("michaelsen1994", 2880.0),
        _human("weitzman1981", 120.0),
        _human("noel1974", 4704.0),
        StudyDesign(
            dataset="sievertsen1980",
            species="human",
            n_glands=0,
            removal="none",
            horizon_h=24.0,
            assumptions="Pharmacokinetic study of infused prolactin in five normal men "
            "(endogenous secretion suppressed by dopamine): no lactation, no feeds. The "
            "half-life informs the prior on the prolactin clearance rate.",
        ),
        StudyDesign(
            dataset="milkman",
            species="cow",
            n_glands=4,
            removal="milking",
            horizon_h=clock_to_hours(305, 24.0),
            milkings_per_day=2,
            milking_clock_h=MILKMAN_MILKING_CLOCK_H,
            birth_clock_h=CALVING_CLOCK_H,
            assumptions=(
                "Milked twice a day (morning ampm=1, evening ampm=2; doBy documentation). "
                "Clock times are not published; we assume 05:00 and 14:30, i.e. a 14.5 h "
                "night interval and a 9.5 h day interval. Reason: the mean morning yield "
                "is 1.547 x the mean evening yield (12.49 vs 8.07 kg over 160,736 "
                "milkings); with near-constant secretion the yield ratio equals the "
                "interval ratio, giving 14.6 h / 9.4 h, rounded to the half hour. Each "
                "yield is the milk secreted since the previous scheduled milking; a "
                "missing record is taken as a milking that was not recorded. The first "
                "(unrecorded) milking is assumed at 14:30 on the calving day, t = 2.5 h, "
                "so the first recorded yield (day 1, 05:00, t = 17 h) covers [2.5, 17] h. "
                + _COW_TIME
            ),
        ),
        StudyDesign(
            dataset="nz_strain_trial",
            species="cow",
            n_glands=4,
            removal="milking",
            horizon_h=clock_to_hours(335, 24.0),
            milkings_per_day=2,
            milking_clock_h=(5.0, 15.0),
            birth_clock_h=CALVING_CLOCK_H,
            assumptions=(
                "Pasture-based New Zealand herds; twice-a-day milking assumed (not stated "
                "in the source); clock times 05:00 and 15:00 assumed. Only weekly means of "
                "daily yield and weekly composition are fitted, so the clock times have "
                "little effect. The calving day of each cow is taken as the end date of "
                "its first milked week minus that week's DaysInMilk. " + _COW_TIME
            ),
        ),
        StudyDesign(
            dataset="nz_nine_cows",
            species="cow",
            n_glands=4,
            removal="milking",
            horizon_h=clock_to_hours(245, 24.0),
            milkings_per_day=2,
            milking_clock_h=(5.0, 15.0),
            birth_clock_h=CALVING_CLOCK_H,
            assumptions="Twice-a-day milking at 05:00 and 15:00 assumed (not stated in "
            "the source). " + _COW_TIME,
        ),
        StudyDesign(
            dataset="bovi_test_day",
            species="cow",
            n_glands=4,
            removal="milking",
            horizon_h=clock_to_hours(305, 24.0),
            milkings_per_day=2,
            milking_clock_h=(5.0, 17.0),
            birth_clock_h=CALVING_CLOCK_H,
            assumptions="Herd-recording test days; milking frequency and times are not in "
            "the source: twice a day at 05:00 and 17:00 assumed. The test-day yield is "
            "the 24 h yield of day DaysInMilk. " + _COW_TIME,
        ),
        StudyDesign(
            dataset="bovi_one_cow_daily",
            species="cow",
            n_glands=4,
            removal="milking",
            horizon_h=clock_to_hours(430, 24.0),
            milkings_per_day=2,
            milking_clock_h=(5.0, 17.0),
            birth_clock_h=CALVING_CLOCK_H,
            assumptions="Daily yields of one cow; milking frequency and times are not in "
            "the source: twice a day at 05:00 and 17:00 assumed. " + _COW_TIME,
        ),
    )
}


# Default design of a user-imported cow dataset (lactojax data import-testday), which has
# no entry in DESIGNS: the conventions of the bundled herd-recording datasets.
DEFAULT_MILKINGS_PER_DAY = 2
FIRST_MILKING_CLOCK_H = 5.0


def evenly_spaced_milkings(milkings_per_day: int,
                           first_clock_h: float = FIRST_MILKING_CLOCK_H) -> tuple[float, ...]:
    """Clock times (h after midnight) of `milkings_per_day` evenly spaced milkings, the
    first at `first_clock_h`: 2 -> (5, 17), 3 -> (5, 13, 21)."""
    n = int(milkings_per_day)
    if n < 1:
        raise ValueError(f"milkings_per_day must be >= 1, got {milkings_per_day!r}")
    return tuple(first_clock_h + 24.0 * i / n for i in range(n))


def default_cow_design(dataset: str, horizon_h: float, milkings_per_day: int | None = None,
                       extra: str = "") -> StudyDesign:
    """Design assumed for a cow dataset with no recorded design (user-imported test-day
    records): 4 quarters machine-milked `milkings_per_day` times a day (default twice, at
    05:00 and 17:00), evenly spaced from 05:00; calving at 12:00; horizon `horizon_h` (h)."""
    n = DEFAULT_MILKINGS_PER_DAY if milkings_per_day is None else int(milkings_per_day)
    clocks = evenly_spaced_milkings(n)
    times = ", ".join(f"{int(c):02d}:{int(round(c % 1 * 60)):02d}" for c in clocks)
    how = ("the milkings per day recorded in subjects.csv" if milkings_per_day is not None
           else "not in the source: twice a day assumed")
    return StudyDesign(
        dataset=dataset,
        species="cow",
        n_glands=4,
        removal="milking",
        horizon_h=float(horizon_h),
        milkings_per_day=n,
        milking_clock_h=clocks,
        birth_clock_h=CALVING_CLOCK_H,
        assumptions=(f"User-imported test-day records (default cow design): {n} milking"
                     f"{'s' if n > 1 else ''} a day ({how}), evenly spaced at {times} "
                     "(clock times assumed). The test-day yield is the 24 h yield of day "
                     "DIM. " + (extra + " " if extra else "") + _COW_TIME),
    )


def _milkings_in_subjects(directory) -> tuple[int | None, str]:
    """(the most common milkings_per_day in `directory`/subjects.csv or None, a note
    when lactations differ)."""
    import csv
    from collections import Counter
    from pathlib import Path

    path = Path(directory) / "subjects.csv"
    if not path.is_file():
        return None, ""
    with open(path, encoding="utf-8", newline="") as f:
        counts = Counter(row["milkings_per_day"].strip() for row in csv.DictReader(f)
                         if (row.get("milkings_per_day") or "").strip())
    if not counts:
        return None, ""
    top = max(counts.items(), key=lambda kv: (kv[1], -int(kv[0])))[0]
    note = ""
    if len(counts) > 1:
        listed = ", ".join(f"{k}/day: {v} lactation{'s' if v > 1 else ''}"
                           for k, v in sorted(counts.items(), key=lambda kv: int(kv[0])))
        note = (f"Lactations differ in milking frequency ({listed}); this dataset-level "
                f"design uses the most common (the lowest on a tie), {top}/day; "
                "subjects.csv has each "
                "lactation's frequency.")
    return int(top), note


def user_design(name, root=None) -> StudyDesign | None:
    """The default cow design of a dataset with no recorded design (None if there is no
    such dataset or it is not a cow dataset). `name` is a dataset name under `root`
    (default: the data root) or a dataset directory."""
    from lactojax.datasets.provenance import read_provenance
    from lactojax.datasets.registry import PROVENANCE_FILE, UnknownDatasetError, dataset_dir

    try:
        directory = dataset_dir(name, root)
    except UnknownDatasetError:
        return None
    prov = read_provenance(directory / PROVENANCE_FILE)
    if prov.species != "cow":
        return None
    horizon = float(prov.get("t_max_h") or clock_to_hours(305, 24.0))
    milkings, note = _milkings_in_subjects(directory)
    return default_cow_design(prov.name, horizon, milkings, note)


def design_for(name: str, root=None) -> StudyDesign:
    """The StudyDesign of dataset `name`: the recorded one (`DESIGNS`), else, for a cow
    dataset under the data root (or `root`, or a dataset directory) that has none, such
    as one imported with `lactojax data import-testday`, `default_cow_design` with the
    milking frequency of its subjects.csv. KeyError if neither applies."""
    if str(name) in DESIGNS:
        return DESIGNS[str(name)]
    design = user_design(name, root)
    if design is None:
        raise KeyError(f"no study design recorded for dataset {str(name)!r}")
    return design
