"""Hierarchical (population) models: subject-level parameters around population means.

For the dairy records (hundreds of lactations of individual cows) and for human cohorts
with individual records. Non-centred on the unconstrained scale of `PriorSet`:

    mu_z ~ prior of the parameter table (density on z, bounds respected)
    tau_j ~ HalfNormal(tau_scale)             population spread of parameter j (z-scale)
    eta_ij ~ Normal(0, 1)                     subject i
    z_ij = mu_z_j + tau_j * eta_ij,  theta_ij = T_j(z_ij)   (always inside the bounds)

Subjects are simulated together: `simulate` is vmapped over the subject axis of the
parameters and of the stacked inputs (`stack_inputs`), which is the GPU workload (one
batched solve per log-density evaluation). Data rows are individual records (milk yield per
milking or per day, fat/protein/lactose %), predicted from the per-session observation
model (`observation.per_session`):
- milk_yield_per_milking: yield (kg) of the session starting nearest the record's time
  (t_end_h, the milking time; rows with no session within 1 h are excluded);
- fat_pct / protein_pct / lactose_pct: composition of the milk present at that session;
- milk_yield_daily: kg/d = the yields of the sessions starting in [t_start, t_end) divided
  by the window's length in days (a test day, or a weekly mean of daily yields).
Likelihoods are `lactojax.likelihoods` (log-normal yields, Student-t composition) with the
vocabulary's default noise scales (fixed; documented in docs/datasets.md).

A solver failure in any subject makes the log-density -inf with a zero gradient (the
guard of `lactojax.inference.density`).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
from numpyro.distributions import constraints

from lactojax import likelihoods as lk
from lactojax import observation as obs
from lactojax.datasets.vocabulary import CODES, default_noise_sigma
from lactojax.inference.priors import PriorSet
from lactojax.inputs import Inputs, make_inputs, milkings, stack_inputs
from lactojax.parameters import Params
from lactojax.simulate import simulate
from lactojax.solver import SolverSettings

SESSION_SERIES = ("yield_kg", "fat_pct", "protein_pct", "lactose_pct")
ROW_SERIES = {
    "milk_yield_per_milking": "yield_kg",
    "milk_yield_daily": "yield_kg",
    "fat_pct": "fat_pct",
    "protein_pct": "protein_pct",
    "lactose_pct": "lactose_pct",
}
# a daily-yield row averages the sessions in its window: up to a fortnight of 3x milking
MAX_SESSIONS_PER_ROW = 48


@dataclasses.dataclass
class CohortData:
    """Individual records of S subjects, padded to R rows each.

    inputs: stacked Inputs (leading axis S). series (S, R): index into SESSION_SERIES;
    sessions (S, R, M) session indices with weights (S, R, M); value, kind, obs_code (S, R);
    mask (S, R): 1 for real rows. rows: the rows used (subject, observable, window, value).
    """

    subjects: list[str]
    inputs: Inputs
    series: np.ndarray
    sessions: np.ndarray
    weights: np.ndarray
    value: np.ndarray
    kind: np.ndarray
    obs_code: np.ndarray
    mask: np.ndarray
    rows: pd.DataFrame
    excluded: int = 0  # rows of the subjects' records not used
    exclusion_reasons: dict = dataclasses.field(default_factory=dict)  # reason -> rows

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)


def cow_inputs(days: float, clock_h: Sequence[float] = (5.0, 14.5), calving_clock_h: float = 12.0,
               n_glands: int = 4) -> Inputs:
    """Twice-a-day machine milking of all quarters (dataset design conventions)."""
    return make_inputs(milkings(days, clock_times_h=clock_h, n_glands=n_glands,
                                calving_clock_h=calving_clock_h), days)


def build_cohort(table: pd.DataFrame, inputs_by_subject: dict[str, Inputs]) -> CohortData:
    """CohortData from a tidy individual-record table with columns subject, observable,
    t_start_h, t_end_h, value (model units) and the subjects' inputs (one horizon)."""
    subjects = list(inputs_by_subject)
    per_subject = []
    reasons: collections.Counter = collections.Counter()
    for s in subjects:
        inp = inputs_by_subject[s]
        starts = np.asarray(inp.feeds.start_h)
        sub = table[table["subject"] == s]
        rows = []
        for r in sub.itertuples(index=False):
            if r.observable not in ROW_SERIES:
                reasons[f"{r.observable}: not mapped to a per-session output"] += 1
                continue
            if r.t_end_h > inp.horizon_h:
                reasons[f"beyond the simulated horizon ({inp.horizon_h:g} h)"] += 1
                continue
            if r.observable == "milk_yield_daily":
                idx = np.flatnonzero((starts >= r.t_start_h) & (starts < r.t_end_h))
                days = (r.t_end_h - r.t_start_h) / 24.0
                if idx.size == 0:
                    reasons["milk_yield_daily: no milking session in the window"] += 1
                    continue
                if idx.size > MAX_SESSIONS_PER_ROW:
                    reasons[f"milk_yield_daily: window holds > {MAX_SESSIONS_PER_ROW} sessions"] += 1
                    continue
                w = np.full(idx.size, 1.0 / days)
            else:
                j = int(np.argmin(np.abs(starts - r.t_end_h)))
                if abs(starts[j] - r.t_end_h) > 1.0:
                    reasons[f"{r.observable}: no milking session within 1 h of the record"] += 1
                    continue
                idx, w = np.array([j]), np.array([1.0])
            rows.append((r, idx, w))
        per_subject.append(rows)
    n_rows = max(1, max(len(x) for x in per_subject))
    S = len(subjects)
    M = max([1] + [idx.size for rows in per_subject for _, idx, _ in rows])
    series = np.zeros((S, n_rows), dtype=np.int32)
    sessions = np.zeros((S, n_rows, M), dtype=np.int32)
    weights = np.zeros((S, n_rows, M))
    value = np.ones((S, n_rows))
    kind = np.full((S, n_rows), lk.IND_LOGNORMAL, dtype=np.int32)
    code = np.zeros((S, n_rows), dtype=np.int32)
    mask = np.zeros((S, n_rows))
    used = []
    for i, rows in enumerate(per_subject):
        for j, (r, idx, w) in enumerate(rows):
            series[i, j] = SESSION_SERIES.index(ROW_SERIES[r.observable])
            sessions[i, j, : idx.size] = idx
            weights[i, j, : idx.size] = w
            value[i, j] = r.value
            kind[i, j] = lk.IND_LOGNORMAL if "yield" in r.observable else lk.IND_STUDENT_T
            code[i, j] = CODES[r.observable]
            mask[i, j] = 1.0
            used.append(dict(subject=subjects[i], observable=r.observable, t_start_h=r.t_start_h,
                             t_end_h=r.t_end_h, value=r.value))
    stacked = stack_inputs([inputs_by_subject[s] for s in subjects])
    return CohortData(subjects, stacked, series, sessions, weights, value, kind, code, mask,
                      pd.DataFrame(used), sum(reasons.values()), dict(reasons))


