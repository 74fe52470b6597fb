"""`lactojax simulate`: run the model and write a daily table (CSV) and a plot (PNG).

Human (default): one row per day after delivery, `day`, infant intake (mL/d), composition
(mmol/L, g/L), prolactin and per-gland production (mL/d) (`lactojax.tables.daily_table`).

Cow / goat (`--species cow|goat`): dairy units (`lactojax.dairy.tables`), one row per day in milk:
`dim` (days in milk, 0 = the day of calving), `yield_kg_per_day` (kg/d milked, all glands),
`fat_pct`, `protein_pct`, `lactose_pct` (% w/w, g per 100 g of milk), `scc_k_per_ml`
(somatic cell count of the day's milk, 1e3 cells/mL), then sodium, potassium, chloride,
citrate (mmol/L), Na/K, prolactin (ng/mL), oxytocin (pg/mL), progesterone (ng/mL), fever
(degC), and per quarter (cow) or half (goat) `yield_quarter_<i>_kg_per_day`,
`fullness_max_quarter_<i>`, `sodium_quarter_<i>_mmol_l`. No infant-intake column; the plot's
panels are yield, fat, protein, lactose, SCC, sodium and yield per quarter against days in
milk. Milk density 1.032 g/mL (`lactojax.datasets.units`). With --posterior the bands are of
the same columns (`<column>_median`, `_p05`, `_p95`); --species must be the fit's.
"""

from __future__ import annotations

import argparse
import math
import os
import time

from lactojax.atomic import write_csv
from lactojax.cli import UserInputError
from lactojax.commands import posterior_file
from lactojax.dairy.tables import columns_help
from lactojax.solver import METHOD_NAMES, SOLVER_NAMES


def _parse_param(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--param expects NAME=VALUE, got {text!r}")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--param {name}: {value!r} is not a number") from None


def _number(low: float, strict: bool = True, high: float | None = None, integer: bool = False):
    """argparse type: a finite number (an integer if `integer`) above `low` (at least `low`
    unless `strict`) and at most `high`; argparse names the option in its error (exit 2).
    NaN and inf are refused here, not passed on to the schedule builders (which would read
    them as no feeds, or crash)."""
    rule = (f"{'an integer' if integer else 'a number'} {'>' if strict else '>='} {low:g}"
            + (f" and <= {high:g}" if high is not None else ""))

    def parse(text: str):
        try:
            x = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {rule}, got {text!r}") from None
        if not (math.isfinite(x) and (x > low if strict else x >= low) and (high is None or x <= high)):
            raise argparse.ArgumentTypeError(f"expected {rule}, got {text!r}")
        return x

    return parse


