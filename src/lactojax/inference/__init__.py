"""Bayesian fitting: priors, fit configurations, the shared log-density, MAP, NUTS, SVI,
hierarchical models, outputs and posterior predictive simulation. See docs/fitting.md.

Modules: priors (from PARAMETER_TABLE, unconstrained scale), config (TOML fit files),
problem (data rows -> predictions), density (the one log-density), map (optax, multi-start,
Laplace), nuts, svi (numpyro), hierarchical (population models for herds / cohorts),
outputs (InferenceData, summary, plots, provenance), predictive (posterior bands for any
scenario), runner (`run_fit`).
"""

from lactojax.inference.config import ConfigError, FitConfig, load_config
from lactojax.inference.density import LogDensity
from lactojax.inference.priors import PriorSet
from lactojax.inference.problem import FitProblem, problem_from_config

__all__ = ["ConfigError", "FitConfig", "FitProblem", "LogDensity", "PriorSet", "load_config", "problem_from_config"]
