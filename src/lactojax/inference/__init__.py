"""Bayesian fitting: priors, the fit problem and its one log-density, MAP, NUTS, SVI, group
and hierarchical models, outputs and posterior predictive simulation. See docs/fitting.md.

Modules: priors (from PARAMETER_TABLE, unconstrained scale), config (TOML fit files),
adapter (`FitConfig` -> problem), problem (`FitProblem` pytree,
data rows -> predictions through `lactojax.observables`), density (`log_density`, the
guard, jitted batches), map (optax, multi-start, Laplace), nuts, svi (numpyro, on a
log-density function), runner (`fit` -> `FitResult`), outputs (InferenceData, summary,
plots, `write_fit`), checkpoint (resumable fits), predictive (posterior bands for any
scenario), heldout (other datasets' rows under a posterior), calibration, heterogeneity
(between-study discrepancy of group means), noise (fitted measurement noise of records).
"""

from lactojax.inference.adapter import fit_from_config, problem_from_config
from lactojax.inference.config import ConfigError, FitConfig, load_config
from lactojax.inference.density import log_density, value_and_grad_many
from lactojax.inference.heldout import predict_rows
from lactojax.inference.outputs import FitAttrs, write_fit
from lactojax.inference.priors import PriorSet
from lactojax.inference.problem import FitData, FitProblem, group_problem, hierarchical_problem
from lactojax.inference.runner import FitResult, fit

__all__ = ["ConfigError", "FitAttrs", "FitConfig", "FitData", "FitProblem", "FitResult", "PriorSet", "fit",
           "fit_from_config", "group_problem", "hierarchical_problem", "load_config", "log_density",
           "predict_rows", "problem_from_config", "value_and_grad_many", "write_fit"]
