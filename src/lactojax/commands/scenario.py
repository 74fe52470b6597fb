"""`lactojax scenario list` and `lactojax scenario run NAME [--out DIR]`: the virtual
experiments of docs/physiology.md."""

from __future__ import annotations

import argparse
import time

from lactojax.atomic import write_csv


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "scenario",
        help="list and run the physiology scenarios (virtual experiments)",
        description="Named virtual experiments: each simulates a condition and the normal "
        "reference, computes its metrics and checks them against the criteria in "
        "docs/physiology.md.",
    )
    sub = parser.add_subparsers(dest="scenario_command", required=True)
    p_list = sub.add_parser("list", help="one line per scenario")
    p_list.set_defaults(func=cmd_list)
    p_run = sub.add_parser("run", help="simulate one scenario; write NAME.csv, NAME_metrics.csv, NAME.png")
    p_run.add_argument("name", help="scenario name or number (see `lactojax scenario list`)")
    p_run.add_argument("--out", default="scenario_results", help="output directory (default scenario_results)")
    p_run.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p_run.set_defaults(func=cmd_run)


def cmd_list(args: argparse.Namespace) -> int:
    from lactojax.scenarios import SCENARIOS

    width = max(len(s.name) for s in SCENARIOS)
    print(f"{'#':>2}  {'name':<{width}}  days  arms  test     title")
    for s in SCENARIOS:
        setup = s.build()
        print(f"{s.number:>2}  {s.name:<{width}}  {setup.days:>4}  {len(setup.arms):>4}  "
              f"{'slow' if s.slow else 'default':<7}  {s.title}")
    print(f"\n{len(SCENARIOS)} scenarios; `lactojax scenario run NAME --out DIR`; details in docs/physiology.md")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from lactojax.cli import UserInputError
    from lactojax.scenarios import get, run_scenario
    from lactojax.scenarios.output import daily_frame, metrics_frame, plot

    try:
        scenario = get(args.name)
    except KeyError as err:
        raise UserInputError(str(err.args[0])) from None
    import os

    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"--out {args.out!r}: {err.strerror}") from None
    t0 = time.perf_counter()
    result = run_scenario(scenario)
    elapsed = time.perf_counter() - t0
    print(f"{scenario.number}. {scenario.title}")
    arms = ", ".join(f"{label} ({a.num_steps} steps{'' if a.success else ', SOLVER FAILED'})"
                     for label, a in result.arms.items())
    print(f"  simulated {result.setup.days} days, arms: {arms}; {elapsed:.1f} s")
    n_pass = 0
    for c, x, ok in result.checks():
        n_pass += ok
        tag = "pass" if ok else ("FAIL (known model defect)" if c.defect else "FAIL")
        print(f"  [{tag}] {c.describe()}: {x:.4g}   ({c.basis})")
    print(f"  {n_pass}/{len(scenario.criteria)} criteria met")
    name = scenario.name
    paths = [os.path.join(args.out, f"{name}.csv"), os.path.join(args.out, f"{name}_metrics.csv")]
    write_csv(daily_frame(result), paths[0], index=False, float_format="%.6g")
    write_csv(metrics_frame(result), paths[1], index=False, float_format="%.6g")
    if not args.no_plot:
        paths.append(os.path.join(args.out, f"{name}.png"))
        plot(result, paths[2])
    print("wrote " + ", ".join(paths))
    if not result.success:
        print("warning: the solver failed for at least one arm; metrics may be NaN")
    return 0
