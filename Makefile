# Every target sets itself up: a fresh machine needs only Python 3.11 or 3.12 and make.
# The package needs 3.11 or 3.12 (pyproject.toml, requires-python). Unless PYTHON is given
# (`make PYTHON=/path/to/python3.11`), the first of python3.11, python3.12, python3 that runs
# and is one of them. Each is run, not only looked up: a pyenv shim can be on PATH for a
# version that is not installed. Looked up only when the virtual environment is (re)built.
PYTHON_VERSIONS := 3.11 3.12
python_version = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
python_ok = $(filter $(PYTHON_VERSIONS),$(call python_version,$(1)))
PYTHON ?= $(firstword $(foreach p,python3.11 python3.12 python3,$(if $(call python_ok,$(p)),$(p))))
PYTHON_HELP = lactojax needs Python 3.11 or 3.12, and $(if $(PYTHON),PYTHON=$(PYTHON) is \
  $(or $(addprefix Python ,$(call python_version,$(PYTHON))),not a Python that runs),none of python3.11 / python3.12 / python3 \
  on PATH is one). Install one and pass it: make PYTHON=/path/to/python3.11 $(or $(MAKECMDGOALS),install)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# JAX's persistent compilation cache: repeated test / fit runs skip XLA compilation.
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.jax_cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0.5
export XLA_PYTHON_CLIENT_PREALLOCATE ?= false
export MPLBACKEND ?= Agg

.PHONY: install install-gpu test test-slow fit bench bench-smoke clean

$(STAMP): pyproject.toml
	$(if $(call python_ok,$(PYTHON)),,$(error $(PYTHON_HELP)))
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@# On a machine with an NVIDIA GPU, `make install-gpu` swaps in CUDA jaxlib.
	touch $(STAMP)

install: $(STAMP)

install-gpu: $(STAMP)
	$(PY) -m pip install -q "jax[cuda12]==0.10.2"

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q

test-slow: $(STAMP)
	$(PY) -m pytest -m slow -q

fit: $(STAMP)
	$(VENV)/bin/lactojax fit fits/human_default.toml --out fits/results/human_default

# Full sizes: rewrites benchmarks/results/*_<backend>.json and the README's table.
bench: $(STAMP)
	@echo "make bench: every benchmark at full size, each in its own process:"
	@$(PY) benchmarks/run_all.py --list
	@echo "then rewrites benchmarks/results/<name>_<backend>.json, benchmarks/results/README_table.md and the"
	@echo "benchmarks table of README.md (benchmarks/report.py). Expect 30 minutes or more on a 2-core CPU"
	@echo "(the NUTS fit alone takes ~5 min); each benchmark prints its own time. 'make bench-smoke': tiny sizes."
	$(PY) benchmarks/run_all.py

# Tiny sizes: checks that every benchmark runs; writes <name>_quick_<backend>.json only,
# leaving the full results and the README table alone.
bench-smoke: $(STAMP)
	$(PY) benchmarks/run_all.py --quick

clean:
	rm -rf .jax_cache fits/results
