# Every target sets itself up: a fresh machine needs only python3 (3.11) and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# JAX's persistent compilation cache: repeated test / fit runs skip XLA compilation.
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.jax_cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0.5
export XLA_PYTHON_CLIENT_PREALLOCATE ?= false
export MPLBACKEND ?= Agg

.PHONY: install test test-slow fit bench bench-smoke clean

$(STAMP): pyproject.toml
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

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf .jax_cache fits/results
