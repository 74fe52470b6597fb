"""`lactojax data list`, `data show NAME`, `data import-testday FILE --name NAME` and
`data validate FILE`: the project's datasets, importing milk-recording test-day tables as
new ones, and checking a user's own observation table or feed log."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "data",
        help="list, describe and import datasets (data/<name>/)",
        description="List and describe the datasets (data/<name>/: observation table + "
        "PROVENANCE.md).",
    )
    sub = parser.add_subparsers(dest="data_command", required=True)
    p_list = sub.add_parser("list", help="one line per dataset (from PROVENANCE.md headers)")
    p_list.set_defaults(func=cmd_list)
    p_show = sub.add_parser("show", help="counts, observables, time span and provenance")
    p_show.add_argument("name", help="dataset name (see `lactojax data list`)")
    p_show.set_defaults(func=cmd_show)
    p_imp = sub.add_parser(
        "import-testday",
        help="import a milk-recording (DHI/ICAR) test-day table as a dataset",
        description="Import a test-day table (one row per cow per test day: cow id, "
        "parity, calving date and/or days in milk, test date, 24-h milk yield in kg, "
        "optionally fat %%, protein %%, lactose %%, SCC in x1000 cells/mL, breed, "
        "milkings per day) as dataset OUT/NAME (observations.csv, subjects.csv, "
        "PROVENANCE.md). See docs/datasets.md, 'Importing test-day records'.",
    )
    p_imp.add_argument("file", help="the test-day table (CSV; , ; or tab separated; .gz ok)")
    p_imp.add_argument("--name", required=True, help="dataset name (directory under --out)")
    p_imp.add_argument("--out", default=None,
                       help="data root to write into (default: the data root, "
                       "$LACTOJAX_DATA_DIR or the repository's data/)")
    p_imp.add_argument("--columns", action="append", default=[],
                       metavar="CANONICAL=COLUMN[,...]",
                       help="map columns the aliases do not recognise, e.g. "
                       "--columns milk_kg=MyYield,cow=Animal (canonical names: cow, parity, "
                       "calving_date, dim, test_date, milk_kg, fat_pct, protein_pct, scc, "
                       "lactose_pct, milkings_per_day, breed, lactation_id)")
    p_imp.add_argument("--date-format", default=None,
                       help="strftime format of the dates, e.g. %%m/%%d/%%Y (default: "
                       "ISO YYYY-MM-DD or d-m-Y, detected)")
    p_imp.add_argument("--licence", default=None,
                       help="licence of the records (default: 'unknown: set by the user')")
    p_imp.add_argument("--citation", default=None, help="citation of the records")
    p_imp.add_argument("--title", default=None, help="one-line title of the dataset")
    p_imp.add_argument("--force", action="store_true",
                       help="replace an existing dataset of that name")
    p_imp.set_defaults(func=cmd_import_testday)
    p_val = sub.add_parser(
        "validate",
        help="check your own observation table or feed log; list every problem",
        description="Check a user's observation table (t_start_h, t_end_h, observable, "
        "value, unit, optional schema columns) or feed log (start_h or start, "
        "duration_min, optional side, by, effectiveness, subject). Prints every problem "
        "(file, row, column, expected, found) and exits 2, or a one-line summary and "
        "exits 0. See docs/datasets.md, 'Your own data'.",
    )
    p_val.add_argument("file", help="the CSV file (.csv or .csv.gz)")
    p_val.add_argument("--kind", choices=("auto", "observations", "feeds"), default="auto",
                       help="what the file is (default auto: a header with "
                       "'duration_min' is a feed log, anything else an observation table)")
    p_val.add_argument("--species", choices=("human", "cow", "goat"), default=None,
                       help="sets the feed log's side and 'by' words and gland count "
                       "(default human); for an observation table, gland names must be "
                       "this species' (unchecked when not given)")
    p_val.add_argument("--delivery-time", default=None, metavar="ISO",
                       help="delivery/calving time, ISO 8601 (e.g. 2026-03-01T22:40): "
                       "needed for a feed log with 'start' timestamps")
    p_val.add_argument("--n-glands", type=int, default=None,
                       help="glands of the subject (default 2 human/goat, 4 cow)")
    p_val.set_defaults(func=cmd_validate)


def _span(t0: str, t1: str) -> str:
    if not t0:
        return "-"
    a, b = float(t0), float(t1)
    return f"{a:g}-{b:g} h ({a / 24:.4g}-{b / 24:.4g} d)"


def cmd_list(args: argparse.Namespace) -> int:
    from lactojax.datasets import data_root, list_datasets
    from lactojax.datasets.provenance import read_provenance
    from lactojax.datasets.registry import PROVENANCE_FILE

    root = data_root()
    names = list_datasets(root)
    if not names:
        print(f"no datasets under {root}")
        return 0
    rows = []
    for name in names:
        prov = read_provenance(root / name / PROVENANCE_FILE)
        rows.append((name, prov.species, str(prov.rows), str(len(prov.observables)),
                     _span(prov.get("t_min_h"), prov.get("t_max_h")), prov.title))
    header = ("name", "species", "rows", "observables", "time span", "title")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(5)]
    fmt = "  ".join(f"{{:{'>' if i in (2, 3) else '<'}{w}}}" for i, w in enumerate(widths))
    print(fmt.format(*header[:5]) + "  " + header[5])
    for r in rows:
        print(fmt.format(*r[:5]) + "  " + r[5])
    print(f"\n{len(rows)} datasets under {root}; `lactojax data show NAME` for details.")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from lactojax.cli import UserInputError
    from lactojax.datasets import (
        DatasetError,
        ProvenanceError,
        UnknownDatasetError,
        fit_table,
        load_dataset,
    )
    from lactojax.datasets.design import DESIGNS, user_design
    from lactojax.datasets.vocabulary import VOCABULARY

    try:
        ds = load_dataset(args.name)
    except UnknownDatasetError as err:
        raise UserInputError(str(err)) from None
    except (DatasetError, ProvenanceError) as err:
        raise UserInputError(f"dataset {args.name!r} is invalid: {err}") from None

    prov = ds.provenance
    table = ds.table
    print(f"{ds.name}: {prov.title}")
    print(f"  species: {prov.species}; kind: {prov.get('kind')}")
    print(f"  table: {ds.table_path} ({len(table)} rows, sha256 {prov.sha256})")
    subjects, groups = ds.subjects(), ds.groups()
    print(f"  subjects: {len(subjects)}; groups: {len(groups)}"
          + (f" ({', '.join(groups[:6])}{', ...' if len(groups) > 6 else ''})"
             if groups else ""))
    span = ds.time_span_h()
    print("  time span: " + (f"{span[0]:g} to {span[1]:g} h since delivery/calving "
                             f"({span[0] / 24:.4g} to {span[1] / 24:.4g} d)"
                             if span else "no time-indexed rows"))
    print("\nobservables (rows; source units -> model unit):")
    for name, group in table.groupby("observable", sort=True):
        entry = VOCABULARY[name]
        src_units = ", ".join(sorted(u or "-" for u in group["unit"].unique()))
        stats = ", ".join(f"{k} {v}" for k, v in group["statistic"].value_counts().items())
        mark = "" if entry.modelled else "  [not modelled]"
        print(f"  {name:32s} {len(group):>8}  {src_units} -> {entry.model_unit or '-'}"
              f"  ({stats}){mark}")
    print("\nfitting:")
    for line in ds.exclusions.lines():
        print(f"  {line}")
    ft = fit_table(ds)
    if len(ft):
        print("  likelihood rows by kind and spread method:")
        for (kind, how), n in ft.groupby(["kind_name", "spread_method"]).size().items():
            print(f"    {n:>8}  {kind}: {how}")
    print("\nprovenance:")
    print(f"  citation: {prov.citation}")
    if prov.get("doi"):
        print(f"  doi/record: {prov.get('doi')}")
    print(f"  licence: {prov.licence}")
    print(f"  source file: {prov.source_file} (sha256 {prov.get('source_sha256')})")
    print(f"  verified: {prov.get('verified')}")
    print(f"  details: {ds.path / 'PROVENANCE.md'}")
    design = DESIGNS.get(ds.name) or user_design(ds.path)
    if design is not None:
        print("\ndesign (lactojax.datasets.design):")
        if design.removal == "breastfeeding":
            lo, hi = design.feeds_per_day_range
            print(f"  {design.n_glands} glands; {design.feeds_per_day:g} feeds/day "
                  f"(range {lo:g}-{hi:g}), {design.feed_duration_h:g} h per feed; "
                  f"horizon {design.horizon_h:g} h")
        elif design.removal == "milking":
            clocks = ", ".join(f"{int(c):02d}:{int(round(c % 1 * 60)):02d}"
                               for c in design.milking_clock_h)
            print(f"  {design.n_glands} glands; {design.milkings_per_day} milkings/day at "
                  f"{clocks}; horizon {design.horizon_h:g} h")
        else:
            print(f"  no milk removal; horizon {design.horizon_h:g} h")
        print(f"  {design.assumptions}")
    return 0


def cmd_import_testday(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lactojax.cli import UserInputError
    from lactojax.datasets import data_root
    from lactojax.datasets.testday import (
        DEFAULT_LICENCE,
        OBSERVABLE_COLUMNS,
        DatasetExistsError,
        DatasetNameError,
        TestDayError,
        import_testday,
        parse_column_mapping,
    )

    try:
        columns = parse_column_mapping(args.columns)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    out = Path(args.out) if args.out else data_root()
    try:
        result = import_testday(args.file, args.name, out, columns=columns,
                                date_format=args.date_format,
                                licence=args.licence or DEFAULT_LICENCE,
                                citation=args.citation, title=args.title, force=args.force)
    except (TestDayError, DatasetExistsError, DatasetNameError) as err:
        raise UserInputError(str(err)) from None

    table = result.table
    records = table.records
    lo, hi = result.dim_range
    n_lact = table.lactations()
    print(f"imported {len(records)} test-day records of {n_lact} "
          f"lactation{'s' if n_lact != 1 else ''} from {args.file}")
    print("  rows per observable: " + ", ".join(
        f"{o} {k}" for o, k in result.rows_per_observable.items()))
    empty = {OBSERVABLE_COLUMNS[c][0]: k for c, k in table.empty_cells().items() if k}
    print("  empty cells (no row): " + (", ".join(f"{o} {k}" for o, k in empty.items())
                                        or "none"))
    n_dup = int(records["duplicate"].sum())
    if n_dup:
        print(f"  {n_dup} exact repeats kept with flag 'duplicate' (excluded from fitting)")
    if table.unused_columns:
        print("  not carried (unrecognised columns): " + ", ".join(table.unused_columns))
    print(f"  days in milk: {lo}-{hi}")
    print(f"wrote {result.directory} (observations.csv, subjects.csv, PROVENANCE.md)")
    if result.directory.parent.resolve() != data_root().resolve():
        print(f"show it with: LACTOJAX_DATA_DIR={result.directory.parent} lactojax data "
              f"show {args.name}")
    return 0


def _file_kind(path) -> str:
    """'feeds' if the header names duration_min, else 'observations'."""
    import pandas as pd

    try:
        header = pd.read_csv(path, nrows=0, dtype=str, compression="infer",
                             encoding="utf-8-sig")
    except Exception:  # unreadable as CSV: the observation checks say why
        return "observations"
    return "feeds" if "duration_min" in [str(c).strip() for c in header.columns] \
        else "observations"


def _hours(t0: float, t1: float) -> str:
    return f"{t0:g}-{t1:g} h since delivery ({t0 / 24:.4g}-{t1 / 24:.4g} d)"


def _names(values: list[str]) -> str:
    named = [v for v in values if v]
    if not named:
        return "no subject ids"
    shown = ", ".join(named[:5]) + (", ..." if len(named) > 5 else "")
    return f"{len(named)} subject{'s' if len(named) != 1 else ''} ({shown})"


def cmd_validate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from lactojax.cli import UserInputError
    from lactojax.datasets.feedlog import FeedLogError, read_feed_log
    from lactojax.datasets.user import UserDataError, read_user_observations

    path = Path(args.file)
    if path.is_dir():
        raise UserInputError(f"{path} is a directory; give the CSV file "
                             f"(e.g. {path / 'observations.csv'})")
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as err:
        raise UserInputError(f"{path}: cannot read the file ({err.strerror})") from None
    kind = _file_kind(path) if args.kind == "auto" else args.kind
    what = "feed log" if kind == "feeds" else "observation table"
    try:
        if kind == "feeds":
            log = read_feed_log(path, species=args.species or "human",
                                n_glands=args.n_glands, delivery_time=args.delivery_time)
        else:
            table = read_user_observations(path, species=args.species)
    except (FeedLogError, UserDataError) as err:
        for problem in err.problems:
            print(problem)
        n = len(err.problems)
        article = "a" if kind == "feeds" else "an"
        print(f"{n} problem{'s' if n != 1 else ''} in {path} (checked as {article} {what})")
        return 2
    except ValueError as err:  # e.g. --n-glands 0
        raise UserInputError(str(err)) from None
    if kind == "feeds":
        n_pump = int(log["is_pump"].sum())
        print(f"{path}: feed log OK: {len(log)} sessions ({n_pump} pump/machine/hand), "
              f"{_names(sorted(log['subject'].unique()))}, "
              f"{_hours(float(log['start_h'].min()), float(log['end_h'].max()))}, "
              f"{log['duration_min'].sum():g} min of removal")
    else:
        t0, t1 = table["t_start_h"].dropna(), table["t_end_h"].dropna()
        span = _hours(float(t0.min()), float(t1.max())) if len(t0) else "no time windows"
        obs = table["observable"].value_counts().sort_index()
        print(f"{path}: observation table OK: {len(table)} rows, "
              f"{_names(sorted(table['subject'].unique()))}, {len(obs)} observable"
              f"{'s' if len(obs) != 1 else ''} ("
              + ", ".join(f"{k} {v}" for k, v in obs.items()) + f"), {span}")
    return 0