MAX_FEEDS_PER_DAY = 1440  # one a minute: more is a typo, and would build a schedule for minutes


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="simulate a mother (or cow/goat) and write one row per day",
        description="Simulate lactation from delivery and write one row per day. Human: day, "
        "infant intake (mL/day), composition (mmol/L, g/L), prolactin, production per gland "
        "(mL/day). Cow/goat, in dairy units: " + columns_help("cow") + "; then ions (mmol/L), "
        "hormones, and per quarter (cow) or half (goat) fullness and sodium. No infant intake "
        "for cows and goats.",
    )
    p.add_argument("--days", type=_number(0), default=30.0,
                   help="days after delivery (default 30, at most 1096: 3 years)")
    p.add_argument("--feeds-per-day", type=_number(0, high=MAX_FEEDS_PER_DAY), default=None,
                   help="feeds (human) or milkings (cow/goat, a whole number) per day (default 10 / 2)")
    p.add_argument("--glands", type=_number(1, strict=False, integer=True), default=None,
                   help="gland count (default 2; cow 4)")
    p.add_argument("--species", choices=("human", "cow", "goat"), default="human")
    p.add_argument("--feed-minutes", type=_number(0), default=None, help="minutes per gland per session")
    p.add_argument("--no-night-feeds", action="store_true", help="skip feeds 23:00-06:00")
    p.add_argument("--feed-log", default=None, metavar="FEEDS.CSV",
                   help="simulate this feed log (one row per feed; docs/datasets.md, Your own data) instead of "
                        "evenly spaced feeds; it must cover --days")
    p.add_argument("--delivery-time", default=None, metavar="ISO",
                   help="with --feed-log in timestamps: the time of delivery (e.g. 2026-03-01T04:30)")
    p.add_argument("--subject", default=None, help="with --feed-log holding several subjects: the one simulated")
    p.add_argument("--feeds-by-age", default=None, metavar="DAY:N,...",
                   help="human: feeds per day changing with age, e.g. 0:10,90:8,180:6 (replaces "
                        "--feeds-per-day)")
    p.add_argument("--complementary-from-day", type=_number(0, strict=False), default=None,
                   help="human: day other food starts (with --complementary-share)")
    p.add_argument("--complementary-share", type=_number(0, strict=False, high=1), default=None,
                   help="share of the infant's energy from other food once established, 0..1 "
                        "(default 0.6, WHO 1998 at 12-23 months)")
    p.add_argument("--param", action="append", type=_parse_param, default=[], metavar="NAME=VALUE",
                   help="override a parameter (repeatable); see `lactojax params`")
    p.add_argument("--solver-method", choices=METHOD_NAMES, default=METHOD_NAMES[0],
                   help="sessions (default: fixed-step, fast for whole lactations) or adaptive (the detailed "
                        "reference; --solver, --rtol and --atol apply to it)")
    p.add_argument("--solver", choices=SOLVER_NAMES, default="tsit5",
                   help="adaptive: tsit5 (default), kvaerno5, dopri5, ...")
    p.add_argument("--rtol", type=_number(0), default=1e-6)
    p.add_argument("--atol", type=_number(0), default=1e-6)
    p.add_argument("--posterior", default=None,
                   help="posterior.nc of a fit (or the fit's output directory): write predictive median / 5%% / "
                        "95%% per column")
    p.add_argument("--draws", type=_number(1, strict=False, integer=True), default=100,
                   help="posterior draws to simulate (with --posterior)")
    p.add_argument("--out", default="simulation.csv", help="CSV path (default simulation.csv)")
    p.add_argument("--plot", default=None, help="PNG path for the curves")
    p.set_defaults(func=run)


def _parse_plan(text: str) -> list[tuple[float, float]]:
    """'0:10,90:8' -> [(0, 10), (90, 8)]; a clear error naming the bad item."""
    plan = []
    for item in text.split(","):
        try:
            day, n = item.split(":")
            plan.append((float(day), float(n)))
        except ValueError:
            raise UserInputError(f"--feeds-by-age: {item!r} is not DAY:FEEDS_PER_DAY (e.g. 0:10,90:8)") from None
    return plan


def build_inputs(args):
    from lactojax import inputs as inp
    from lactojax.inputs import MAX_HORIZON_DAYS

    species = args.species
    glands = args.glands if args.glands is not None else (4 if species == "cow" else 2)
    if glands < 1:
        raise UserInputError(f"--glands must be >= 1, got {glands}")
    if args.days <= 0:
        raise UserInputError(f"--days must be > 0, got {args.days}")
    if args.days > MAX_HORIZON_DAYS:
        raise UserInputError(f"--days {args.days:g}: at most {MAX_HORIZON_DAYS} (3 years); the model describes "
                             "lactations up to two years (README, Whole lactations)")
    if args.feed_log is not None:
        return _feed_log_inputs(args, glands)
    if args.delivery_time is not None or args.subject is not None:
        raise UserInputError("--delivery-time and --subject are used with --feed-log only")
    if args.complementary_share is not None and args.complementary_from_day is None:
        raise UserInputError("--complementary-share is used with --complementary-from-day only (the day other "
                             "food starts)")
    try:
        prof = {}
        if species == "human":
            per_day = 10.0 if args.feeds_per_day is None else args.feeds_per_day
            feed_kw = dict(n_glands=glands, duration_min=15.0 if args.feed_minutes is None else args.feed_minutes,
                           night_feeds=not args.no_night_feeds)
            try:
                if args.feeds_by_age is not None:  # "" too: refused by _parse_plan, not ignored
                    feeds = inp.feeds_by_age(args.days, _parse_plan(args.feeds_by_age), **feed_kw)
                else:
                    feeds = inp.regular_feeds(args.days, per_day, **feed_kw)
            except inp.InputError as err:  # name the options the schedule came from
                options = "--feeds-by-age" if args.feeds_by_age is not None else "--feeds-per-day"
                raise UserInputError(f"{options}, --feed-minutes, --glands: {err}") from None
            if args.complementary_from_day is not None:
                share = 0.6 if args.complementary_share is None else args.complementary_share
                prof = dict(complementary_start_h=24.0 * args.complementary_from_day, complementary_share=share)
        else:
            if args.feeds_by_age is not None or args.complementary_from_day is not None:
                raise UserInputError("--feeds-by-age and --complementary-from-day are for --species human")
            per_day = 2 if args.feeds_per_day is None else args.feeds_per_day
            if per_day < 1 or per_day != int(per_day):  # never rounded: 2.5 milkings a day is a typo
                raise UserInputError(f"--feeds-per-day {per_day:g}: milkings per day must be a whole number >= 1")
            per_day = int(per_day)
            minutes = 8.0 if args.feed_minutes is None else args.feed_minutes
            if minutes > 24 * 60 / per_day:
                raise UserInputError(f"--feeds-per-day {per_day}, --feed-minutes {minutes:g}: a milking does not fit in "
                                     f"the {24 * 60 / per_day:g} min between {per_day} milkings a day")
            clock = [(5.0 + i * 24.0 / per_day) % 24.0 for i in range(per_day)]
            feeds = inp.milkings(args.days, clock, n_glands=glands, duration_min=minutes)
        return inp.make_inputs(feeds, args.days, inp.profile(glands, **prof))
    except inp.InputError as err:
        raise UserInputError(str(err)) from None


