"""`lactojax predict --posterior FIT --datasets A,B`: rows of datasets a fit has not seen,
predicted under its posterior (the held-out check; `lactojax.inference.heldout`)."""

from __future__ import annotations

import os

from lactojax.cli import UserInputError
from lactojax.commands import posterior_file


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict",
        help="predict the rows of other datasets under a fit's posterior (held-out check)",
        description="Predict every row of DATASETS (bundled names or paths to your own files) under the posterior "
        "of a finished group fit, with the fit's design, horizon and solver, and count the rows inside their 90 %% "
        "interval for a new observation. Writes the rows with their intervals (the columns of a fit's "
        "data_rows.csv).",
    )
    p.add_argument("--posterior", required=True, help="a fit's directory or its posterior.nc")
    p.add_argument("--datasets", required=True, help="comma-separated dataset names or paths")
    p.add_argument("--out", default=None, help="CSV of the rows with their intervals (default: print a summary only)")
    p.add_argument("--seed", type=int, default=0, help="seed of the new-observation noise")
    p.set_defaults(func=run)


def run(args) -> int:
    from lactojax.atomic import write_csv
    from lactojax.inference.heldout import predict_rows
    from lactojax.inference.outputs import predictive_check

    path = posterior_file(args.posterior)
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    if not datasets:
        raise UserInputError(f"--datasets: expected comma-separated dataset names, got {args.datasets!r}")
    if args.out and os.path.isdir(args.out):
        raise UserInputError(f"--out {args.out}: a directory; expected a CSV file name")
    try:
        data, rows = predict_rows(path, datasets, seed=args.seed, progress=True)
    except ValueError as err:
        raise UserInputError(str(err)) from None
    check = predictive_check(rows)
    print(f"{len(rows)} rows of {', '.join(datasets)} predicted under {path}; {len(data.excluded)} not predicted "
          "(outside the fit's horizon or excluded by a dataset rule)")
    print(f"inside their 90 % interval for a new observation: {check['inside_90']} of {check['rows']}"
          + (f" ({100 * check['share_inside_90']:.0f} %)" if check["rows"] else ""))
    for name, group in rows.groupby("dataset"):
        print(f"  {name}: {int(group['inside_90'].sum())} of {len(group)}")
    for name, r in check["by_observable"].items():
        print(f"  {name}: {r['inside_90']} of {r['rows']}")
    if args.out:
        write_csv(rows, args.out, index=False, float_format="%.6g")
        print(f"wrote {args.out}")
    return 0
