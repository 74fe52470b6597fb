# Every target sets itself up: a fresh machine needs only Python 3.11 or 3.12 and make. `make`
# (= make install) builds $(VENV) from requirements.lock, with JAX's CUDA plugin where there is
# an NVIDIA GPU (below).
# The package needs 3.11 or 3.12 (pyproject.toml, requires-python). Unless PYTHON is given
# (`make PYTHON=/path/to/python3.11`), the first of python3.11, python3.12, python3 that runs
# and is one of them. Each is run, not only looked up: a pyenv shim can be on PATH for a
# version that is not installed. Looked up only when the virtual environment is (re)built.
PYTHON_VERSIONS := 3.11 3.12
python_version = $(if $(strip $(1)),$(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null))
python_ok = $(filter $(PYTHON_VERSIONS),$(call python_version,$(1)))
PYTHON ?= $(firstword $(foreach p,python3.11 python3.12 python3,$(if $(call python_ok,$(p)),$(p))))
PYTHON_HELP = lactojax needs Python 3.11 or 3.12, and $(if $(PYTHON),PYTHON=$(PYTHON) is \
  $(or $(addprefix Python ,$(call python_version,$(PYTHON))),not a Python that runs),none of python3.11 / python3.12 / python3 \
  on PATH is one). Install one and pass it: make PYTHON=/path/to/python3.11 $(or $(MAKECMDGOALS),install)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Exact versions of every package (direct and transitive), resolved from pyproject.toml's ranges
# with the dev extra for Python 3.11 on Linux: what `make install` installs and the test suite
# was run with. `make lock` regenerates it (keeping the pinned versions that still satisfy
# pyproject.toml; `make lock UPGRADE=1`: the newest in range), with uv from its own venv.
LOCK := requirements.lock
LOCK_VENV ?= .venv-lock
UV_VERSION := 0.13.9
# GPU: on a machine where `nvidia-smi -L` lists an NVIDIA GPU, the install also adds JAX's CUDA
# plugin for the locked jax version, and JAX then runs on the GPU by default. `make GPU=1`
# installs it without the check, `make GPU=0` skips it; JAX_CUDA=cuda13 for drivers >= 580.
ifndef GPU
GPU := $(if $(shell nvidia-smi -L 2>/dev/null | grep '^GPU [0-9]'),1,0)
endif
JAX_CUDA ?= cuda12
JAX_VERSION = $(shell sed -n 's/^jax==\([^ ;]*\).*/\1/p' $(LOCK))
GPU_WHY = $(if $(and $(filter file,$(origin GPU)),$(filter 1,$(GPU))),nvidia-smi -L lists an NVIDIA GPU,CUDA asked for (GPU=1 or make install-gpu))
GPU_STAMP := $(VENV)/.installed-$(JAX_CUDA)-stamp
ENV_STAMPS := $(STAMP) $(if $(filter 1,$(GPU)),$(GPU_STAMP))
# JAX's persistent compilation cache: repeated test / fit runs skip XLA compilation.
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.jax_cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0.5
export XLA_PYTHON_CLIENT_PREALLOCATE ?= false
export MPLBACKEND ?= Agg

.DEFAULT_GOAL := install
.PHONY: install install-gpu lock test test-slow fit bench bench-smoke clean

$(STAMP): $(LOCK) pyproject.toml
	$(if $(call python_ok,$(PYTHON)),,$(error $(PYTHON_HELP)))
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; \
	  echo "$(LOCK) does not satisfy pyproject.toml: run 'make lock', then 'make install'" >&2; exit 1; }
	touch $(STAMP)

$(GPU_STAMP): $(STAMP)
	@echo "$(GPU_WHY): installing jax[$(JAX_CUDA)]==$(JAX_VERSION), JAX's CUDA plugin for the locked jax;" \
	  "JAX then runs on the GPU by default (make GPU=0 skips this step)"
	$(if $(JAX_VERSION),,$(error no jax==VERSION line in $(LOCK)))
	$(PY) -m pip install -q -c $(LOCK) "jax[$(JAX_CUDA)]==$(JAX_VERSION)"
	touch $(GPU_STAMP)