def dataset_records(name: str) -> pd.DataFrame:
    """The fit rows of a cow dataset with `value` in model units (input of `build_cohort`)."""
    from lactojax.datasets import load_dataset

    t = load_dataset(name).fit_rows()
    return t.assign(value=t["value_model"])


def dataset_cow_inputs(name: str, days: float) -> Inputs:
    """`cow_inputs` at a cow dataset's recorded milking design (clock times, calving time,
    glands; lactojax.datasets.design)."""
    from lactojax.datasets import design_for

    design = design_for(name)
    return cow_inputs(days, design.milking_clock_h or (5.0, 17.0), design.birth_clock_h or 12.0,
                      design.n_glands)


def cohort_from_dataset(name: str, n_subjects: int, days: float, subjects: Sequence[str] | None = None
                        ) -> CohortData:
    """The first `n_subjects` lactations of a cow dataset (e.g. "milkman"), records up to
    `days` after calving, milked at the dataset design's clock times."""
    t = dataset_records(name)
    chosen = list(subjects) if subjects else list(pd.unique(t["subject"]))[:n_subjects]
    inputs = dataset_cow_inputs(name, days)
    return build_cohort(t[t["subject"].isin(chosen)], {s: inputs for s in chosen})


class HierarchicalModel:
    """Non-centred population model (module doc) with a guarded batched likelihood."""

    def __init__(self, data: CohortData, names: Sequence[str], species: str = "cow",
                 fixed: dict | None = None, settings: SolverSettings | None = None,
                 tau_scale: float = 0.3, noise_sigma: np.ndarray | None = None):
        self.data = data
        self.names = tuple(names)
        base = Params.nominal(species, **(fixed or {}))
        self.base = base
        self.prior = PriorSet.from_table(self.names, nominal={n: float(base[n]) for n in names},
                                         species=species)
        self.settings = (settings or SolverSettings(rtol=1e-4, atol=1e-4)).replace(throw=False)
        self.tau_scale = tau_scale
        sigma = jnp.asarray(default_noise_sigma() if noise_sigma is None else noise_sigma)
        prior, settings_, names_ = self.prior, self.settings, self.names
        inputs = data.inputs
        series = jnp.asarray(data.series)
        sessions = jnp.asarray(data.sessions)
        weights = jnp.asarray(data.weights)
        value = jnp.asarray(data.value)
        kind = jnp.asarray(data.kind)
        code = jnp.asarray(data.obs_code)
        mask = jnp.asarray(data.mask)

        def subject_pred(theta_i, inputs_i, series_i, sessions_i, weights_i):
            p = base.with_vector(names_, theta_i)
            traj = simulate(p, inputs_i, settings_)
            ps = obs.per_session(traj, p, inputs_i)
            table = jnp.stack([ps[k] for k in SESSION_SERIES])  # (4, F)
            picked = table[series_i[:, None], sessions_i]  # (R, M)
            return jnp.sum(picked * weights_i, axis=-1), traj.success

        def subject_ll(pred_i, value_i, kind_i, code_i, mask_i):
            ok = jnp.isfinite(pred_i) & (pred_i > 0)
            pr = jnp.where(ok, pred_i, 1.0)
            scale_sigma = sigma[code_i]
            ll_ln = lk.individual_lognormal_loglik(pr, jnp.where(mask_i > 0, value_i, 1.0), scale_sigma)
            ll_t = lk.individual_student_t_loglik(pr, value_i, scale_sigma, 4.0)
            ll = jnp.where(kind_i == lk.IND_LOGNORMAL, ll_ln, ll_t)
            ll = jnp.where(mask_i > 0, ll, 0.0)
            bad = jnp.any((mask_i > 0) & ~ok)
            return jnp.sum(ll), bad

        def loglik(z):  # z: (S, k)
            theta = prior.z_to_theta(z)
            pred, success = jax.vmap(subject_pred)(theta, inputs, series, sessions, weights)
            ll, bad = jax.vmap(subject_ll)(pred, value, kind, code, mask)
            good = jnp.all(success) & ~jnp.any(bad) & jnp.all(jnp.isfinite(ll))
            return jnp.where(good, jnp.sum(ll), -jnp.inf)

        vg = jax.value_and_grad(loglik)

        @jax.custom_vjp
        def guarded(z):
            return loglik(z)

        def fwd(z):
            v, g = vg(z)
            good = jnp.isfinite(v) & jnp.all(jnp.isfinite(g))
            return jnp.where(good, v, -jnp.inf), jnp.where(good, g, 0.0)

        guarded.defvjp(fwd, lambda g, ct: (ct * g,))
        self.loglik = guarded
        self.predict = jax.jit(lambda theta: jax.vmap(subject_pred)(theta, inputs, series, sessions, weights))

    def model(self):
        k, S = len(self.names), self.data.n_subjects
        mu = numpyro.sample("mu_z", dist.ImproperUniform(constraints.real_vector, (), (k,)))
        numpyro.factor("mu_prior", self.prior.log_prob_z(mu))
        tau = numpyro.sample("tau", dist.HalfNormal(self.tau_scale * jnp.ones(k)).to_event(1))
        with numpyro.plate("subject", S):
            eta = numpyro.sample("eta", dist.Normal(jnp.zeros(k), 1.0).to_event(1))
        z = mu + tau * eta
        numpyro.deterministic("theta", self.prior.z_to_theta(z))
        numpyro.deterministic("theta_population", self.prior.z_to_theta(mu))
        numpyro.factor("loglik", self.loglik(z))

    def init_values(self) -> dict:
        k, S = len(self.names), self.data.n_subjects
        return {"mu_z": self.prior.nominal_z(), "tau": 0.1 * jnp.ones(k), "eta": jnp.zeros((S, k))}

    def synthetic(self, theta_subjects, key, noise_sigma: np.ndarray | None = None) -> CohortData:
        """The same cohort with values simulated at `theta_subjects` (S, k) plus noise
        (log-normal yields, Gaussian composition) - labelled data for recovery tests."""
        pred, ok = self.predict(jnp.asarray(theta_subjects, dtype=float))
        if not bool(jnp.all(ok)):
            raise ValueError("solver failed while simulating synthetic data")
        sigma = np.asarray(default_noise_sigma() if noise_sigma is None else noise_sigma)[self.data.obs_code]
        eps = np.asarray(jax.random.normal(key, pred.shape))
        pred = np.asarray(pred)
        vals = np.where(self.data.kind == lk.IND_LOGNORMAL, pred * np.exp(sigma * eps), pred + sigma * eps)
        vals = np.where(self.data.mask > 0, vals, 1.0)
        return dataclasses.replace(self.data, value=vals)


def run_hierarchical_nuts(hm: HierarchicalModel, chains: int = 1, warmup: int = 100, draws: int = 100,
                          seed: int = 0, max_tree_depth: int = 5, chain_method: str = "vectorized",
                          progress_bar: bool = False):
    """NUTS on the hierarchical model; returns the numpyro MCMC object (samples include
    theta (S, k) and theta_population (k,))."""
    from numpyro.infer import MCMC, NUTS
    from numpyro.infer.initialization import init_to_value

    kernel = NUTS(hm.model, init_strategy=init_to_value(values=hm.init_values()),
                  max_tree_depth=max_tree_depth, target_accept_prob=0.8)
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=draws, num_chains=chains,
                chain_method=chain_method, progress_bar=progress_bar)
    mcmc.run(jax.random.PRNGKey(seed), extra_fields=("diverging",))
    return mcmc


__all__ = ["CohortData", "HierarchicalModel", "build_cohort", "cohort_from_dataset", "cow_inputs",
           "dataset_cow_inputs", "dataset_records",
           "run_hierarchical_nuts"]
