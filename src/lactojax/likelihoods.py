"""Log-likelihoods for each kind of datum, in pure JAX (jit- and grad-friendly).

Every function takes model predictions aligned with the data and returns log-densities.
A non-finite prediction gives -inf (never NaN), and gradients stay finite wherever the
log-likelihood is finite (unused branches are evaluated on safe placeholder values).

Kinds of datum (codes used in `lactojax.datasets.arrays.ObservationArrays.kind`):

- GROUP_MEAN: a published group mean with its spread and n. The mean is Gaussian
  around the prediction with the mean's standard error: SD/sqrt(n) for an SD, the SEM as
  printed for an SEM. With `population=True` (subject-level variation modelled, the
  prediction being one subject) the scale is the between-subject SD instead.
- GROUP_APPROX: the same, after approximating a mean and SD from a median and/or range
  or IQR (Wan et al. 2014, BMC Med Res Methodol 14:135; means from medians as in
  Hozo et al. 2005, BMC Med Res Methodol 5:13), or from an interval with only bounds
  (uniform on the interval: mean = midpoint, SD = width/sqrt(12)).
- EVENT_TIME: a transition time reported as mean +- SD (h); Gaussian as GROUP_MEAN.
- IND_LOGNORMAL: an individual measurement y > 0 with log y ~ N(log pred, sigma).
- IND_STUDENT_T: an individual measurement with Student-t noise (heavy tails),
  y ~ t_df(pred, sigma).
- IND_LOG_STUDENT_T: log y ~ t_df(log pred, sigma) (e.g. somatic cell counts: SCC is
  right-skewed and analysed on the log scale in dairy recording, the somatic cell score
  log2(SCC / 100,000 per mL) + 3 of Ali & Shook 1980, J Dairy Sci 63:487; the t tails
  absorb mastitis spikes).

Rows that print no spread are given a default CV per observable (see
`lactojax.datasets.vocabulary.Observable.default_cv`) when the arrays are built, never
dropped.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax.scipy.special import gammaln, ndtri

GROUP_MEAN = 0
GROUP_APPROX = 1
EVENT_TIME = 2
IND_LOGNORMAL = 3
IND_STUDENT_T = 4
IND_LOG_STUDENT_T = 5

KIND_NAMES = {
    GROUP_MEAN: "group_mean",
    GROUP_APPROX: "group_approx",
    EVENT_TIME: "event_time",
    IND_LOGNORMAL: "individual_lognormal",
    IND_STUDENT_T: "individual_student_t",
    IND_LOG_STUDENT_T: "individual_log_student_t",
}

SPREAD_SD = 0
SPREAD_SEM = 1

_LOG_2PI = 1.8378770664093453


class NoiseModel(NamedTuple):
    """Measurement noise for individual observations.

    sigma: shape (n_observables,), indexed by observable code: SD of log y for
        log-normal and log-Student-t observables, scale in model units for Student-t.
    df: Student-t degrees of freedom (default 4: heavy tails, finite variance).
    """

    sigma: jnp.ndarray
    df: float | jnp.ndarray = 4.0


def _safe(x, ok, fill=1.0):
    """x where ok, `fill` elsewhere (keeps gradients finite in unused branches)."""
    return jnp.where(ok, x, fill)


def normal_loglik(x, loc, scale):
    """Gaussian log-density of x given loc and scale (> 0)."""
    z = (x - loc) / scale
    return -0.5 * z * z - jnp.log(scale) - 0.5 * _LOG_2PI


def standard_error(sd, n, spread_kind):
    """Standard error of a mean: SD/sqrt(n) for SPREAD_SD (n < 1 means unknown: SE = SD,
    the conservative choice), the spread itself for SPREAD_SEM."""
    n_eff = jnp.maximum(jnp.asarray(n, dtype=jnp.result_type(float)), 1.0)
    return jnp.where(spread_kind == SPREAD_SEM, sd, sd / jnp.sqrt(n_eff))


def group_mean_loglik(pred, mean, sd, n, spread_kind, population=False):
    """Log-likelihood of a reported group mean given the predicted mean.

    pred: predicted value (model units); mean: reported mean; sd: reported spread (an
    SD or an SEM, per spread_kind); n: subjects (< 1 = unknown); spread_kind: SPREAD_SD
    or SPREAD_SEM. population=False: mean ~ N(pred, SE). population=True: the reported
    mean is treated as one draw from the population, scale = between-subject SD (an SEM
    is turned back into an SD with sqrt(n)).
    Returns -inf where pred is not finite.
    """
    pred = jnp.asarray(pred)
    ok = jnp.isfinite(pred)
    se = standard_error(sd, n, spread_kind)
    if population:
        n_eff = jnp.maximum(jnp.asarray(n, dtype=se.dtype), 1.0)
        scale = jnp.where(spread_kind == SPREAD_SEM, sd * jnp.sqrt(n_eff), sd)
    else:
        scale = se
    ll = normal_loglik(mean, _safe(pred, ok), scale)
    return jnp.where(ok, ll, -jnp.inf)


def event_time_loglik(pred_t, mean_t, sd, n, spread_kind=SPREAD_SD, population=False):
    """Log-likelihood of a reported event time (h), mean +- SD (or SEM) over n subjects.

    Gaussian in time, with the same scale rules as `group_mean_loglik`. A non-finite
    predicted time (e.g. the event never happened in the simulation) gives -inf.
    """
    return group_mean_loglik(pred_t, mean_t, sd, n, spread_kind, population)


def individual_lognormal_loglik(pred, obs, sigma):
    """log p(obs | pred) with log(obs) ~ N(log(pred), sigma); obs > 0.

    Includes the Jacobian -log(obs), so it is a density in obs. pred <= 0 or non-finite
    gives -inf.
    """
    pred = jnp.asarray(pred)
    ok = jnp.isfinite(pred) & (pred > 0)
    lp = jnp.log(_safe(pred, ok))
    ly = jnp.log(obs)
    ll = normal_loglik(ly, lp, sigma) - ly
    return jnp.where(ok, ll, -jnp.inf)


def _student_t_logpdf(x, loc, scale, df):
    z = (x - loc) / scale
    return (gammaln(0.5 * (df + 1.0)) - gammaln(0.5 * df) - 0.5 * jnp.log(df * jnp.pi)
            - jnp.log(scale) - 0.5 * (df + 1.0) * jnp.log1p(z * z / df))


def individual_student_t_loglik(pred, obs, scale, df=4.0):
    """log p(obs | pred) with obs ~ Student-t(df, loc=pred, scale). Non-finite pred: -inf."""
    pred = jnp.asarray(pred)
    ok = jnp.isfinite(pred)
    ll = _student_t_logpdf(obs, _safe(pred, ok), scale, df)
    return jnp.where(ok, ll, -jnp.inf)


def individual_log_student_t_loglik(pred, obs, scale, df=4.0):
    """log p(obs | pred) with log(obs) ~ Student-t(df, loc=log(pred), scale); obs > 0.

    Includes the Jacobian -log(obs). pred <= 0 or non-finite gives -inf.
    """
    pred = jnp.asarray(pred)
    ok = jnp.isfinite(pred) & (pred > 0)
    ly = jnp.log(obs)
    ll = _student_t_logpdf(ly, jnp.log(_safe(pred, ok)), scale, df) - ly
    return jnp.where(ok, ll, -jnp.inf)


# --- approximations for medians, ranges and IQRs --------------------------------------

def _xi_range(n):
    """Wan et al. 2014, eq. 7: E[range]/SD of a normal sample of size n,
    2 * Phi^-1((n - 0.375) / (n + 0.25))."""
    n = jnp.asarray(n, dtype=jnp.result_type(float))
    return 2.0 * ndtri((n - 0.375) / (n + 0.25))


def iqr_over_sd(n):
    """Wan et al. 2014, eq. 13: E[IQR]/SD of a normal sample of size n,
    2 * Phi^-1((0.75 n - 0.125) / (n + 0.25))."""
    n = jnp.asarray(n, dtype=jnp.result_type(float))
    return 2.0 * ndtri((0.75 * n - 0.125) / (n + 0.25))


def sd_from_range(low, high, n):
    """SD estimated from a sample range [low, high] of n subjects (Wan et al. 2014,
    scenario S1): (high - low) / (2 Phi^-1((n - 0.375)/(n + 0.25))). Needs n >= 2."""
    return (high - low) / _xi_range(n)


def mean_sd_from_median_range(median, low, high, n):
    """(mean, SD) from median, range and n: mean = (low + 2 median + high)/4 (Hozo et
    al. 2005, eq. 2; also Wan et al. 2014, scenario S1), SD as `sd_from_range`."""
    return (low + 2.0 * median + high) / 4.0, sd_from_range(low, high, n)


def mean_sd_from_median_iqr(median, q1, q3, n):
    """(mean, SD) from median, quartiles and n (Wan et al. 2014, scenario S3):
    mean = (q1 + median + q3)/3, SD = (q3 - q1) / (2 Phi^-1((0.75 n - 0.125)/(n + 0.25)))."""
    return (q1 + median + q3) / 3.0, (q3 - q1) / iqr_over_sd(n)


def mean_sd_from_interval(low, high):
    """(mean, SD) of a uniform distribution on [low, high]: an interval known only by
    its bounds (e.g. 'lactogenesis II occurs 32-40 h after delivery')."""
    return 0.5 * (low + high), (high - low) / jnp.sqrt(12.0)


# --- dispatcher ------------------------------------------------------------------------

def is_gaussian(kind):
    """Rows whose likelihood is Gaussian with the row's own scale: group means (reported or
    approximated) and event times."""
    return (kind == GROUP_MEAN) | (kind == GROUP_APPROX) | (kind == EVENT_TIME)


def dataset_loglik_terms(pred, arrays, noise: NoiseModel, population: bool = False, extra_sd=None):
    """Per-row log-likelihoods for `arrays` (an ObservationArrays) given predictions
    aligned with its rows. Non-finite predictions give -inf for their rows.

    extra_sd: (rows,) a between-study SD (model units) added in quadrature to the scale of
    the Gaussian rows (group means, event times): the estimated discrepancy of
    `lactojax.inference.heterogeneity`; individual rows ignore it."""
    pred = jnp.asarray(pred)
    kind = arrays.kind
    value = arrays.value
    finite = jnp.isfinite(pred)

    gaussian = is_gaussian(kind)
    scale = arrays.sd if population else arrays.scale
    if extra_sd is not None:
        scale = jnp.sqrt(scale**2 + extra_sd**2)
    g_scale = _safe(scale, gaussian & (scale > 0))
    ll_g = normal_loglik(_safe(value, gaussian), _safe(pred, gaussian & finite),
                         g_scale)

    sigma = noise.sigma[arrays.obs_code]
    individual = ~gaussian
    positive_obs = value > 0
    is_ln = (kind == IND_LOGNORMAL) & positive_obs
    is_t = kind == IND_STUDENT_T
    is_lt = (kind == IND_LOG_STUDENT_T) & positive_obs
    pos_pred = finite & (pred > 0)
    ll_ln = individual_lognormal_loglik(_safe(pred, is_ln & pos_pred),
                                        _safe(value, is_ln), _safe(sigma, individual))
    ll_t = individual_student_t_loglik(_safe(pred, is_t & finite, 0.0),
                                       _safe(value, is_t, 0.0), _safe(sigma, individual),
                                       noise.df)
    ll_lt = individual_log_student_t_loglik(_safe(pred, is_lt & pos_pred),
                                            _safe(value, is_lt), _safe(sigma, individual),
                                            noise.df)

    ll = jnp.where(gaussian, ll_g,
                   jnp.where(kind == IND_LOGNORMAL, jnp.where(pos_pred, ll_ln, -jnp.inf),
                             jnp.where(kind == IND_STUDENT_T, ll_t,
                                       jnp.where(pos_pred, ll_lt, -jnp.inf))))
    return jnp.where(finite, ll, -jnp.inf)


def dataset_loglik(pred, arrays, noise: NoiseModel, population: bool = False):
    """Total log-likelihood of a dataset's arrays given aligned predictions.

    Sums `dataset_loglik_terms` over rows; -inf if any prediction is non-finite (or a
    log-scale row gets a non-positive prediction).
    """
    terms = dataset_loglik_terms(pred, arrays, noise, population)
    total = jnp.sum(terms)
    return jnp.where(jnp.all(jnp.isfinite(jnp.asarray(pred))), total, -jnp.inf)
