"""Empirical lactation curves (Wood, Wilmink, MilkBot) and their fits to daily yields.

Each curve gives the daily milk yield y(t) in kg/day at t days in milk (DIM, days from
calving, t > 0):

- Wood (1967): y = a t^b exp(-c t). a (kg/d) is the scale, b (unitless) the rate of
  increase to the peak and c (1/d) the rate of decline after it; the peak is at t = b/c.
  Wood PDP. Algebraic model of the lactation curve in cattle. Nature 1967;216:164-165.
- Wilmink (1987): y = a + b exp(-k t) + c t with k = 0.05 /d fixed (Wilmink's value), so
  the curve is linear in a (kg/d), b (kg/d, < 0: the rise to the peak) and c (kg/d per
  day, < 0: the decline). Wilmink JBM. Adjustment of test-day milk, fat and protein yield
  for age, season and stage of lactation. Livest Prod Sci 1987;16:335-348.
- MilkBot (Ehrlich 2011): y = a (1 - exp((c - t)/b) / 2) exp(-d t). a (kg/d) is the
  scale, b (d) the ramp (time scale of the rise), c (d) the offset of the rise relative
  to calving and d (1/d) the decay rate. Ehrlich JL. Quantifying shape of lactation
  curves, and benchmark curves for common dairy breeds and parities. Bovine Practitioner
  2011;45:88-95.

Fitting. Parameters are fitted on a transformed scale theta: the logarithm for those that
are positive by definition (the scales a of all three curves, the MilkBot ramp b), the
natural scale for shape parameters that change sign in atypical lactations (Wood b and c,
Wilmink b and c, MilkBot c and d), always within the bounds of the `Curve`.

- `fit_curve(curve, t, y)`: per-lactation least squares (scipy.optimize.least_squares,
  trust-region reflective within the bounds, several starts: the curve's default and
  starts computed from the data, e.g. the log-linear regression of Wood; the best is
  kept). With `prior=(mean, cov)` and `sigma` it returns the maximum a posteriori fit
  instead: it minimises RSS / (2 sigma^2) + (theta - mean)' cov^-1 (theta - mean) / 2.
- `fit_herd(curve, lactations, pooled)`: every lactation of a herd, either by least
  squares alone or with a pooled herd prior estimated from the same records (empirical
  Bayes; Laird & Ware 1982, Biometrics 38:963-974; the EM/Laplace scheme of e.g. Pinheiro
  & Bates, Mixed-Effects Models in S and S-PLUS, 2000, ch. 7):
  1. least-squares fit of each lactation with at least as many records as parameters;
  2. initial population mean and covariance of theta from those fits, robustly: fits
     that failed are left out, and so are those that ended on a bound while at least
     p + 2 others remain, then fits beyond the 97.5 % chi-square
     Mahalanobis distance are trimmed once; sigma is the residual SD pooled over the herd
     (sum of RSS over sum of residual degrees of freedom);
  3. `n_iter` times: refit every lactation as a MAP fit under N(mean, cov) with that
     sigma, then update the mean (average of the MAP estimates), the covariance (spread
     of the MAP estimates plus the average posterior covariance, the Laplace
     approximation (J'J)^-1 at each MAP: the EM update, which does not shrink towards
     zero as the spread of shrunken estimates alone would) and sigma (pooled RSS over the
     records minus the effective number of parameters, p - tr(cov^-1 V_i) per lactation);
  4. a last MAP fit of every lactation under the final prior (the fits returned).
  The covariance is always shrunk by `shrinkage` towards its diagonal (correlations are
  the least well estimated part of it with a few hundred lactations). A lactation with
  few records (e.g. the first 60 days, for forecasting) then gets its shape from the
  herd: the decline it cannot see is taken from the population, and its scale from its
  own records.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

WILMINK_K_PER_DAY = 0.05  # Wilmink (1987): exp(-0.05 t) describes the rise to the peak


def wood(t, a, b, c):
    """Wood (1967) daily yield (kg/d) at t days in milk: a t^b exp(-c t)."""
    t = np.asarray(t, dtype=float)
    return a * np.power(t, b) * np.exp(-c * t)


def wilmink_yield(t, a, b, c, k=WILMINK_K_PER_DAY):
    """Wilmink (1987) daily yield (kg/d) at t days in milk: a + b exp(-k t) + c t."""
    t = np.asarray(t, dtype=float)
    return a + b * np.exp(-k * t) + c * t


def milkbot(t, a, b, c, d):
    """MilkBot (Ehrlich 2011) daily yield (kg/d) at t DIM: a (1 - exp((c - t)/b)/2) exp(-d t)."""
    t = np.asarray(t, dtype=float)
    return a * (1.0 - 0.5 * np.exp((c - t) / b)) * np.exp(-d * t)


# ---------------------------------------------------------------------------------------
# starts computed from the data (each returns natural-scale parameter vectors)


def _wood_starts(t, y):
    """Log-linear least squares: ln y = ln a + b ln t - c t (positive yields only)."""
    ok = y > 0
    if ok.sum() < 3:
        return []
    X = np.column_stack([np.ones(ok.sum()), np.log(t[ok]), -t[ok]])
    coef, *_ = np.linalg.lstsq(X, np.log(y[ok]), rcond=None)
    return [np.array([np.exp(coef[0]), coef[1], coef[2]])]


def _wilmink_starts(k):
    def starts(t, y):
        """Wilmink is linear in (a, b, c) given k: ordinary least squares is exact."""
        if len(t) < 3:
            return []
        X = np.column_stack([np.ones_like(t), np.exp(-k * t), t])
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        return [coef]
    return starts


def _milkbot_starts(t, y):
    """Scale from the largest yields, decay from the log-slope after 60 DIM when seen."""
    late = t > 60
    d = 0.002
    if late.sum() >= 10 and np.all(y[late] > 0):
        d = float(np.clip(-np.polyfit(t[late], np.log(y[late]), 1)[0], 0.0, 0.02))
    a = float(np.quantile(y, 0.9)) * np.exp(d * float(np.median(t))) if len(y) else 30.0
    return [np.array([a, b, c, d]) for b in (10.0, 30.0) for c in (-10.0, 0.0)]


@dataclass(frozen=True)
class Curve:
    """A lactation curve: y = function(t, *params) in kg/d at t days in milk.

    `start`, `lower` and `upper` are on the natural scale; `log_scale[i]` says whether
    parameter i is fitted as its logarithm (then its lower bound must be > 0).
    `data_starts(t, y)` returns extra starting vectors computed from the records.
    """

    name: str
    param_names: tuple[str, ...]
    param_units: tuple[str, ...]
    function: Callable[..., np.ndarray]
    start: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    log_scale: tuple[bool, ...]
    reference: str
    fixed: Mapping[str, float] = field(default_factory=dict)
    data_starts: Callable[[np.ndarray, np.ndarray], list] | None = None

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    def __call__(self, t, params) -> np.ndarray:
        """Daily yield (kg/d) at t (days in milk) for natural-scale `params` (length p;
        each entry may be an array broadcasting against t)."""
        return self.function(t, *params)

    def to_theta(self, params) -> np.ndarray:
        """Natural parameters -> fitting scale (logs where `log_scale`)."""
        p = np.asarray(params, dtype=float)
        return np.where(self.log_scale, np.log(np.where(self.log_scale, p, 1.0)), p)

    def from_theta(self, theta) -> np.ndarray:
        """Fitting scale -> natural parameters."""
        th = np.asarray(theta, dtype=float)
        return np.where(self.log_scale, np.exp(np.where(self.log_scale, th, 0.0)), th)

    def theta_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.to_theta(self.lower), self.to_theta(self.upper)


WOOD = Curve(
    name="Wood",
    param_names=("a", "b", "c"),
    param_units=("kg/d", "1", "1/d"),
    function=wood,
    start=(15.0, 0.2, 0.003),
    # c >= -0.005 /d: an atypical (still rising) curve, but no explosive growth when a
    # short record ends on a rise
    lower=(0.1, -1.0, -0.005),
    upper=(200.0, 2.0, 0.05),
    log_scale=(True, False, False),
    reference="Wood PDP. Nature 1967;216:164-165",
    data_starts=_wood_starts,
)


def wilmink(k: float = WILMINK_K_PER_DAY) -> Curve:
    """The Wilmink curve with the rise rate k (1/d) fixed (default Wilmink's 0.05)."""
    return Curve(
        name="Wilmink" if k == WILMINK_K_PER_DAY else f"Wilmink(k={k:g})",
        param_names=("a", "b", "c"),
        param_units=("kg/d", "kg/d", "kg/d per d"),
        function=functools.partial(wilmink_yield, k=k),
        start=(25.0, -10.0, -0.05),
        lower=(0.1, -200.0, -1.0),
        upper=(200.0, 200.0, 0.2),
        log_scale=(True, False, False),
        reference="Wilmink JBM. Livest Prod Sci 1987;16:335-348",
        fixed={"k": k},
        data_starts=_wilmink_starts(k),
    )


WILMINK = wilmink()

MILKBOT = Curve(
    name="MilkBot",
    param_names=("a", "b", "c", "d"),
    param_units=("kg/d", "d", "d", "1/d"),
    function=milkbot,
    start=(30.0, 20.0, 0.0, 0.002),
    # wide b and c: slow-rising lactations (late peaks) fit ramps of months
    lower=(0.1, 0.5, -100.0, -0.005),
    upper=(300.0, 400.0, 150.0, 0.05),
    log_scale=(True, True, False, False),
    reference="Ehrlich JL. Bovine Practitioner 2011;45:88-95",
    data_starts=_milkbot_starts,
)

CURVES: dict[str, Curve] = {c.name: c for c in (WOOD, WILMINK, MILKBOT)}


# ---------------------------------------------------------------------------------------
# one lactation


@dataclass(frozen=True)
class CurveFit:
    """A fitted curve for one lactation.

    params: natural-scale parameters; theta: the same on the fitting scale; rss: residual
    sum of squares (kg/d)^2 over the n records; cov_theta: approximate covariance of theta
    (least squares: s^2 (J'J)^-1 with s^2 = rss/(n - p); MAP: the Laplace posterior
    covariance); success: the optimiser converged and the result is finite.
    """

    curve: Curve
    params: np.ndarray
    theta: np.ndarray
    rss: float
    n: int
    cov_theta: np.ndarray
    success: bool
    at_bound: bool
    objective: float

    def predict(self, t) -> np.ndarray:
        """Daily yield (kg/d) at t (days in milk)."""
        return self.curve(t, self.params)


def _check_records(curve: Curve, t, y, label: str, min_records: int):
    t = np.asarray(t, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if t.shape != y.shape:
        raise ValueError(f"{label}: t and y differ in length ({t.size} vs {y.size})")
    ok = np.isfinite(t) & np.isfinite(y)
    t, y = t[ok], y[ok]
    if t.size < min_records:
        raise ValueError(f"{label}: {t.size} finite records, fewer than the {min_records} needed "
                         f"to fit the {curve.name} curve ({curve.n_params} parameters)")
    if np.any(t <= 0):
        raise ValueError(f"{label}: days in milk must be > 0 (got min {t.min():g})")
    return t, y


def fit_curve(curve: Curve, t, y, *, prior: tuple[np.ndarray, np.ndarray] | None = None,
              sigma: float | None = None, starts=None, label: str = "lactation") -> CurveFit:
    """Fit `curve` to one lactation's daily yields y (kg/d) at t (days in milk).

    Without `prior`: bounded least squares (needs at least as many records as
    parameters). With `prior=(mean, cov)` on the fitting scale theta and `sigma` (kg/d,
    residual SD): the MAP fit, minimising RSS/(2 sigma^2) + (theta-mean)' cov^-1
    (theta-mean)/2; then one record suffices. `starts`: natural-scale starting vectors
    replacing the default ones (the curve's `start` and its data starts), e.g. a previous
    fit; a MAP fit also starts from the prior mean. The start with the lowest objective
    wins. Raises ValueError naming `label` on bad input.
    """
    p = curve.n_params
    t, y = _check_records(curve, t, y, label, p if prior is None else 1)
    lo, hi = curve.theta_bounds()
    # stay strictly inside the bounds: least_squares requires feasible starts
    margin = 1e-9 * (hi - lo)
    if prior is not None:
        if sigma is None or not sigma > 0:
            raise ValueError(f"{label}: a MAP fit needs sigma > 0 (got {sigma})")
        mean, cov = (np.asarray(a, dtype=float) for a in prior)
        root = np.linalg.cholesky(np.linalg.inv(cov)).T  # root' root = cov^-1

        def residuals(theta):
            r = (curve(t, curve.from_theta(theta)) - y) / sigma
            return np.concatenate([r, root @ (theta - mean)])
    else:
        def residuals(theta):
            return curve(t, curve.from_theta(theta)) - y

    if starts is None:
        candidates = [np.asarray(curve.start, dtype=float)]
        if curve.data_starts is not None:
            candidates += [np.asarray(s, dtype=float) for s in curve.data_starts(t, y)]
    else:
        candidates = [np.asarray(s, dtype=float) for s in starts]
    thetas = [np.clip(curve.to_theta(np.clip(c, curve.lower, curve.upper)), lo + margin, hi - margin)
              for c in candidates if np.all(np.isfinite(c))]
    if prior is not None:
        thetas.append(np.clip(mean, lo + margin, hi - margin))

    best = None
    with np.errstate(over="ignore", invalid="ignore"):
        for theta0 in thetas:
            if not np.all(np.isfinite(residuals(theta0))):
                continue
            res = optimize.least_squares(residuals, theta0, bounds=(lo, hi), method="trf",
                                         x_scale="jac", max_nfev=200 * p)
            if np.isfinite(res.cost) and (best is None or res.cost < best.cost):
                best = res
    if best is None:
        raise ValueError(f"{label}: the {curve.name} curve could not be evaluated at any start")

    theta = best.x
    pred = curve(t, curve.from_theta(theta))
    rss = float(np.sum((pred - y) ** 2))
    jtj = best.jac.T @ best.jac
    cov = np.linalg.pinv(jtj)
    if prior is None:
        cov = cov * (rss / max(t.size - p, 1))
    span = hi - lo
    at_bound = bool(np.any((theta - lo < 1e-6 * span) | (hi - theta < 1e-6 * span)))
    return CurveFit(curve=curve, params=curve.from_theta(theta), theta=theta, rss=rss, n=int(t.size),
                    cov_theta=cov, success=bool(best.status > 0 and np.all(np.isfinite(theta))),
                    at_bound=at_bound, objective=float(best.cost))


# ---------------------------------------------------------------------------------------
# a herd


@dataclass(frozen=True)
class HerdFit:
    """Fits of every lactation of a herd.

    fits: lactation id -> CurveFit; pooled: whether the herd prior was used; prior_mean,
    prior_cov: the final population mean and covariance of theta (None when not pooled);
    sigma: residual SD (kg/d) pooled over the herd; trimmed: lactations left out of the
    initial estimate of the prior (failed or at-bound least-squares fits, outliers, too
    few records).
    """

    curve: Curve
    fits: dict
    pooled: bool
    sigma: float
    prior_mean: np.ndarray | None = None
    prior_cov: np.ndarray | None = None
    trimmed: tuple = ()

    @property
    def params(self) -> dict:
        """Lactation id -> natural-scale parameters."""
        return {k: f.params for k, f in self.fits.items()}

    def predict(self, lactation, t) -> np.ndarray:
        """Daily yield (kg/d) of one lactation at t (days in milk)."""
        return self.fits[lactation].predict(t)


def _shrink(cov: np.ndarray, shrinkage: float) -> np.ndarray:
    """Shrink a covariance towards its diagonal; keep it positive definite."""
    out = (1.0 - shrinkage) * cov + shrinkage * np.diag(np.diag(cov))
    floor = 1e-10 * max(float(np.max(np.diag(out))), 1e-12)
    return out + floor * np.eye(len(out))


def _robust_moments(theta: np.ndarray, shrinkage: float):
    """Mean and covariance of rows of theta, after one Mahalanobis trim at chi2 0.975."""
    mean = theta.mean(axis=0)
    cov = _shrink(np.cov(theta, rowvar=False), shrinkage)
    d2 = np.einsum("ij,jk,ik->i", theta - mean, np.linalg.inv(cov), theta - mean)
    keep = d2 <= stats.chi2.ppf(0.975, theta.shape[1])
    if keep.sum() > theta.shape[1] + 1:
        mean = theta[keep].mean(axis=0)
        cov = _shrink(np.cov(theta[keep], rowvar=False), shrinkage)
    return mean, cov, keep


def fit_herd(curve: Curve, lactations: Mapping, pooled: bool, *, n_iter: int = 3,
             shrinkage: float = 0.1) -> HerdFit:
    """Fit `curve` to every lactation: lactation id -> (t days in milk, y kg/d).

    pooled=False: independent least squares (every lactation needs at least as many
    records as parameters). pooled=True: MAP fits under a herd prior estimated from the
    same records (module docstring); lactations with fewer records than parameters
    (at least one) then get their curve mostly from the prior.
    """
    if not lactations:
        raise ValueError("fit_herd: no lactations")
    p = curve.n_params
    data = {}
    for k, (t, y) in lactations.items():
        data[k] = _check_records(curve, t, y, f"lactation {k!r}", p if not pooled else 1)
    ls = {k: fit_curve(curve, t, y, label=f"lactation {k!r}") for k, (t, y) in data.items() if t.size >= p}
    if not pooled:
        sigma = np.sqrt(sum(f.rss for f in ls.values()) / max(sum(f.n - p for f in ls.values()), 1))
        return HerdFit(curve=curve, fits=ls, pooled=False, sigma=float(sigma))

    usable = [k for k, f in ls.items() if f.success and f.n > p]
    inside = [k for k in usable if not ls[k].at_bound]
    if len(inside) >= p + 2:  # fits on a bound say little about the population; skip them if we can
        usable = inside
    if len(usable) < p + 2:
        raise ValueError(f"fit_herd: only {len(usable)} lactations have a usable least-squares "
                         f"{curve.name} fit; at least {p + 2} are needed to estimate a herd prior")
    theta = np.array([ls[k].theta for k in usable])
    mean, cov, keep = _robust_moments(theta, shrinkage)
    kept = [k for k, ok in zip(usable, keep) if ok]
    sigma = np.sqrt(sum(ls[k].rss for k in kept) / sum(ls[k].n - p for k in kept))
    trimmed = tuple(k for k in data if k not in set(kept))

    previous = {k: f.params for k, f in ls.items()}

    def map_fits():
        return {k: fit_curve(curve, t, y, prior=(mean, cov), sigma=sigma,
                             starts=[previous[k]] if k in previous else None, label=f"lactation {k!r}")
                for k, (t, y) in data.items()}

    for _ in range(n_iter):
        fits = map_fits()
        previous = {k: f.params for k, f in fits.items()}
        # effective parameters per lactation under the prior the fits used
        precision = np.linalg.inv(cov)
        edf = sum(p - float(np.trace(precision @ f.cov_theta)) for f in fits.values())
        n_total = sum(f.n for f in fits.values())
        sigma = np.sqrt(sum(f.rss for f in fits.values()) / max(n_total - edf, 1.0))
        thetas = np.array([f.theta for f in fits.values()])
        mean = thetas.mean(axis=0)
        spread = np.cov(thetas, rowvar=False, bias=True)
        cov = _shrink(spread + np.mean([f.cov_theta for f in fits.values()], axis=0), shrinkage)
    fits = map_fits()  # the returned fits use the returned prior
    return HerdFit(curve=curve, fits=fits, pooled=True, sigma=float(sigma), prior_mean=mean,
                   prior_cov=cov, trimmed=trimmed)
