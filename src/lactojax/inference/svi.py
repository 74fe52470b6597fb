"""Stochastic variational inference (numpyro) on the shared log-density: quick approximate fits.

The numpyro model has one improper-flat site `z` (the unconstrained parameter vector) and
one `factor` holding `LogDensity.logp(z)`, so the target is exactly the density MAP and
NUTS use. Guides: "normal" (AutoNormal, mean-field), "mvn" (AutoMultivariateNormal, full
covariance), "lowrank" (AutoLowRankMultivariateNormal of a given rank).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import optax
from numpyro.distributions import constraints
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.autoguide import AutoLowRankMultivariateNormal, AutoMultivariateNormal, AutoNormal
from numpyro.infer.initialization import init_to_value

from lactojax.inference.density import LogDensity


@dataclasses.dataclass
class SviResult:
    z: np.ndarray  # (draws, k) draws from the fitted guide
    theta: np.ndarray  # (draws, k)
    losses: np.ndarray  # (steps,) negative ELBO
    wall_s: float


def numpyro_model(ld: LogDensity):
    k = ld.problem.k

    def model():
        z = numpyro.sample("z", dist.ImproperUniform(constraints.real_vector, (), (k,)))
        numpyro.factor("log_density", ld.logp(z))

    return model


def run_svi(
    ld: LogDensity,
    init_z: np.ndarray,
    guide: str = "mvn",
    steps: int = 1000,
    learning_rate: float = 0.01,
    draws: int = 1000,
    seed: int = 0,
    rank: int = 2,
    num_particles: int = 1,
    progress_bar: bool = True,
) -> SviResult:
    t0 = time.perf_counter()
    model = numpyro_model(ld)
    init = init_to_value(values={"z": jnp.asarray(init_z, dtype=float)})
    if guide == "normal":
        g = AutoNormal(model, init_loc_fn=init, init_scale=0.05)
    elif guide == "mvn":
        g = AutoMultivariateNormal(model, init_loc_fn=init, init_scale=0.05)
    elif guide == "lowrank":
        g = AutoLowRankMultivariateNormal(model, init_loc_fn=init, init_scale=0.05, rank=rank)
    else:
        raise ValueError(f"unknown guide {guide!r}; expected normal, mvn or lowrank")
    svi = SVI(model, g, optax.adam(learning_rate), Trace_ELBO(num_particles=num_particles))
    res = svi.run(jax.random.PRNGKey(seed), steps, progress_bar=progress_bar)
    key = jax.random.PRNGKey(seed + 1)
    z = np.asarray(g.sample_posterior(key, res.params, sample_shape=(draws,))["z"])
    theta = np.asarray(ld.problem.prior.z_to_theta(jnp.asarray(z)))
    return SviResult(z=z, theta=theta, losses=np.asarray(res.losses), wall_s=time.perf_counter() - t0)


__all__ = ["SviResult", "numpyro_model", "run_svi"]