def _feed_log_inputs(args, glands: int):
    """The inputs of a feed log over --days (`inference.problem.logged_inputs`); the
    evenly-spaced schedule's options are refused: the log gives every feed."""
    from lactojax import inputs as inp
    from lactojax.datasets import FeedLogError, read_feed_log
    from lactojax.inference.problem import logged_inputs

    clash = [o for o, v in (("--feeds-per-day", args.feeds_per_day), ("--feeds-by-age", args.feeds_by_age),
                            ("--feed-minutes", args.feed_minutes), ("--no-night-feeds", args.no_night_feeds or None))
             if v is not None]
    if clash:
        raise UserInputError(f"{', '.join(clash)}: not used with --feed-log (the log gives every feed)")
    if not args.feed_log:
        raise UserInputError("--feed-log '': expected the feed log's file name")
    try:
        log = read_feed_log(args.feed_log, species=args.species, n_glands=glands, delivery_time=args.delivery_time)
        subjects = sorted(log["subject"].astype(str).unique())
        if args.subject is not None and args.subject not in subjects:
            raise UserInputError(f"--subject {args.subject!r}: not in {args.feed_log} (its subject ids: "
                                 f"{[x for x in subjects if x] or 'none'})")
        if args.subject is None and len(subjects) > 1:
            raise UserInputError(f"{args.feed_log}: several subjects {subjects}; name one with --subject")
        subject = args.subject if args.subject is not None else subjects[0]
        return logged_inputs(log, (subject,), args.days, args.feed_log, args.species, glands)
    except (FeedLogError, inp.InputError, ValueError, OSError) as err:
        raise UserInputError(str(err)) from None


def _check_output(option: str, path: str | None) -> None:
    """Make the directory of an output file; refuse, before any simulation, a path that
    cannot be written (empty, a directory, a directory that cannot be made or written)."""
    if path is None:
        return
    if not path or os.path.isdir(path):
        raise UserInputError(f"{option} {path!r}: expected a file name, got {'a directory' if path else 'nothing'}")
    directory = os.path.dirname(path)
    try:
        if directory:
            os.makedirs(directory, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"{option} {path!r}: cannot make its directory ({err.strerror or err})") from None
    if not os.access(directory or ".", os.W_OK):
        raise UserInputError(f"{option} {path!r}: its directory is not writable")


