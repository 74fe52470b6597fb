"""Fitted measurement noise: one estimated noise scale per observable of individual records.

A herd's records (yield per milking, fat, protein and lactose %, SCC) are individual
measurements, each scored by its observable's likelihood with a noise scale sigma
(`lactojax.likelihoods.NoiseModel`): the SD of log y for yields (log-normal) and SCC
(log-Student-t), the scale in percentage points for composition (Student-t). The
vocabulary's defaults (`lactojax.datasets.vocabulary.Observable.noise_sigma`) are guesses;
with them fixed, a herd point fit left 64 % of its rows inside their 90 % predictive
interval (lactose 44 %), and the fixed scales set how strongly each kind of record pulls
on the shared cell parameters. With `[hierarchical] noise = "fitted"` each observable o of
the fitted rows gets

    log sigma_o ~ Normal(log default_o, prior_sd)     (log-normal around the default)

estimated with the model parameters (the last entries of the unconstrained vector x:
`lactojax.inference.density`), and every predictive interval of a new observation uses
the draw's own sigma. Observables without fitted rows (e.g. the daily yield of a herd's
predictions.csv when the records are per milking) keep their default.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from lactojax import likelihoods as lk
from lactojax.datasets.vocabulary import OBSERVABLES, default_noise_sigma

MODES = ("fixed", "fitted")
DEFAULT_PRIOR_SD = 1.0  # log scale: a factor e (2.7) either way is one prior SD
_INDIVIDUAL = (lk.IND_LOGNORMAL, lk.IND_STUDENT_T, lk.IND_LOG_STUDENT_T)
_LOG_2PI = math.log(2.0 * math.pi)


class FittedNoise(eqx.Module):
    """Which observables' noise scales are estimated (module doc). codes: (n,) vocabulary
    codes; log_median: (n,) prior median of each log sigma (the vocabulary default);
    prior_sd: the prior SD of every log sigma; labels: the observables' names."""

    codes: jnp.ndarray = eqx.field(default_factory=lambda: jnp.zeros(0, dtype=jnp.int32))
    log_median: jnp.ndarray = eqx.field(default_factory=lambda: jnp.zeros(0))
    prior_sd: jnp.ndarray = eqx.field(default_factory=lambda: jnp.asarray(DEFAULT_PRIOR_SD))
    labels: tuple[str, ...] = eqx.field(static=True, default=())

    @property
    def n(self) -> int:
        return len(self.labels)


def fitted_noise(mode: str, obs_codes, kinds, prior_sd: float = DEFAULT_PRIOR_SD) -> FittedNoise:
    """The `FittedNoise` of rows with these vocabulary codes and likelihood kinds: none for
    mode "fixed"; for "fitted", one scale per observable with individual rows, in
    vocabulary order."""
    if mode not in MODES:
        raise ValueError(f"noise: expected one of {', '.join(MODES)}, got {mode!r}")
    if not prior_sd > 0:
        raise ValueError(f"noise prior sd: expected > 0, got {prior_sd}")
    if mode == "fixed":
        return FittedNoise(prior_sd=jnp.asarray(float(prior_sd)))
    kinds, obs_codes = np.asarray(kinds), np.asarray(obs_codes)
    codes = sorted(set(int(c) for c in obs_codes[np.isin(kinds, _INDIVIDUAL)]))
    if not codes:
        raise ValueError("noise = \"fitted\": the fit has no individual record (its rows are group means, whose "
                         "spread is printed with them)")
    defaults = default_noise_sigma()
    return FittedNoise(codes=jnp.asarray(codes, dtype=jnp.int32), log_median=jnp.log(jnp.asarray(defaults[codes])),
                       prior_sd=jnp.asarray(float(prior_sd)), labels=tuple(OBSERVABLES[c].name for c in codes))


def log_prior(noise: FittedNoise, log_sigma):
    """log density of log sigma (..., n): Normal(log default, prior_sd) on each entry."""
    z = (log_sigma - noise.log_median) / noise.prior_sd
    return jnp.sum(-0.5 * z * z - jnp.log(noise.prior_sd) - 0.5 * _LOG_2PI, -1)


def sigma_by_code(noise: FittedNoise, default_sigma, log_sigma):
    """(..., observables) noise scale of every vocabulary code: the fitted ones from
    log_sigma (..., n), the defaults `default_sigma` (observables,) elsewhere."""
    lead = jnp.shape(log_sigma)[:-1]
    table = jnp.broadcast_to(jnp.asarray(default_sigma, dtype=float), lead + jnp.shape(default_sigma))
    return table.at[..., noise.codes].set(jnp.exp(log_sigma)) if noise.n else table


def initial_log_sigma(noise: FittedNoise, lead: tuple = ()) -> np.ndarray:
    """The prior median of each log sigma (the defaults): where optimisation starts."""
    return np.broadcast_to(np.asarray(noise.log_median, dtype=float), lead + (noise.n,)).copy()


def sample_log_sigma(noise: FittedNoise, eps) -> np.ndarray:
    """Prior draws of log sigma from standard-normal draws eps (..., n)."""
    return np.asarray(noise.log_median, dtype=float) + float(noise.prior_sd) * np.asarray(eps, dtype=float)


def variable_names(noise: FittedNoise) -> tuple[str, ...]:
    """posterior.nc / summary.csv names of the fitted scales."""
    return tuple(f"sigma_{label}" for label in noise.labels)


def units(noise: FittedNoise) -> tuple[str, ...]:
    """summary.csv units of the fitted scales: log-scale SD, or the observable's unit."""
    out = []
    for code in np.asarray(noise.codes):
        o = OBSERVABLES[int(code)]
        out.append(o.model_unit if o.individual_likelihood == "student_t" else "1 (sd of log)")
    return tuple(out)


__all__ = ["DEFAULT_PRIOR_SD", "MODES", "FittedNoise", "fitted_noise", "initial_log_sigma", "log_prior",
           "sample_log_sigma", "sigma_by_code", "units", "variable_names"]
