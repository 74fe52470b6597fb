"""`log_density(problem, x)`: the one log-density of a `FitProblem`, used by MAP, NUTS and
SVI, for group and hierarchical models alike.

The unconstrained vector x is, for model="group", z in R^k (the prior's scale,
`PriorSet`); for model="hierarchical" it is (mu, log tau, delta, eta) with
C k + k + O k + S k entries, non-centred:

    mu_cj ~ prior of the parameter table   population centre c (e.g. a breed; C >= 1)
    tau_j ~ HalfNormal(tau_scale)          population spread of parameter j (z-scale)
    delta_lj ~ Normal(0, offset_scale)     offset of level l of a further factor (e.g.
                                           parity 2, parity 3+; its first level is the
                                           reference, offset 0)
    eta_ij ~ Normal(0, 1)                  subject i
    z_ij = mu_c(i)j + sum_l D_il delta_lj + tau_j eta_ij,  theta_ij = T_j(z_ij)
                                           (always inside the bounds)

with c(i) the subject's centre (`FitProblem.centre_of`) and D its 0/1 level design
(`FitProblem.offset_design`). Without population factors C = 1 and O = 0.

(the log tau Jacobian is included: the same density numpyro builds from these sites).

Both end with one log kappa per between-study discrepancy (`inference.heterogeneity`; none
unless the fit asks for one): kappa ~ HalfNormal(scale), and the Gaussian rows' scale is
sqrt(SE^2 + (kappa |pred|)^2); then one log sigma per fitted noise scale of individual
records (`inference.noise`; none unless the fit asks for them): log sigma ~ Normal(log
default, prior_sd), the scale of that observable's likelihood.
Subjects are simulated together (`simulate` vmapped over the subject axis of the inputs).

Guarantees (the guard, written once in `value_and_grad`):
- the value is finite or -inf (a solver failure, a non-finite prediction or an
  out-of-support point), never NaN, and no exception is raised inside a trace;
- the gradient is finite: where the value is -inf, or the gradient itself is not finite,
  it is set to zero (`log_density` has a custom VJP), so a failed solve cannot poison
  optimiser or sampler state;
- the gradient is computed once per evaluation, by reverse mode through the solver or by
  forward mode when the solver's adjoint is "forward" (jacfwd with diffrax ForwardMode).

The jitted entry points (`value_and_grad_many`, `evaluate_draws`) take the problem as an
argument: a problem with the same shapes and other values (an SBC replicate, another
mother with the same design) reuses the compiled code. `TRACES` counts their traces.
"""

from __future__ import annotations

import collections
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from lactojax import likelihoods as lk
from lactojax import observables as ob
from lactojax import observation as obs
from lactojax.inference import heterogeneity as het
from lactojax.inference import noise as nz
from lactojax.inference.problem import (DAILY_GLAND, EVENT_REFERENCE_DAY, FIT_DAILY, FIT_DAILY_GLAND, FIT_EVENTS,
                                       FIT_PARAMS, FIT_SESSIONS, SESSION_GLAND, SESSION_GLAND_KEYS, SESSION_KEYS,
                                       FitProblem)
from lactojax.simulate import simulate

TRACES: collections.Counter = collections.Counter()  # traces of each jitted entry point
INITIAL_TAU = 0.1  # hierarchical: population spread of the starting point (z-scale)
_HALF_NORMAL_CONST = 0.5 * math.log(2.0 / math.pi)
_LOG_2PI = math.log(2.0 * math.pi)


