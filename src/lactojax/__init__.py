"""lactojax: a differentiable mechanistic model of lactation with Bayesian fitting.

Time is in hours since delivery of the placenta. Volumes in mL, concentrations in
mmol/L or g/L, hormones in ng/mL (prolactin, progesterone) and pg/mL (oxytocin).
"""

import os

import jax

# The model is stiff and spans hours to months: float64 is required for reliable solves.
jax.config.update("jax_enable_x64", True)
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    jax.config.update(
        "jax_compilation_cache_dir",
        os.path.join(os.path.expanduser("~"), ".cache", "lactojax", "jax"),
    )

__version__ = "0.1.0"