def run(args) -> int:
    from lactojax.parameters import Params, check_within_bounds
    from lactojax.progress import Progress
    from lactojax.simulate import compile_simulate
    from lactojax.solver import SolverSettings
    from lactojax.tables import daily_table, plot_daily

    if args.posterior is not None and args.param:
        names = ", ".join(name for name, _ in args.param)
        raise UserInputError(f"--param ({names}) is not used with --posterior: each posterior draw sets the "
                             "parameters (the fitted ones from the draw, the others from the fit's values)")
    if args.posterior is not None and args.draws < 1:
        raise UserInputError(f"--draws must be >= 1, got {args.draws}")
    try:
        settings = SolverSettings.for_species(args.species, method=args.solver_method, solver=args.solver,
                                              rtol=args.rtol, atol=args.atol, throw=False)
        overrides = dict(args.param)
        params = Params.nominal(args.species, **overrides)
        if overrides:
            check_within_bounds(overrides, args.species)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    inputs = build_inputs(args)
    for option, path in (("--out", args.out), ("--plot", args.plot)):
        _check_output(option, path)

    if args.posterior is not None:
        return _run_posterior(args, inputs, settings)

    t0 = time.perf_counter()
    # One simulation is one compiled solve: its progress is by stage (compilation, solve, table,
    # CSV, plot), without a time-left estimate. A host callback in the solver's scan reporting
    # the step would cost 20-50 % of the solve (measured: 305-day cow 0.41 -> 0.61 s, 365-day
    # mother 2.57 -> 3.11 s, a report every 1 % of the steps) and keep the program out of JAX's
    # persistent compilation cache; the solve takes seconds, the compilation before it longer.
    with Progress(4 + bool(args.plot), "simulate", unit="stages", eta=False) as bar:
        bar.set(0, note="compiling the model (loaded from the cache when compiled before)")
        solve = compile_simulate(params, inputs, settings)
        bar.set(1, note=f"solving {args.days:g} days")
        traj = solve(params, inputs, settings)
        if not bool(traj.success):
            hint = ("a state became non-finite; try --solver-method adaptive" if settings.method == "sessions"
                    else "try --solver kvaerno5 or a larger --rtol")
            raise UserInputError(f"the solver failed for these settings ({hint}); no output written")
        bar.set(2, note="daily table")
        df = daily_table(traj, params, inputs, species=args.species)  # dairy units for a cow or goat
        bar.set(3, note=f"writing {args.out}")
        write_csv(df, args.out, index=False, float_format="%.6g")
        elapsed = time.perf_counter() - t0
        if args.plot:
            bar.set(4, note=f"plotting {args.plot}")
            plot_daily({"simulation": df}, args.plot, title=f"lactojax simulate: {args.species}, {args.days:g} days",
                       species=args.species)
        bar.set(bar.total)
    print(f"wrote {args.out} ({len(df)} days, {int(traj.num_steps)} solver steps, {elapsed:.1f} s)")
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def _run_posterior(args, inputs, settings) -> int:
    try:
        from lactojax.inference.predictive import posterior_predictive_daily
    except ImportError as err:  # pragma: no cover - inference is part of the package
        raise UserInputError(f"--posterior needs lactojax.inference: {err}") from None
    args.posterior = posterior_file(args.posterior)
    try:
        bands = posterior_predictive_daily(args.posterior, inputs, settings=settings, draws=args.draws,
                                           species=args.species, progress=None)  # on a terminal
    except (ValueError, OSError) as err:  # not netCDF / not a lactojax fit: predictive.open_posterior
        raise UserInputError(f"--posterior: {err}") from None
    write_csv(bands, args.out, index=False, float_format="%.6g")
    print(f"wrote {args.out} (posterior predictive median / p05 / p95, {len(bands)} days)")
    if args.plot:
        from lactojax.tables import plot_daily

        med = {c[: -len("_median")]: bands[c] for c in bands.columns if c.endswith("_median")}
        lo = {c[: -len("_p05")]: bands[c] for c in bands.columns if c.endswith("_p05")}
        hi = {c[: -len("_p95")]: bands[c] for c in bands.columns if c.endswith("_p95")}
        import pandas as pd

        x = "dim" if "dim" in bands else "day"
        mk = lambda d: pd.DataFrame({x: bands[x], **d})  # noqa: E731
        plot_daily({"posterior": mk(med)}, args.plot, title="posterior predictive (median, 5-95%)",
                   bands={"posterior": (mk(lo), mk(hi))}, species=args.species)
        print(f"wrote {args.plot}")
    return 0
