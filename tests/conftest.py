import os

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    """The suite runs the float64 model: switch it on once per test process (importing
    lactojax leaves JAX's precision alone; tests that need x64 off use a subprocess)."""
    import lactojax

    lactojax.enable_x64()
