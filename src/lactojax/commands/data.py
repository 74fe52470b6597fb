"""`lactojax data list` and `lactojax data show NAME`: the project's datasets."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "data",
        help="list and describe the datasets under data/",
        description="List and describe the datasets (data/<name>/: observation table + "
        "PROVENANCE.md).",
    )
    sub = parser.add_subparsers(dest="data_command", required=True)
    p_list = sub.add_parser("list", help="one line per dataset (from PROVENANCE.md headers)")
    p_list.set_defaults(func=cmd_list)
    p_show = sub.add_parser("show", help="counts, observables, time span and provenance")
    p_show.add_argument("name", help="dataset name (see `lactojax data list`)")
    p_show.set_defaults(func=cmd_show)


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
    from lactojax.datasets.design import DESIGNS
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
    design = DESIGNS.get(ds.name)
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
