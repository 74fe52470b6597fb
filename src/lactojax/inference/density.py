"""`LogDensity`: the one log-density of a `FitProblem`, its gradient and its predictions.

MAP (optax), NUTS (numpyro, `potential_fn = -logp`) and SVI (numpyro model with a single
`factor`) all call `LogDensity.logp`. Guarantees:
- the value is finite or -inf (a solver failure, a non-finite prediction or an
  out-of-support point), never NaN, and no exception is raised inside a trace;
- the gradient is finite: where the value is -inf, or the gradient itself is not finite,
  it is set to zero (a custom VJP), so a failed solve cannot poison optimiser or sampler
  state;
- the gradient is computed once per evaluation, by reverse mode through the solver
  (diffrax RecursiveCheckpointAdjoint) or by forward mode (`gradient = "forward"`:
  jacfwd with diffrax ForwardMode), as configured.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from lactojax import likelihoods as lk
from lactojax import observation as obs
from lactojax.inference.problem import DAILY_SERIES, EVENT_REFERENCE_DAY, EVENTS, PARAM_ROWS, FitProblem
from lactojax.simulate import simulate


def daily_features(traj, params, inputs) -> jnp.ndarray:
    """(len(DAILY_SERIES), days) daily series used by the row map."""
    d = obs.daily(traj, params, inputs)
    n_glands = d["production_gland_ml"].shape[-1]
    series = dict(d)
    series["production_per_gland_ml"] = d["production_ml"] / n_glands
    series["prolactin_fold_rise"] = d["prolactin_peak_ng_ml"] / jnp.maximum(d["prolactin_basal_ng_ml"], 1e-12)
    return jnp.stack([series[k] for k in DAILY_SERIES])


class LogDensity:
    """Jitted log-density, gradients and predictions of a `FitProblem` (see module doc)."""

    def __init__(self, problem: FitProblem, batch: int | None = None):
        self.problem = problem
        # One vmapped batch size for every gradient evaluation outside NUTS (MAP starts,
        # finite-difference Hessians, line searches): one compilation serves them all.
        self.batch = int(batch or 4)
        pr = problem
        rm = pr.row_map
        w_daily = jnp.asarray(rm.w_daily)
        w_event = jnp.asarray(rm.w_event)
        w_param = jnp.asarray(rm.w_param)
        arrays = pr.arrays
        noise = lk.NoiseModel(sigma=jnp.asarray(pr.noise_sigma), df=4.0)
        prior = pr.prior
        settings = pr.settings
        inputs = pr.inputs
        base = pr.base
        names = pr.names
        needs_events = rm.needs_events

        def predict(z):
            theta = prior.z_to_theta(z)
            params = base.with_vector(names, theta)
            traj = simulate(params, inputs, settings)
            feats = daily_features(traj, params, inputs)
            pred = w_daily @ feats.reshape(-1)
            if needs_events:
                ev = obs.event_times(traj, params, inputs, reference_day=EVENT_REFERENCE_DAY)
                pred = pred + w_event @ jnp.stack([ev[e] for e in EVENTS])
            pred = pred + w_param @ jnp.stack([params[n] for n in PARAM_ROWS])
            ok = traj.success & jnp.all(jnp.isfinite(pred))
            return pred, ok, traj.num_steps

        def loglik_terms(z):
            pred, ok, steps = predict(z)
            safe_pred = jnp.where(ok, pred, 1.0)
            terms = lk.dataset_loglik_terms(safe_pred, arrays, noise)
            terms = jnp.where(ok, terms, -jnp.inf)
            return terms, pred, ok, steps

        def raw_logp(z):
            terms, _, ok, _ = loglik_terms(z)
            lp = prior.log_prob_z(z) + jnp.sum(terms)
            good = ok & jnp.isfinite(lp)
            return jnp.where(good, lp, -jnp.inf)

        if pr.gradient == "forward":
            def value_and_grad(z):
                g, v = jax.jacfwd(lambda x: (raw_logp(x), raw_logp(x)), has_aux=True)(z)
                return v, g
        else:
            value_and_grad = jax.value_and_grad(raw_logp)

        def guarded_value_and_grad(z):
            v, g = value_and_grad(z)
            good = jnp.isfinite(v) & jnp.all(jnp.isfinite(g))
            v = jnp.where(good, v, -jnp.inf)
            g = jnp.where(good, g, 0.0)
            return v, g

        @jax.custom_vjp
        def logp(z):
            return raw_logp(z)

        def logp_fwd(z):
            v, g = guarded_value_and_grad(z)
            return v, g

        def logp_bwd(g, ct):
            return (ct * g,)

        logp.defvjp(logp_fwd, logp_bwd)

        self._raw_logp = raw_logp
        self.logp = logp
        self.potential = lambda z: -logp(z)
        self.predict = predict
        self.loglik_terms = loglik_terms
        self.value_and_grad = jax.jit(guarded_value_and_grad)
        self.value_and_grad_batch = jax.jit(jax.vmap(guarded_value_and_grad))
        self.logp_batch = jax.jit(jax.vmap(raw_logp))
        self.terms_batch = jax.jit(jax.vmap(loglik_terms))

    # --- convenience -----------------------------------------------------------------
    def _padded(self, fn, z, batch):
        z = np.asarray(z, dtype=float).reshape(-1, self.problem.k)
        n = z.shape[0]
        outs = []
        for i in range(0, n, batch):
            chunk = z[i : i + batch]
            pad = batch - chunk.shape[0]
            if pad:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
            res = fn(jnp.asarray(chunk))
            res = res if isinstance(res, (tuple, list)) else (res,)
            outs.append([np.asarray(x)[: batch - pad] for x in res])
        return [np.concatenate([o[j] for o in outs]) for j in range(len(outs[0]))]

    def value_and_grad_many(self, z):
        """(values (n,), gradients (n, k)) for the rows of z, in padded batches of
        `self.batch` (a single compilation)."""
        v, g = self._padded(self.value_and_grad_batch, z, self.batch)
        return v, g

    def theta(self, z) -> np.ndarray:
        return np.asarray(self.problem.prior.z_to_theta(jnp.asarray(z)))

    def z_of_theta(self, theta) -> jnp.ndarray:
        return self.problem.prior.theta_to_z(jnp.asarray(theta, dtype=float))

    def evaluate_draws(self, z_draws, batch: int = 64):
        """Per-row log-likelihood terms, predictions, success flags and solver steps for
        each row of z_draws (n, k), in vmapped batches (padded to a fixed size so one
        compilation serves every batch)."""
        return self._padded(self.terms_batch, z_draws, batch)


__all__ = ["LogDensity", "daily_features"]