def subject_features(problem: FitProblem, theta, inputs):
    """One subject's feature vector (the registry outputs the rows read, in the order of
    `problem.feature_offsets`), the solver's success flag and its step count."""
    params = problem.base.with_vector(problem.names, theta)
    traj = simulate(params, inputs, problem.settings)
    n_days = int(round(inputs.horizon_h / 24.0))
    n_sessions = inputs.feeds.start_h.shape[-1]

    def block(reader, compute, keys, size):  # zeros for a block no row reads (nothing computed)
        if reader not in problem.readers:
            return jnp.zeros(size)
        out = compute(traj, params, inputs)
        return jnp.stack([out[key] for key in keys]).reshape(-1)

    daily = block(ob.DAILY, obs.daily, [o.source_key for o in FIT_DAILY], len(FIT_DAILY) * n_days)
    events = block(ob.EVENT, lambda *a: obs.event_times(*a, reference_day=EVENT_REFERENCE_DAY),
                   [o.source_key for o in FIT_EVENTS], len(FIT_EVENTS))
    pars = jnp.stack([params[o.source_key] for o in FIT_PARAMS])
    sessions = block(ob.SESSION, _session_features, SESSION_KEYS, len(SESSION_KEYS) * n_sessions)
    # per gland: (output, day or session, gland), for rows naming a breast or quarter
    n_glands = inputs.n_glands
    daily_gland = block(DAILY_GLAND, obs.daily, [o.source_key for o in FIT_DAILY_GLAND],
                        len(FIT_DAILY_GLAND) * n_days * n_glands)
    session_gland = block(SESSION_GLAND, obs.per_session, SESSION_GLAND_KEYS,
                          len(SESSION_GLAND_KEYS) * n_sessions * n_glands)
    return (jnp.concatenate([daily, events, pars, sessions, daily_gland, session_gland]), traj.success,
            traj.num_steps)


def _session_features(traj, params, inputs):
    """`observation.per_session` plus, for each pooled output, value x weight per session
    (`Observable.weighted_key`: the numerator of its pooled mean)."""
    out = obs.per_session(traj, params, inputs)
    for o in FIT_SESSIONS:
        if o.weight:
            out[o.weighted_key] = out[o.source_key] * out[o.weight]
    return out


def predict(problem: FitProblem, z):
    """Predictions of every row at subject-level z ((k,) group, (S, k) hierarchical);
    also whether every solve succeeded with finite predictions, and the solver steps."""
    theta = problem.prior.z_to_theta(z)
    if problem.model == "group":
        feats, success, steps = subject_features(problem, theta, problem.inputs)
    else:
        feats, success, steps = jax.vmap(lambda t, i: subject_features(problem, t, i))(theta, problem.inputs)
    rows, flat = problem.rows, feats.reshape(-1)
    pred = jnp.sum(flat[rows.index] * rows.weight, axis=-1)
    # pooled rows: divided by the summed weight (yield); a zero sum leaves a zero numerator,
    # which the log-scale likelihood scores -inf (never NaN)
    pooled = jnp.any(rows.den_weight != 0, axis=-1)
    den = jnp.sum(flat[rows.den_index] * rows.den_weight, axis=-1)
    pred = jnp.where(pooled, pred / jnp.where(pooled & (den > 0), den, 1.0), pred)
    return pred, jnp.all(success) & jnp.all(jnp.isfinite(pred)), steps


def extra_sd(problem: FitProblem, x, pred):
    """(..., rows) between-study SD of each row at x (model units; `inference.heterogeneity`),
    or None when the fit has no discrepancy."""
    if not problem.discrepancy.n:
        return None
    return het.extra_sd(problem.discrepancy, log_kappa(problem, x), pred)


def log_kappa(problem: FitProblem, x):
    """The log kappas: the `discrepancy.n` entries of x after the model's (module doc)."""
    return x[..., problem.model_dim : problem.model_dim + problem.discrepancy.n]


def log_sigma(problem: FitProblem, x):
    """The fitted noise scales' log sigmas: the last `fitted_noise.n` entries of x."""
    return x[..., problem.dim - problem.fitted_noise.n : problem.dim]


def sigma_by_code(problem: FitProblem, x):
    """(..., observables) the noise scale of every vocabulary code at x (..., dim): the
    problem's fixed scales, with the fitted ones of x."""
    return nz.sigma_by_code(problem.fitted_noise, problem.noise.sigma, log_sigma(problem, x))


