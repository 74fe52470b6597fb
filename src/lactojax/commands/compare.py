"""`lactojax compare FIT FIT ...`: rank finished fits of the same rows by PSIS-LOO
(`lactojax.inference.comparison`)."""

from __future__ import annotations

import os

from lactojax.cli import UserInputError
from lactojax.commands import posterior_file


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare",
        help="rank fits of the same data rows by PSIS-LOO (az.compare)",
        description="Rank two or more finished fits of the same data rows by their expected log predictive density "
        "for a left-out row (PSIS-LOO, az.loo / az.compare): the model choice of docs/fitting.md, e.g. between "
        "heterogeneity models. Prints elpd_loo, its difference from the best with its standard error, the "
        "stacking weight, the rows with Pareto k > 0.7 and the rows inside their 90 %% predictive interval.",
    )
    p.add_argument("fits", nargs="+", help="fit directories (or their posterior.nc)")
    p.add_argument("--out", default=None, help="write the table as CSV")
    p.set_defaults(func=run)


def run(args) -> int:
    import pandas as pd

    from lactojax.atomic import write_csv
    from lactojax.inference.comparison import compare_fits

    paths = [posterior_file(f, "fit") for f in args.fits]
    if args.out and os.path.isdir(args.out):
        raise UserInputError(f"--out {args.out}: a directory; expected a CSV file name")
    try:
        table = compare_fits(paths)
    except (ValueError, OSError) as err:
        raise UserInputError(str(err)) from None
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    best = table.iloc[0]
    print(f"best by PSIS-LOO: {best['fit']}" + ("" if len(table) < 2 else
          f" (next: elpd_diff {table.iloc[1]['elpd_diff']:.1f} +- {table.iloc[1]['dse']:.1f})"))
    if args.out:
        write_csv(table, args.out, index=False, float_format="%.6g")
        print(f"wrote {args.out}")
    return 0
