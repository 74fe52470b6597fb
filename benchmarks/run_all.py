"""Run every benchmark (each in its own Python process), then render the results table.

  .venv/bin/python benchmarks/run_all.py              # full sizes (`make bench`)
  .venv/bin/python benchmarks/run_all.py --quick      # tiny sizes (smoke run)
  .venv/bin/python benchmarks/run_all.py --only solve gradient
  .venv/bin/python benchmarks/run_all.py --list

Each benchmark writes benchmarks/results/<name>_<backend>.json (backend = cpu / gpu from
jax.default_backend(); --quick runs write <name>_quick_<backend>.json and leave the full
results alone). On a CUDA machine the same command runs the GPU sizes (e.g. cohorts up to
2e5 subjects). Afterwards `benchmarks/report.py` regenerates
benchmarks/results/README_table.md from whatever JSON is present.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    # name: (script, extra args for a full run)
    "solve": ("bench_solve.py", []),
    "gradient": ("bench_gradient.py", []),
    "cohort": ("bench_cohort.py", []),
    "compile": ("bench_compile.py", []),
    "nuts": ("bench_nuts.py", []),
    "herd": ("bench_herd.py", []),
    "long": ("bench_long.py", ["--cohort", "1,10,100,1000,10000"]),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Run the lactojax benchmarks")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks that every benchmark runs")
    ap.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=None, metavar="NAME",
                    help=f"run only these ({', '.join(BENCHMARKS)})")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    ap.add_argument("--no-report", action="store_true", help="do not regenerate README_table.md")
    args, passthrough = ap.parse_known_args(argv)
    if args.list:
        for name, (script, _) in BENCHMARKS.items():
            doc = (HERE / script).read_text().split('"""')[1].strip().splitlines()[0]
            print(f"{name:10s} {script:20s} {doc}")
        return 0
    names = args.only or list(BENCHMARKS)
    failures = []
    t_all = time.perf_counter()
    for name in names:
        script, extra = BENCHMARKS[name]
        cmd = [sys.executable, str(HERE / script)] + (["--quick"] if args.quick else extra) + passthrough
        print(f"=== {name}: {' '.join(cmd[1:])}", flush=True)
        t = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"=== {name}: exit {rc} after {time.perf_counter() - t:.0f} s", flush=True)
        if rc != 0:
            failures.append(name)
    if not args.no_report and not args.quick:
        subprocess.call([sys.executable, str(HERE / "report.py")])
    print(f"=== all done in {time.perf_counter() - t_all:.0f} s; failed: {failures or 'none'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
