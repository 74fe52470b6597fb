"""Priors of the estimated parameters, from `PARAMETER_TABLE`, on an unconstrained scale.

Each estimated parameter theta has a prior written relative to its nominal value
(`ParamSpec.prior`): lognormal -> u = log(theta), logitnormal -> u = logit(theta),
normal -> u = theta, with u ~ Normal(m, s) truncated to the bounds mapped the same way
(m = the family transform of the nominal value, or of a configured prior centre).

Samplers and optimisers work on z in R^k: u = T(z) with T the bijection from the real line
onto the truncation interval (numpyro's `biject_to`: a scaled sigmoid for two finite bounds),
so every z is inside the bounds. The log-density on z is
    log p(z) = sum_i [ log TruncNormal(u_i | m_i, s_i, a_i, b_i) + log |du_i/dz_i| ].
`PriorSet` is an equinox Module (a pytree of arrays plus static names), so functions that
take it can be jitted once and reused by MAP, NUTS and SVI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import log_ndtr, ndtr, ndtri

from lactojax.parameters import PARAMETERS, ParamSpec, species_spec

FAMILIES = ("lognormal", "logitnormal", "normal")
_LOG_SQRT_2PI = 0.9189385332046727
# theta <-> u of each family ("normal": u = theta)
_TO_U = {"lognormal": lambda t: jnp.log(t), "logitnormal": lambda t: jnp.log(t) - jnp.log1p(-t)}
_TO_THETA = {"lognormal": jnp.exp, "logitnormal": jax.nn.sigmoid}


def _forward_np(family: str, x):
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        if family == "lognormal":
            return np.log(x)
        if family == "logitnormal":
            return np.log(x) - np.log1p(-x)
    return x


def prior_interval(spec: ParamSpec, loc: float | None = None, scale: float | None = None):
    """(family, m, s, a, b) of the prior of one parameter on its u-scale."""
    family, s = spec.prior
    nominal = spec.nominal if loc is None else loc
    s = s if scale is None else scale
    m, a, b = (float(_forward_np(family, v)) for v in (nominal, spec.lower, spec.upper))
    if not (s > 0 and np.isfinite(m)):
        raise ValueError(f"prior of {spec.name!r}: bad centre {nominal} or scale {s}")
    return family, m, float(s), a, b


class PriorSet(eqx.Module):
    """Truncated-normal priors on the u-scale of the estimated parameters, with the
    z <-> u <-> theta maps. All arrays have shape (k,)."""

    names: tuple[str, ...] = eqx.field(static=True)
    family: tuple[str, ...] = eqx.field(static=True)
    m: jnp.ndarray
    s: jnp.ndarray
    a: jnp.ndarray  # lower bound of u (may be -inf only for unbounded families)
    b: jnp.ndarray
    # (lower, upper) of theta per parameter: the table's, or the species' own
    theta_bounds: tuple[tuple[float, float], ...] = eqx.field(static=True)

    @classmethod
    def from_table(cls, names: Sequence[str], overrides: Mapping[str, Mapping[str, float]] | None = None,
                   nominal: Mapping[str, float] | None = None, species: str = "human") -> "PriorSet":
        """Priors of `names` from the parameter table.

        overrides: per parameter {"loc": value on the parameter scale, "scale": s on the
        u-scale} replacing the table's centre / width. nominal: centres used where no
        override gives "loc" (default: the species preset's values). species: whose bounds
        truncate the priors (`parameters.species_spec`).
        """
        overrides, nominal = overrides or {}, nominal or {}
        specs, rows = [], []
        for n in names:
            specs.append(species_spec(n, species))
            o = overrides.get(n, {})
            rows.append(prior_interval(specs[-1], o.get("loc", nominal.get(n)), o.get("scale")))
        fam = tuple(r[0] for r in rows)
        arr = lambda i: jnp.asarray(np.array([r[i] for r in rows], dtype=float).reshape(len(rows)))
        for n, r in zip(names, rows):
            if not (np.isfinite(r[3]) and np.isfinite(r[4])):
                raise ValueError(f"parameter {n!r}: bounds must be finite on the prior's scale")
            if not (r[3] < r[1] < r[4]):
                raise ValueError(f"prior centre of {n!r} lies outside its bounds")
        return cls(tuple(names), fam, arr(1), arr(2), arr(3), arr(4),
                   tuple((sp.lower, sp.upper) for sp in specs))

    def bounds_of(self, i: int) -> tuple[float, float]:
        """(lower, upper) of parameter i on its own scale."""
        return self.theta_bounds[i]

    @property
    def k(self) -> int:
        return len(self.names)

    # --- maps -------------------------------------------------------------------
    def z_to_u(self, z):
        """Scaled sigmoid onto (a, b); returns (u, log|du/dz|)."""
        w = self.b - self.a
        return self.a + w * jax.nn.sigmoid(z), jnp.log(w) - jax.nn.softplus(-z) - jax.nn.softplus(z)

    def u_to_z(self, u):
        p = jnp.clip((u - self.a) / (self.b - self.a), 1e-12, 1 - 1e-12)
        return jnp.log(p) - jnp.log1p(-p)

    def u_to_theta(self, u):
        # clipped: guard the last ulp at the bounds
        return jnp.stack([jnp.clip(_TO_THETA.get(fam, lambda x: x)(u[..., i]), *self.bounds_of(i))
                          for i, fam in enumerate(self.family)], axis=-1)

    def theta_to_u(self, theta):
        theta = jnp.asarray(theta, dtype=float)
        return jnp.stack([_TO_U.get(fam, lambda x: x)(theta[..., i]) for i, fam in enumerate(self.family)], axis=-1)

    def z_to_theta(self, z):
        return self.u_to_theta(self.z_to_u(z)[0])

    def theta_to_z(self, theta):
        return self.u_to_z(self.theta_to_u(theta))

    # --- densities -------------------------------------------------------------------
    def log_prob_u(self, u):
        """Sum of truncated-normal log-densities of u (normalised on [a, b])."""
        x = (u - self.m) / self.s
        za, zb = (self.a - self.m) / self.s, (self.b - self.m) / self.s
        lp = -0.5 * x * x - _LOG_SQRT_2PI - jnp.log(self.s) - _log_diff_ndtr(zb, za)  # log(Phi(zb) - Phi(za))
        return jnp.sum(lp, axis=-1)

    def log_prob_z(self, z):
        """Log prior density of the unconstrained vector z (includes the Jacobian)."""
        u, logdet = self.z_to_u(z)
        return self.log_prob_u(u) + jnp.sum(logdet, axis=-1)

    def sample_u(self, key, shape=()):
        """Draws of u from the truncated normals (inverse CDF)."""
        za, zb = (self.a - self.m) / self.s, (self.b - self.m) / self.s
        lo, hi = ndtr(za), ndtr(zb)
        q = jax.random.uniform(key, shape + (self.k,), minval=0.0, maxval=1.0)
        q = lo + (hi - lo) * jnp.clip(q, 1e-9, 1 - 1e-9)
        return self.m + self.s * ndtri(q)

    def sample_z(self, key, shape=()):
        return self.u_to_z(self.sample_u(key, shape))

    def sample_theta(self, key, shape=()):
        return self.u_to_theta(self.sample_u(key, shape))

    def nominal_z(self):
        return self.u_to_z(self.m)

    def units(self) -> list[str]:
        return [PARAMETERS[n].unit for n in self.names]


def _log_diff_ndtr(hi, lo):
    """log(Phi(hi) - Phi(lo)) for hi > lo, computed in the better-conditioned tail."""
    # In the upper tail use the symmetric form Phi(-lo) - Phi(-hi).
    upper = lo > 0
    h = jnp.where(upper, -lo, hi)
    l = jnp.where(upper, -hi, lo)
    lh, ll = log_ndtr(h), log_ndtr(l)
    return lh + jnp.log1p(-jnp.exp(jnp.minimum(ll - lh, -1e-300)))


__all__ = ["FAMILIES", "PriorSet", "prior_interval"]
