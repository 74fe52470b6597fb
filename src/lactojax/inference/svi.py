"""Stochastic variational inference (numpyro) on a log-density function: quick approximate fits.

The numpyro model has one improper-flat site `z` (the unconstrained vector) and one
`factor` holding `log_density(z)` (e.g. `partial(density.log_density, problem)`), so the
target is exactly the density MAP and NUTS use. Guides: "normal" (AutoNormal, mean-field), "mvn" (AutoMultivariateNormal, full
covariance), "lowrank" (AutoLowRankMultivariateNormal of a given rank).

The optimisation steps are driven here, one compiled `SVI.update` per step, so the run
shows its progress and writes a checkpoint (optimiser state, RNG key, losses so far;
`inference.checkpoint`) every `checkpoint_every` steps; a resumed run ends with exactly the
guide of an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

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

from lactojax.progress import Progress


@dataclasses.dataclass
class SviResult:
    z: np.ndarray  # (draws, d) draws from the fitted guide
    losses: np.ndarray  # (steps,) negative ELBO
    wall_s: float
    resumed_at: int = 0  # steps read from a checkpoint instead of run


def numpyro_model(log_density: Callable, d: int):
    def model():
        z = numpyro.sample("z", dist.ImproperUniform(constraints.real_vector, (), (d,)))
        numpyro.factor("log_density", log_density(z))

    return model


def run_svi(log_density: Callable, init_z: np.ndarray, guide: str = "mvn", steps: int = 1000,
            learning_rate: float = 0.01, draws: int = 1000, seed: int = 0, rank: int = 2, num_particles: int = 1,
            progress_bar: bool = True, checkpoint=None, checkpoint_every: int = 100) -> SviResult:
    """Fit the guide by `steps` Adam steps on the negative ELBO and draw from it.
    `checkpoint` / `checkpoint_every`: as `nuts.run_nuts` (module doc)."""
    t0 = time.perf_counter()
    model = numpyro_model(log_density, np.shape(init_z)[-1])
    init = init_to_value(values={"z": jnp.asarray(init_z, dtype=float)})
    guides = {"normal": (AutoNormal, {}), "mvn": (AutoMultivariateNormal, {}),
              "lowrank": (AutoLowRankMultivariateNormal, {"rank": rank})}
    if guide not in guides:
        raise ValueError(f"unknown guide {guide!r}; expected normal, mvn or lowrank")
    g = guides[guide][0](model, init_loc_fn=init, init_scale=0.05, **guides[guide][1])
    svi = SVI(model, g, optax.adam(learning_rate), Trace_ELBO(num_particles=num_particles))
    state = svi.init(jax.random.PRNGKey(seed))
    update = jax.jit(svi.update)
    done, losses, resumed_at = 0, [], 0
    saved = checkpoint.load_sampler("svi", state) if checkpoint is not None else None
    if saved is not None:
        state, done, collected = saved
        losses = list(collected.get("losses", []))
    resumed_at = done
    with Progress(steps, f"SVI ({guide} guide)", unit="steps", enabled=None if progress_bar else False,
                  done=done) as bar:
        for i in range(done, steps):
            state, loss = update(state)
            losses.append(np.asarray(loss))
            bar.set(i + 1)
            if checkpoint is not None and ((i + 1) % checkpoint_every == 0 or i + 1 == steps):
                checkpoint.save_sampler("svi", state, i + 1, {"losses": np.asarray(losses)})
    params = svi.get_params(state)
    z = np.asarray(g.sample_posterior(jax.random.PRNGKey(seed + 1), params, sample_shape=(draws,))["z"])
    return SviResult(z=z, losses=np.asarray(losses), wall_s=time.perf_counter() - t0, resumed_at=resumed_at)


__all__ = ["SviResult", "numpyro_model", "run_svi"]