install: $(ENV_STAMPS)

# The CUDA plugin whether or not nvidia-smi sees a GPU (same as `make GPU=1 install`).
install-gpu: $(STAMP) $(GPU_STAMP)

$(LOCK_VENV)/.uv-$(UV_VERSION):
	$(if $(call python_ok,$(PYTHON)),,$(error $(PYTHON_HELP)))
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q "uv==$(UV_VERSION)"
	touch $@

# uv keeps the versions already in its output file where they still fit: hence the copy. The
# lock is replaced only when it changes, so an unchanged lock does not trigger a reinstall.
lock: $(LOCK_VENV)/.uv-$(UV_VERSION)
	@if [ -f $(LOCK) ]; then cp $(LOCK) $(LOCK).tmp; else rm -f $(LOCK).tmp; fi
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --python-platform linux \
	  --custom-compile-command "make lock" --quiet $(if $(filter 1,$(UPGRADE)),--upgrade) -o $(LOCK).tmp
	@if cmp -s $(LOCK).tmp $(LOCK); then rm $(LOCK).tmp; echo "$(LOCK): unchanged"; \
	else mv $(LOCK).tmp $(LOCK); echo "$(LOCK): updated; the next make reinstalls $(VENV) from it"; fi

# The default suite is bound by XLA compilation (each distinct program 5-40 s on 2 cores), so
# it compiles with LLVM at -O0: on a subset (test_api, test_scenarios, test_one_mother,
# test_sessions; fresh caches, 2 workers) 412 -> 340 s, the same results. Tests only: fits and
# benchmarks keep XLA's default. It runs without JAX's persistent compilation cache (a clean
# clone has nothing to reuse; `make test TEST_CACHE=1` keeps it for a developer's reruns).
# Crashes inside XLA in 5 of 8 clean-clone runs (2026-12-02; README, Tests) most likely came from test
# workers running out of memory maps (vm.max_map_count): tests/conftest.py drops compiled
# programs after each module.
TEST_XLA_FLAGS ?= --xla_backend_optimization_level=0
TEST_CACHE ?= 0

test: $(ENV_STAMPS)
	$(if $(filter 1,$(TEST_CACHE)),,JAX_ENABLE_COMPILATION_CACHE=false) \
	  XLA_FLAGS="$(strip $(TEST_XLA_FLAGS) $(XLA_FLAGS))" $(PY) -m pytest -n 2 --dist loadgroup -q

test-slow: $(ENV_STAMPS)
	$(PY) -m pytest -m slow -q

# A killed `make fit` continues from its checkpoint when run again (--resume); a finished
# one is left as it is. `make fit FORCE=1` fits again from the start.
fit: $(ENV_STAMPS)
	$(VENV)/bin/lactojax fit fits/human_default.toml --out fits/results/human_default $(if $(FORCE),--force,--resume)

# Full sizes: rewrites benchmarks/results/*_<backend>.json and the README's table.
bench: $(ENV_STAMPS)
	@echo "make bench: every benchmark at full size, each in its own process:"
	@$(PY) benchmarks/run_all.py --list
	@echo "then rewrites benchmarks/results/<name>_<backend>.json, benchmarks/results/README_table.md and the"
	@echo "benchmarks table of README.md (benchmarks/report.py). Expect 30 minutes or more on a 2-core CPU"
	@echo "(the NUTS fit alone takes ~5 min); each benchmark prints its own time. 'make bench-smoke': tiny sizes."
	$(PY) benchmarks/run_all.py

# Tiny sizes: checks that every benchmark runs; writes <name>_quick_<backend>.json only,
# leaving the full results and the README table alone.
bench-smoke: $(ENV_STAMPS)
	$(PY) benchmarks/run_all.py --quick

clean:
	rm -rf .jax_cache fits/results