def noise_model(problem: FitProblem, x=None) -> lk.NoiseModel:
    """The likelihood's noise at x: the problem's fixed scales, with the fitted ones of x."""
    if x is None or not problem.fitted_noise.n:
        return problem.noise
    return lk.NoiseModel(sigma_by_code(problem, x), problem.noise.df)


def row_sigma(problem: FitProblem, xs, obs_code=None) -> np.ndarray | None:
    """(..., rows) each row's noise scale at draws xs (..., dim) (individual rows; its
    observable's entry for the others), or None when no scale is fitted. `obs_code`: the
    rows' vocabulary codes when they are not the problem's own (a forecast's)."""
    if not problem.fitted_noise.n:
        return None
    table = np.asarray(sigma_by_code(problem, jnp.asarray(xs, dtype=float)))
    return table[..., np.asarray(problem.rows.obs_code if obs_code is None else obs_code)]


def loglik_terms(problem: FitProblem, z, x=None):
    """(per-row log-likelihoods, predictions, ok, solver steps, between-study SD) at
    subject-level z (and, with a discrepancy, the kappas of x); every term is -inf when a
    solve fails."""
    pred, ok, steps = predict(problem, z)
    safe = jnp.where(ok, pred, 1.0)
    extra = None if x is None else extra_sd(problem, x, safe)
    terms = lk.dataset_loglik_terms(safe, problem.rows, noise_model(problem, x), extra_sd=extra)
    return (jnp.where(ok, terms, -jnp.inf), pred, ok, steps,
            jnp.zeros_like(pred) if extra is None else extra)


def unpack(problem: FitProblem, x):
    """x -> (subject-level z, log prior density of x): the one place the unconstrained
    vector is taken apart (module doc)."""
    prior = problem.prior
    # the entries after the model's: log kappas, then fitted log sigmas
    log_prior_tail = het.log_prior(problem.discrepancy, log_kappa(problem, x)) if problem.discrepancy.n else 0.0
    if problem.fitted_noise.n:
        log_prior_tail = log_prior_tail + nz.log_prior(problem.fitted_noise, log_sigma(problem, x))
    if problem.model == "group":
        z = x[..., : problem.model_dim]
        return z, prior.log_prob_z(z) + log_prior_tail
    mu, log_tau, delta, eta = split(problem, x)
    k, s = problem.k, problem.n_subjects
    tau, scale, d_scale = jnp.exp(log_tau), problem.tau_scale, problem.offset_scale
    n_delta = delta.shape[-2] * k
    log_prior = (jnp.sum(prior.log_prob_z(mu), -1)
                 + jnp.sum(_HALF_NORMAL_CONST - jnp.log(scale) - 0.5 * (tau / scale) ** 2 + log_tau, -1)
                 - 0.5 * jnp.sum((delta / d_scale) ** 2, (-2, -1)) - n_delta * (jnp.log(d_scale) + 0.5 * _LOG_2PI)
                 - 0.5 * jnp.sum(eta**2, (-2, -1)) - 0.5 * s * k * _LOG_2PI + log_prior_tail)
    centre = jnp.take(mu, problem.centre_of, axis=-2) + problem.offset_design @ delta
    return centre + tau[..., None, :] * eta, log_prior


def split(problem: FitProblem, x):
    """Hierarchical x (..., dim) -> mu (..., C, k), log tau (..., k), delta (..., O, k),
    eta (..., S, k) (module doc)."""
    k, c, o, s = problem.k, problem.n_centres, problem.n_offsets, problem.n_subjects
    lead = x.shape[:-1]
    ends = np.cumsum([c * k, k, o * k, s * k])
    return (x[..., : ends[0]].reshape(lead + (c, k)), x[..., ends[0] : ends[1]],
            x[..., ends[1] : ends[2]].reshape(lead + (o, k)), x[..., ends[2] : ends[3]].reshape(lead + (s, k)))


