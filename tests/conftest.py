import os

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    """The suite runs the float64 model: switch it on once per test process (importing
    lactojax leaves JAX's precision alone; tests that need x64 off use a subprocess)."""
    import lactojax

    lactojax.enable_x64()


# Hypothesis profiles. "lactojax" (loaded unless $HYPOTHESIS_PROFILE names another) bounds every property test of the default suite (a few
# dozen examples each, no per-example deadline: the first example of a CLI test pays for
# imports). "fuzz-long" is the slow suite's: the fuzz tests marked `slow`
# (tests/test_fuzz.py) take it explicitly, and `pytest --hypothesis-profile=fuzz-long
# tests/test_fuzz.py` runs the default fuzz tests with it too.
from hypothesis import HealthCheck, settings  # noqa: E402

_FIXTURES_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
settings.register_profile("lactojax", max_examples=30, deadline=None, suppress_health_check=_FIXTURES_OK)
settings.register_profile("fuzz-long", max_examples=600, deadline=None, suppress_health_check=_FIXTURES_OK)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lactojax"))


import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module. Every executable XLA:CPU loads
    holds its own memory maps; a worker that kept them all passed Linux's default limit of
    65,530 maps per process (vm.max_map_count) part-way through the suite, and then crashed
    inside XLA wherever the next map was asked for (compile, cache write or read). Two test
    files alone left 29,549 maps (2026-12-02)."""
    yield
    import gc

    import jax

    jax.clear_caches()
    gc.collect()
