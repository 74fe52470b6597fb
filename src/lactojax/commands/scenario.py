"""`lactojax scenario list` and `lactojax scenario run NAME [NAME ...] [--out DIR]`: the virtual
experiments of docs/physiology.md.

On a terminal (or with LACTOJAX_PROGRESS=1) `run` draws a progress line on stderr: the
simulations ("runs", the arms) done of all the named scenarios, the scenario and stage under
way, and the time left. A scenario's arms of one horizon are one batched solve, so the count
moves by batch (`lactojax.scenarios.core.run_many`). Each scenario's files are written as soon
as it is done."""

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
    p_run = sub.add_parser("run", help="simulate scenarios; write NAME.csv, NAME_metrics.csv, NAME.png for each")
    p_run.add_argument("names", nargs="+", metavar="NAME",
                       help="scenario names or numbers (see `lactojax scenario list`), or `all`")
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
    from lactojax.progress import Progress
    from lactojax.scenarios import SCENARIOS, count_runs, get

    try:
        chosen = list(SCENARIOS) if args.names == ["all"] else [get(n) for n in args.names]
    except KeyError as err:
        raise UserInputError(str(err.args[0])) from None
    chosen = list({s.name: s for s in chosen}.values())  # each once, in the order given
    import os

    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as err:
        raise UserInputError(f"--out {args.out!r}: {err.strerror}") from None
    setups = {}
    for s in chosen:
        try:
            setups[s.name] = s.build()
        except ValueError as err:  # e.g. a horizon beyond the model's range (core.Setup)
            raise UserInputError(f"scenario {s.name}: {err}") from None
    runs = {s.name: count_runs({s.name: setups[s.name]}) for s in chosen}
    with Progress(sum(runs.values()), "scenario", unit="runs") as bar:
        for i, scenario in enumerate(chosen):
            base = bar.done
            tag = scenario.name if len(chosen) == 1 else f"{scenario.name} ({i + 1} of {len(chosen)} scenarios)"
            bar.set(base, note=f"{tag}: starting")
            report = lambda done, stage, base=base, tag=tag: bar.set(base + done, note=f"{tag}: {stage}")  # noqa: E731
            lines = _run_one(scenario, setups[scenario.name], args, report, runs[scenario.name])
            bar.set(base + runs[scenario.name])
            bar.clear()
            print("\n".join(lines), flush=True)
    return 0


def _run_one(scenario, setup, args, report, n_runs: int) -> list[str]:
    """Simulate and analyse one scenario, write its files; the lines to print."""
    import os

    from lactojax.scenarios import run_scenario
    from lactojax.scenarios.output import daily_frame, metrics_frame, plot

    t0 = time.perf_counter()
    result = run_scenario(scenario, report=report, setup=setup)
    elapsed = time.perf_counter() - t0
    out = [f"{scenario.number}. {scenario.title}"]
    arms = ", ".join(f"{label} ({a.num_steps} steps{'' if a.success else ', SOLVER FAILED'})"
                     for label, a in result.arms.items())
    out.append(f"  simulated {result.setup.days} days, arms: {arms}; {elapsed:.1f} s")
    n_pass = 0
    for c, x, ok in result.checks():
        n_pass += ok
        tag = "pass" if ok else ("FAIL (known model defect)" if c.defect else "FAIL")
        out.append(f"  [{tag}] {c.describe()}: {x:.4g}   ({c.basis})")
    out.append(f"  {n_pass}/{len(scenario.criteria)} criteria met")
    name = scenario.name
    paths = [os.path.join(args.out, f"{name}.csv"), os.path.join(args.out, f"{name}_metrics.csv")]
    report(n_runs, "writing tables")
    write_csv(daily_frame(result), paths[0], index=False, float_format="%.6g")
    write_csv(metrics_frame(result), paths[1], index=False, float_format="%.6g")
    if not args.no_plot:
        paths.append(os.path.join(args.out, f"{name}.png"))
        report(n_runs, "plotting")
        plot(result, paths[2])
    out.append("wrote " + ", ".join(paths))
    if not result.success:
        out.append("warning: the solver failed for at least one arm; metrics may be NaN")
    return out