def _log_density_unguarded(problem: FitProblem, x):
    z, log_prior = unpack(problem, x)
    terms, _, ok, _, _ = loglik_terms(problem, z, x)
    lp = log_prior + jnp.sum(terms)
    return jnp.where(ok & jnp.isfinite(lp), lp, -jnp.inf)


def value_and_grad(problem: FitProblem, x):
    """Value and gradient of the log-density with the solver-failure guard (module doc)."""
    f = lambda y: _log_density_unguarded(problem, y)  # noqa: E731
    if problem.settings.adjoint == "forward":
        g, v = jax.jacfwd(lambda y: (f(y), f(y)), has_aux=True)(x)
    else:
        v, g = jax.value_and_grad(f)(x)
    good = jnp.isfinite(v) & jnp.all(jnp.isfinite(g))
    return jnp.where(good, v, -jnp.inf), jnp.where(good, g, 0.0)


@eqx.filter_custom_vjp
def _guarded(x, problem):
    return _log_density_unguarded(problem, x)


@_guarded.def_fwd
def _guarded_fwd(perturbed, x, problem):
    return value_and_grad(problem, x)


@_guarded.def_bwd
def _guarded_bwd(grad, ct, perturbed, x, problem):
    return ct * grad


def check_x(problem: FitProblem, x):
    """x as an array whose last axis is `problem.dim` long; otherwise a ValueError saying
    what x holds (a z of the parameters alone misses the discrepancies' log kappas)."""
    x = jnp.asarray(x, dtype=float)
    if x.ndim == 0 or x.shape[-1] != problem.dim:
        raise ValueError(
            f"x: expected a last axis of {problem.dim} entries ({problem.model_dim} for the parameters"
            + (f", then {problem.discrepancy.n} log kappa" if problem.discrepancy.n else "")
            + (f", then {problem.fitted_noise.n} log sigma" if problem.fitted_noise.n else "")
            + f"), got shape {x.shape}; density.embed(problem, z) turns the parameters' z into x")
    return x


def log_density(problem: FitProblem, x):
    """Log posterior density (up to a constant) at x (module doc); differentiable, with the
    guarded gradient. Pure: jit, vmap and grad it freely."""
    return _guarded(check_x(problem, x), problem)


@eqx.filter_jit
def _value_and_grad_batch(problem, xs):
    TRACES["value_and_grad"] += 1
    return jax.vmap(lambda x: value_and_grad(problem, x))(xs)


@eqx.filter_jit
def _evaluate_batch(problem, xs):
    TRACES["evaluate"] += 1
    return jax.vmap(lambda x: loglik_terms(problem, unpack(problem, x)[0], x))(xs)


def padded_batches(fn, problem, xs, batch: int, progress: str | None = None):
    """fn(problem, chunk) over the leading axis of xs in chunks padded to `batch` (one
    compilation); the outputs concatenated. `progress`: the label of a progress line (on a
    terminal, `lactojax.progress`), counting draws."""
    from lactojax.progress import Progress

    xs = np.asarray(xs, dtype=float)
    outs = []
    with Progress(xs.shape[0], progress or "", unit="draws", enabled=None if progress else False) as bar:
        for i in range(0, xs.shape[0], batch):
            chunk = xs[i : i + batch]
            pad = batch - chunk.shape[0]
            if pad:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
            outs.append([np.asarray(r)[: batch - pad] for r in fn(problem, jnp.asarray(chunk))])
            bar.set(min(i + batch, xs.shape[0]))
    return [np.concatenate([o[j] for o in outs]) for j in range(len(outs[0]))]


def value_and_grad_many(problem: FitProblem, xs, batch: int = 4):
    """(values (n,), gradients (n, dim)) at the rows of xs, guarded, in vmapped batches."""
    xs = np.asarray(check_x(problem, xs)).reshape(-1, problem.dim)
    return tuple(padded_batches(_value_and_grad_batch, problem, xs, batch))


