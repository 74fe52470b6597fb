import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

# The project requires float64 (stiff ODEs over months).
jax.config.update("jax_enable_x64", True)
