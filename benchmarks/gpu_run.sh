#!/usr/bin/env bash
# The GPU benchmark set as one prepared command, for a lent CUDA machine.
#
#   bash benchmarks/gpu_run.sh            # full GPU sizes, each benchmark under its own time limit
#   bash benchmarks/gpu_run.sh --quick    # tiny sizes: checks the script itself (runs on CPU too)
#   ONLY="solve cohort" bash benchmarks/gpu_run.sh
#
# Runs with the machine's own python3 and CUDA jax (a GPU image does not carry this project's
# venv). Wheels of the pure-Python dependencies placed in .whl/ are installed into /tmp/site
# first, so diffrax/equinox/numpyro/arviz/pydantic are this project's versions; make them with
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#       -d .whl diffrax==0.7.2 equinox==0.13.8 lineax==0.1.1 optimistix==0.1.0 jaxtyping==0.3.11 \
#       numpyro==0.22.0 arviz==0.23.4 xarray==2026.9.0 h5netcdf==1.8.2 xarray-einstats platformdirs \
#       pydantic==2.14.4 pydantic-core typing-inspection annotated-types
# (SKIP_WHEELS=1 uses whatever the interpreter has, e.g. for a CPU check of this script).
# Each benchmark writes <name>_<backend>.json into $LACTOJAX_BENCH_RESULTS (default
# benchmarks/results); a benchmark that overruns its limit is killed and the rest still run.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
QUICK=""
[ "${1:-}" = "--quick" ] && QUICK="--quick"
if [ -z "${SKIP_WHEELS:-}" ] && ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { echo "wheel install failed"; exit 1; }
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false MPLBACKEND=Agg
ONLY=${ONLY:-"solve gradient cohort herd compile long"}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "(no nvidia-smi)"
$PY -c "import jax, diffrax, equinox; print('jax', jax.__version__, 'diffrax', diffrax.__version__, 'equinox', equinox.__version__, jax.devices())"

run() {  # run LIMIT_S NAME SCRIPT ARGS...
    local limit=$1 name=$2; shift 2
    case " $ONLY " in *" $name "*) ;; *) return 0 ;; esac
    [ -f "benchmarks/$1" ] || { echo "=== $name: benchmarks/$1 not present, skipped"; return 0; }
    echo "=== $name: $* $QUICK (limit ${limit} s)"
    local t0; t0=$(date +%s)
    timeout -k 10 "$limit" "$PY" "benchmarks/$@" $QUICK
    echo "=== $name: exit $? after $(( $(date +%s) - t0 )) s"
}

# Sizes chosen so the whole set fits a ~7-minute device slot; the CPU sizes stay in run_all.py.
run 80  solve    bench_solve.py --scipy-repeats 1
run 80  gradient bench_gradient.py
run 100 cohort   bench_cohort.py --max-n 100000 --scipy-n 1
if [ -n "$QUICK" ]; then HERD_SIZES="2"; COHORT="2"; else HERD_SIZES="1 16 288"; COHORT="1000,100000"; fi
run 150 herd     bench_herd.py --sizes $HERD_SIZES --adaptive-sizes 1 --repeats 2
run 80  compile  bench_compile.py --repeats 1
run 200 long     bench_long.py --repeats 2 --cohort $COHORT
echo "=== all done"