def evaluate_draws(problem: FitProblem, xs, batch: int = 64, progress: str | None = None):
    """Per-row log-likelihood terms, predictions, success flags, solver steps and each
    row's between-study SD (0 without a discrepancy) at each row of xs (n, dim), in
    vmapped batches (`progress`: a label, see `padded_batches`)."""
    xs = np.asarray(check_x(problem, xs)).reshape(-1, problem.dim)
    return padded_batches(_evaluate_batch, problem, xs, batch, progress)


def posterior_variables(problem: FitProblem, xs) -> dict[str, np.ndarray]:
    """Draws of x (..., dim) as named variables in model units: `<param>` (group), or
    `mu_<param>` (population centre; a trailing centre axis when there are several),
    `tau_<param>` (population spread, z-scale), `delta_<param>` (offsets of the further
    factors' levels, z-scale, trailing level axis; only when there are such levels) and
    `<param>` with a trailing subject axis (hierarchical)."""
    xs = jnp.asarray(xs, dtype=float)
    prior = problem.prior
    kappas = dict(zip(het.variable_names(problem.discrepancy), np.moveaxis(np.exp(np.asarray(log_kappa(problem, xs))),
                                                                            -1, 0)))
    kappas.update(zip(nz.variable_names(problem.fitted_noise),
                      np.moveaxis(np.exp(np.asarray(log_sigma(problem, xs))), -1, 0)))
    if problem.model == "group":
        theta = np.asarray(prior.z_to_theta(xs[..., : problem.model_dim]))
        return {**{n: theta[..., i] for i, n in enumerate(problem.names)}, **kappas}
    mu_z, log_tau, delta, _ = split(problem, xs)
    mu = np.asarray(prior.z_to_theta(mu_z))
    mu = mu[..., 0, :] if problem.n_centres == 1 else np.moveaxis(mu, -2, -1)  # (..., k[, C])
    tau = np.exp(np.asarray(log_tau))
    theta = np.asarray(prior.z_to_theta(unpack(problem, xs)[0]))
    groups = [("mu_", mu), ("tau_", tau)]
    if problem.n_offsets:
        groups.append(("delta_", np.moveaxis(np.asarray(delta), -2, -1)))
    groups.append(("", theta))
    out = {}
    for prefix, v in groups:
        for i, n in enumerate(problem.names):
            out[f"{prefix}{n}"] = _param_slice(v, i, prefix, problem)
    return {**out, **kappas}


def _param_slice(v, i, prefix, problem):
    """Parameter i of a stacked variable: the last axis is the parameter for tau_ and for
    a single centre; mu_ (several centres) and delta_ carry (..., k, levels); subject-level
    theta is (..., S, k)."""
    if prefix == "" or prefix == "tau_" or (prefix == "mu_" and problem.n_centres == 1):
        return v[..., i]
    return v[..., i, :]


def embed(problem: FitProblem, z):
    """x for population-level z (..., k): z itself (group), or mu = z with the initial
    spread and every subject at the centre (hierarchical); any kappas and fitted noise
    scales at their prior median."""
    z = np.asarray(z, dtype=float)
    kappas = np.concatenate([het.initial_log_kappa(problem.discrepancy, z.shape[:-1]),
                             nz.initial_log_sigma(problem.fitted_noise, z.shape[:-1])], axis=-1)
    if problem.model == "group":
        return np.concatenate([z, kappas], axis=-1)
    centres = np.concatenate([z] * problem.n_centres, axis=-1)
    extra = np.zeros(z.shape[:-1] + (problem.model_dim - (problem.n_centres + 1) * problem.k,))
    return np.concatenate([centres, np.full_like(z, np.log(INITIAL_TAU)), extra, kappas], axis=-1)


