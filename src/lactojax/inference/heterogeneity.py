"""Between-study heterogeneity: an estimated discrepancy between a study's mean and the model.

Published studies of the same quantity disagree by more than their standard errors (24-h
intake on day 1: 36 mL in saint1984, 82 mL in arthur1989), because their mothers, methods
and definitions differ. With the model alone, a group mean is Normal(prediction, SE), so
the posterior is precise about a mean that no new study would reproduce. The discrepancy
model lets each reported mean differ from the model's by a relative between-study SD:

    value_r ~ Normal(pred_r, sqrt(SE_r^2 + (kappa_g(r) * |pred_r|)^2))
    kappa_g ~ HalfNormal(scale)          (relative: 0.2 = a study's mean is ~20 % off)

for the Gaussian rows (group means and event times; individual measurements already carry
their own noise model). It is the marginal form of a study-level random effect on the
row's mean, one draw per row. `model` chooses the groups g:

- "none": no discrepancy (kappa = 0), the model as before;
- "pooled": one kappa shared by every Gaussian row;
- "observable": one kappa per observable (intake, sodium, each event time, ...).

The fit estimates the kappas with the model parameters (they are the last entries of the
unconstrained vector x, as log kappa: `lactojax.inference.density`), and every predictive
interval of a new observation includes them. Which of the three describes the data is a
model choice made with PSIS-LOO (`lactojax compare`, docs/fitting.md).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np

MODELS = ("none", "pooled", "observable")
DEFAULT_SCALE = 0.25  # HalfNormal scale of kappa: a study's mean is rarely more than ~50 % off
_HALF_NORMAL_CONST = 0.5 * math.log(2.0 / math.pi)
_HALF_NORMAL_MEDIAN = 0.6744897501960817  # of HalfNormal(1)


class Discrepancy(eqx.Module):
    """Which rows have a between-study SD and which kappa each uses (module doc).
    group_of: (rows,) index into the kappas, -1 for rows without one; scale: the
    HalfNormal scale of every kappa (relative, 1); labels: one per kappa."""

    group_of: jnp.ndarray = eqx.field(default_factory=lambda: jnp.zeros(0, dtype=jnp.int32))
    scale: jnp.ndarray = eqx.field(default_factory=lambda: jnp.asarray(DEFAULT_SCALE))
    labels: tuple[str, ...] = eqx.field(static=True, default=())
    model: str = eqx.field(static=True, default="none")

    @property
    def n(self) -> int:
        return len(self.labels)


def discrepancy(model: str, observables, gaussian, scale: float = DEFAULT_SCALE) -> Discrepancy:
    """The `Discrepancy` of rows with these observables and Gaussian flags (module doc)."""
    if model not in MODELS:
        raise ValueError(f"heterogeneity model: expected one of {', '.join(MODELS)}, got {model!r}")
    if not scale > 0:
        raise ValueError(f"heterogeneity scale: expected > 0, got {scale}")
    observables, gaussian = np.asarray(observables, dtype=str), np.asarray(gaussian, dtype=bool)
    if model == "none":
        return Discrepancy(scale=jnp.asarray(float(scale)), model=model)
    if not gaussian.any():
        raise ValueError(f"heterogeneity model {model!r}: the fit has no group-mean or event-time row for a "
                         "between-study discrepancy to act on (individual rows carry their own noise model)")
    if model == "pooled":
        labels = ("all",)
        group_of = np.where(gaussian, 0, -1)
    else:
        labels = tuple(dict.fromkeys(str(o) for o in observables[gaussian]))
        index = {label: i for i, label in enumerate(labels)}
        group_of = np.array([index[o] if g else -1 for o, g in zip(observables, gaussian)], dtype=int)
    return Discrepancy(group_of=jnp.asarray(group_of, dtype=jnp.int32), scale=jnp.asarray(float(scale)),
                       labels=labels, model=model)


def log_prior(d: Discrepancy, log_kappa):
    """log density of log kappa (..., n): HalfNormal(scale) on kappa plus the log Jacobian."""
    kappa = jnp.exp(log_kappa)
    return jnp.sum(_HALF_NORMAL_CONST - jnp.log(d.scale) - 0.5 * (kappa / d.scale) ** 2 + log_kappa, -1)


def extra_sd(d: Discrepancy, log_kappa, pred):
    """(..., rows) between-study SD of each row in model units: kappa * |pred| (0 without one)."""
    has = d.group_of >= 0
    kappa = jnp.take(jnp.exp(log_kappa), jnp.where(has, d.group_of, 0), axis=-1)
    return jnp.where(has, kappa * jnp.abs(pred), 0.0)


def initial_log_kappa(d: Discrepancy, lead: tuple = ()) -> np.ndarray:
    """log of the prior median of each kappa: where optimisation starts."""
    return np.full(lead + (d.n,), math.log(_HALF_NORMAL_MEDIAN * float(d.scale)))


def log_kappa_of_normal(d: Discrepancy, eps) -> np.ndarray:
    """Prior draws of log kappa from standard-normal draws eps (..., kappas): log |scale eps|."""
    return np.log(np.abs(float(d.scale) * np.asarray(eps, dtype=float)))


def sample_log_kappa(d: Discrepancy, rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, kappas) draws of log kappa from the prior."""
    return log_kappa_of_normal(d, rng.standard_normal((n, d.n)))


def variable_names(d: Discrepancy) -> tuple[str, ...]:
    """posterior.nc / summary.csv names of the kappas."""
    return tuple(f"kappa_{label}" for label in d.labels)


__all__ = ["DEFAULT_SCALE", "MODELS", "Discrepancy", "discrepancy", "extra_sd", "initial_log_kappa", "log_kappa_of_normal",
           "log_prior", "sample_log_kappa", "variable_names"]