def sample_prior(problem: FitProblem, key, n: int) -> np.ndarray:
    """n draws of x (n, dim) from the prior the log-density uses (`unpack`): the parameter
    table's priors (group); for a hierarchical model mu from those priors (each centre),
    tau half-normal(tau_scale), level offsets normal(0, offset_scale), subject effects
    eta standard normal; the discrepancies' kappa half-normal(scale); fitted noise scales
    log-normal around their defaults."""
    prior = problem.prior
    key, k_kappa = jax.random.split(key) if problem.discrepancy.n else (key, None)
    key, k_sigma = jax.random.split(key) if problem.fitted_noise.n else (key, None)
    kappas = (het.log_kappa_of_normal(problem.discrepancy, jax.random.normal(k_kappa, (n, problem.discrepancy.n)))
              if problem.discrepancy.n else np.zeros((n, 0)))
    kappas = np.concatenate([kappas, nz.sample_log_sigma(problem.fitted_noise, jax.random.normal(
        k_sigma, (n, problem.fitted_noise.n))) if problem.fitted_noise.n else np.zeros((n, 0))], axis=-1)
    if problem.model == "group":
        return np.concatenate([np.asarray(prior.sample_z(key, (n,)), dtype=float), kappas], axis=-1)
    k, c, o, s = problem.k, problem.n_centres, problem.n_offsets, problem.n_subjects
    k_mu, k_tau, k_delta, k_eta = jax.random.split(key, 4)
    mu = np.asarray(prior.sample_z(k_mu, (n, c)), dtype=float).reshape(n, c * k)
    tau = np.abs(float(problem.tau_scale) * np.asarray(jax.random.normal(k_tau, (n, k))))
    delta = float(problem.offset_scale) * np.asarray(jax.random.normal(k_delta, (n, o * k)))
    eta = np.asarray(jax.random.normal(k_eta, (n, s * k)))
    return np.concatenate([mu, np.log(tau), delta, eta, kappas], axis=-1)


def x_of_theta(problem: FitProblem, theta):
    """x at population-level parameter values theta (..., k) (model units)."""
    return embed(problem, problem.prior.theta_to_z(jnp.asarray(theta, dtype=float)))


def simulate_values(problem: FitProblem, x, rng: np.random.Generator, noise: bool = True) -> np.ndarray:
    """Model-generated data for every row at x: the prediction plus noise drawn from the
    row's likelihood (Gaussian with the row's scale for group rows; log-normal, Gaussian
    or log-normal with the noise model's sigma for individual rows), with the between-study
    discrepancy of x when the fit has one."""
    _, pred, ok, _, extra = evaluate_draws(problem, np.asarray(x)[None], batch=1)
    if not bool(ok[0]):
        raise ValueError("solver failed at the parameters of the synthetic data")
    sigma = row_sigma(problem, np.asarray(x)[None])
    return observation_noise(problem, pred[0], rng, extra[0], None if sigma is None else sigma[0]) if noise else pred[0]


def _row_noise(problem: FitProblem, extra_sd=None, sigma=None):
    """Each row's likelihood noise, as `observation_noise` and `predictive_quantiles` draw
    it: (heavy-tailed: Student-t with the noise model's df, else Gaussian; additive on the
    log scale; its scale: the row's own for Gaussian rows, with `extra_sd` added in
    quadrature, the noise model's sigma otherwise, or `sigma` (..., rows), the draws' own
    fitted scales of `row_sigma`)."""
    kind = np.asarray(problem.rows.kind)
    heavy = (kind == lk.IND_STUDENT_T) | (kind == lk.IND_LOG_STUDENT_T)
    log_scale = (kind == lk.IND_LOGNORMAL) | (kind == lk.IND_LOG_STUDENT_T)
    scale = np.asarray(problem.rows.scale, dtype=float)
    if extra_sd is not None:
        scale = np.sqrt(scale**2 + np.asarray(extra_sd, dtype=float) ** 2)
    if sigma is None:
        sigma = np.asarray(problem.noise.sigma)[np.asarray(problem.rows.obs_code)]
    return heavy, log_scale, np.where(lk.is_gaussian(kind), scale, np.asarray(sigma, dtype=float))


def observation_noise(problem: FitProblem, pred, rng: np.random.Generator, extra_sd=None, sigma=None) -> np.ndarray:
    """New observations of every row at predictions `pred` (..., rows), drawn from the
    row's likelihood: Gaussian with the row's scale (group rows, event times; with
    `extra_sd` (..., rows), the between-study SD of `evaluate_draws`, added in quadrature),
    and for individual rows the noise model's sigma (or `sigma` (..., rows), each draw's
    fitted scales, `row_sigma`) - log-normal, Student-t or log-Student-t (the noise model's
    degrees of freedom)."""
    pred = np.asarray(pred, dtype=float)
    heavy, log_scale, scale = _row_noise(problem, extra_sd, sigma)
    eps = rng.standard_normal(pred.shape)
    if np.any(heavy):
        eps = np.where(heavy, rng.standard_t(float(problem.noise.df), pred.shape), eps)
    return np.where(log_scale, pred * np.exp(scale * eps), pred + scale * eps)


def predictive_quantiles(problem: FitProblem, pred, qs, chunk_rows: int = 20_000, iterations: int = 60,
                         sigma=None) -> np.ndarray:
    """Quantiles qs of a new observation of every row, (len(qs), rows): the mixture over the
    prediction draws `pred` (draws, rows) of the row's likelihood (`observation_noise`'s
    families), by bisection on the mixture's CDF. Exact up to the draws of `pred`: unlike the
    quantiles of one noise draw per prediction, no Monte Carlo error is added (a MAP fit's
    few identical draws give the noise model's own quantiles). NaN predictions (failed
    draws) are left out row by row; a row with none (or no draws at all) is NaN. `sigma`
    (draws, rows): each draw's fitted noise scales (`row_sigma`), else the problem's."""
    from scipy import special

    pred = np.asarray(pred, dtype=float).reshape(-1, np.shape(problem.rows.kind)[0])
    heavy, log_scale, scale = _row_noise(problem, sigma=sigma)
    scale = np.broadcast_to(scale, pred.shape[-1:] if sigma is None else pred.shape)
    df = float(problem.noise.df)
    out = np.full((len(qs), pred.shape[1]), np.nan)
    for lo_row in range(0, pred.shape[1], chunk_rows):
        cols = slice(lo_row, lo_row + chunk_rows)
        p, sc, lg, hv = pred[:, cols], scale[..., cols], log_scale[cols], heavy[cols]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(lg, np.log(np.maximum(p, 1e-300)), p)  # the noise is additive in u
        valid = np.isfinite(u)
        n = np.sum(valid, axis=0)
        u0 = np.where(valid, u, 0.0)

        def cdf(x):
            t = (x[None, :] - u0) / sc
            c = np.where(hv, special.stdtr(df, t), special.ndtr(t))
            return np.sum(np.where(valid, c, 0.0), axis=0) / np.maximum(n, 1)

        for i, q in enumerate(qs):
            z = np.where(hv, special.stdtrit(df, q), special.ndtri(q))
            shifted = u + z * sc  # each draw's own quantile q
            lo = np.min(np.where(valid, shifted, np.inf), axis=0, initial=np.inf)
            hi = np.max(np.where(valid, shifted, -np.inf), axis=0, initial=-np.inf)
            lo, hi = np.where(n > 0, lo, 0.0), np.where(n > 0, hi, 0.0)
            for _ in range(iterations):  # the quantile of the mixture lies between its parts'
                mid = 0.5 * (lo + hi)
                below = cdf(mid) < q
                lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
            x = 0.5 * (lo + hi)
            out[i, cols] = np.where(n > 0, np.where(lg, np.exp(x), x), np.nan)
    return out


__all__ = ["TRACES", "check_x", "embed", "evaluate_draws", "extra_sd", "log_density", "log_kappa", "loglik_terms", "posterior_variables",
           "noise_model", "observation_noise", "predict", "predictive_quantiles", "row_sigma", "log_sigma", "sigma_by_code", "simulate_values", "split", "subject_features", "unpack", "value_and_grad", "value_and_grad_many",
           "x_of_theta"]
