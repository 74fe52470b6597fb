"""Posterior predictive simulation of any scenario under a fitted posterior.

`posterior_predictive_daily(posterior_nc_path, inputs)` reads a fit's posterior.nc
(InferenceData written by `lactojax fit`; attributes `outputs.FitAttrs`), rebuilds the
model parameters of each posterior draw (estimated parameters from the draw - the
population centre `mu_<param>` of a hierarchical fit - every other parameter from the
fit's base values stored in the file), simulates `inputs` for each draw (vmapped) and
returns, for every column of the daily table (`lactojax.observables.daily_columns`), the
posterior median and the 5% and 95% quantiles: `<col>_median`, `<col>_p05`, `<col>_p95`,
plus `day`. A fit with a between-study discrepancy (`inference.heterogeneity`) adds, for
each column of an observable it estimated a kappa for, `<col>_new_p05` and `<col>_new_p95`:
the 90 % interval of a new study's mean of that observable (each draw's prediction plus
Normal(0, kappa |prediction|) with that draw's kappa; the study's own standard error, which
depends on its size, is not included).
Draws whose solve fails are left out; their count is in `df.attrs["failed_draws"]`. For a
cow or goat the columns are the dairy table's (`dim`, kg/d per cow and quarter, %, SCC).

The draws are simulated in batches of `batch` (default 50), one program compiled before the
first batch and called for all of them (the last batch is padded); with `progress` a
terminal line (`lactojax.progress`) counts the draws done per batch and, from the first
batch on, estimates the time left (the compilation is timed apart). Batches of 10, 25 or 50
draws give bit-identical bands (measured, 100 draws); smaller batches are slower on CPU
(100 draws after compilation, 2 CPU cores: 60-day mother 5.6-6.9 s in batches of 25, 4.6-4.7 s
in batches of 50 or 100; 305-day cow 14.7, 14.0 and 14.0-14.8 s), so the batches are not made
smaller for progress.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from lactojax import observation as obs
from lactojax.inference.outputs import FitAttrs
from lactojax.observables import daily_columns
from lactojax.inputs import Inputs
from lactojax.parameters import PARAMETERS, Params
from lactojax.simulate import simulate
from lactojax.solver import SolverSettings

QUANTILES = (("median", 0.5), ("p05", 0.05), ("p95", 0.95))


def open_posterior(posterior_nc_path: str):
    """The InferenceData of a fit's posterior.nc. A file that is not netCDF (or cannot be
    read) or holds no posterior group is a ValueError naming the file, not a raw h5py /
    arviz error; `FitAttrs.from_idata` then refuses a posterior that lactojax did not write."""
    import arviz as az

    expected = "expected the posterior.nc written by `lactojax fit`"
    try:
        idata = az.from_netcdf(posterior_nc_path)
    except OSError as err:  # h5py: "file signature not found", a directory, no permission
        reason = getattr(err, "strerror", None) or str(err)
        raise ValueError(f"{posterior_nc_path}: cannot be read as netCDF ({reason}); {expected}") from None
    if "posterior" not in idata.groups():
        raise ValueError(f"{posterior_nc_path}: a netCDF file without a 'posterior' group, not a lactojax fit; "
                         f"{expected}")
    return idata


def load_posterior(posterior_nc_path: str, centre: str | None = None):
    """(names, draws (n, k) in model units, base parameter values dict, idata). A herd fit
    with several population centres (e.g. one per breed) gives the draws of `centre`
    (a label such as "breed=Jersey"; default: the centre with the most lactations)."""
    idata = open_posterior(posterior_nc_path)
    attrs = FitAttrs.from_idata(idata, posterior_nc_path)
    names = list(attrs.estimated)
    base = _complete_base(attrs.base_params, attrs.species, posterior_nc_path)
    var = (lambda n: f"mu_{n}") if attrs.model == "hierarchical" else (lambda n: n)  # noqa: E731
    post = idata.posterior
    if "centre" in post.dims:
        labels = [str(c) for c in post["centre"].values]
        counts = attrs.design.get("centre_subjects", {})
        chosen = centre or max(labels, key=lambda c: counts.get(c, 0))
        if chosen not in labels:
            raise ValueError(f"{posterior_nc_path}: no population centre {chosen!r}; the fit has {labels}")
        post = post.sel(centre=chosen)
    elif centre is not None:
        raise ValueError(f"{posterior_nc_path}: the fit has one population centre; centre={centre!r} is not used")
    draws = np.stack([np.asarray(post[var(n)]).reshape(-1) for n in names], axis=-1)
    return names, draws, base, idata


def _complete_base(base: dict, species: str, source: str) -> dict:
    """A fit's fixed parameter values, checked against today's parameter table: parameters
    added to the table after the fit take the species' nominal value (with a warning);
    parameters the table no longer has are an error."""
    unknown = sorted(set(base) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"{source}: the fit uses parameter(s) {unknown} that this version of "
                         "lactojax no longer has (`lactojax params` lists the current table)")
    missing = sorted(set(PARAMETERS) - set(base))
    if missing:
        nominal = Params.nominal(str(species))
        warnings.warn(f"{source}: parameter(s) {missing} were added to the model after this fit; "
                      f"using their nominal {species} values", stacklevel=3)
        base = {**base, **{k: float(nominal[k]) for k in missing}}
    return base


def posterior_params(posterior_nc_path: str, draws: int | None = 100, seed: int = 0):
    """Params with a leading axis of posterior draws (a random subset of `draws` of them)."""
    names, theta, base, _ = load_posterior(posterior_nc_path)
    return _draw_params(names, theta, base, draws, seed)


def _draw_index(n: int, draws: int | None, seed: int) -> np.ndarray:
    """The draws used: a random subset of `draws` of n (all of them when draws >= n)."""
    if draws is not None and draws < n:
        return np.sort(np.random.default_rng(seed).choice(n, size=draws, replace=False))
    return np.arange(n)


def _draw_params(names, theta, base: dict, draws: int | None, seed: int):
    """(Params of a random subset of `draws` rows of theta (n, k), names, that subset)."""
    theta = theta[_draw_index(theta.shape[0], draws, seed)]
    values = {**{k: np.full(theta.shape[0], v) for k, v in base.items()}, **dict(zip(names, theta.T))}
    return Params({k: jnp.asarray(v, dtype=float) for k, v in values.items()}), names, theta


def _new_study_columns(cols: dict, idata, idx, ok, seed: int) -> dict[str, np.ndarray]:
    """Draws of a new study's mean for the columns of observables with a between-study
    kappa in the fit (module doc): `<col>_new` -> (draws, days)."""
    from lactojax.observables import BY_DATA_NAME, DAILY

    out = {}
    rng = np.random.default_rng(seed + 7)
    for var in idata.posterior.data_vars:
        observable = BY_DATA_NAME.get(var.removeprefix("kappa_")) if var.startswith("kappa_") else None
        if observable is None or observable.reader != DAILY or observable.name not in cols:
            continue
        kappa = np.asarray(idata.posterior[var]).reshape(-1)[idx][ok]
        v = cols[observable.name]
        out[f"{observable.name}_new"] = v + kappa[:, None] * np.abs(v) * rng.standard_normal(v.shape)
    return out


def _columns(daily: dict, sessions: dict | None, species: str) -> dict[str, np.ndarray]:
    """Daily-table columns of a batch of draws (leading axis): the registry's
    (`daily_columns`), or for a cow or goat the dairy table's (`lactojax.dairy.tables`:
    kg/d, %, SCC), draw by draw."""
    if sessions is None:
        return daily_columns(daily)
    from lactojax.dairy.tables import dairy_columns

    n = np.shape(daily["day"])[0]
    per_draw = [dairy_columns({k: np.asarray(v)[i] for k, v in daily.items()},
                              {k: np.asarray(v)[i] for k, v in sessions.items()}, species) for i in range(n)]
    return {k: np.stack([c[k] for c in per_draw]) for k in per_draw[0] if k != "dim"}


def posterior_predictive_daily(posterior_nc_path: str, inputs: Inputs, settings: SolverSettings | None = None,
                               draws: int = 100, seed: int = 0, batch: int = 50,
                               species: str | None = None, progress: bool | None = False) -> pd.DataFrame:
    """Posterior predictive bands (median, 5%, 95%) of every daily output column for the
    scenario `inputs` (see module doc). `settings.throw` is forced to False. A cow or
    goat (species, default the fit's) gets the dairy table's columns (`dim`, kg/d, %,
    SCC) instead of the human ones. batch: draws per compiled call. progress: draw a progress line on stderr (None: when stderr is a
    terminal or LACTOJAX_PROGRESS=1, `lactojax.progress.progress_wanted`)."""
    from lactojax.dairy.tables import is_dairy
    from lactojax.progress import Progress

    settings = (settings or SolverSettings()).replace(throw=False)
    names, theta, base, idata = load_posterior(posterior_nc_path)  # the file is read once
    params, _, _ = _draw_params(names, theta, base, draws, seed)
    n = int(np.shape(params.values["storage_capacity_ml"])[0])
    fitted = FitAttrs.from_idata(idata, posterior_nc_path).species
    if species is not None and species != fitted:
        raise ValueError(f"{posterior_nc_path}: a fit of species {fitted!r}; simulating it as {species!r} would "
                         f"mix presets (use --species {fitted})")
    species = fitted
    dairy = is_dairy(str(species))

    @jax.jit
    def run(p):
        def one(pp):
            traj = simulate(pp, inputs, settings)
            sessions = obs.per_session(traj, pp, inputs) if dairy else None
            return (obs.daily(traj, pp, inputs), sessions), traj.success

        return jax.vmap(one)(p)

    chunks, oks = [], []
    batch = max(1, min(int(batch), n))

    def draws_of(i):
        sl = slice(i, min(i + batch, n))
        p = jax.tree.map(lambda x: x[sl], params)
        pad = batch - (sl.stop - sl.start)
        if pad:
            p = jax.tree.map(lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)]), p)
        return sl, p, pad

    with Progress(n, "posterior predictive", unit="draws", enabled=progress) as bar:
        bar.set(0, note="compiling the model")
        compiled = run.lower(draws_of(0)[1]).compile()  # the program `run` would compile (or the cached one)
        bar.restart_estimate()  # time left from the simulations' rate, without the compilation
        bar.set(0, note=f"simulating, {batch} draws per batch")
        for i in range(0, n, batch):
            sl, p, pad = draws_of(i)
            (d, sessions), ok = compiled(p)
            keep = slice(0, batch - pad)
            cut = lambda tree: None if tree is None else jax.tree.map(lambda x: np.asarray(x)[keep], tree)  # noqa: E731
            chunks.append(_columns(cut(d), cut(sessions), str(species)))
            oks.append(np.asarray(ok)[keep])
            bar.set(sl.stop)
    ok = np.concatenate(oks)
    cols = {k: np.concatenate([c[k] for c in chunks])[ok] for k in chunks[0]}
    n_days = next(iter(cols.values())).shape[1]
    out = {"dim" if dairy else "day": np.arange(n_days)}
    new_study = _new_study_columns(cols, idata, _draw_index(theta.shape[0], draws, seed), ok, seed)
    for k, v in cols.items():
        quantiles = [(label, q, v) for label, q in QUANTILES]
        if f"{k}_new" in new_study:
            quantiles += [("new_p05", 0.05, new_study[f"{k}_new"]), ("new_p95", 0.95, new_study[f"{k}_new"])]
        for label, q, values in quantiles:
            with np.errstate(all="ignore"):
                out[f"{k}_{label}"] = np.nanquantile(values, q, axis=0) if v.shape[0] else np.full(n_days, np.nan)
    df = pd.DataFrame(out)
    df.attrs["failed_draws"] = int(np.sum(~ok))
    df.attrs["draws"] = int(ok.size)
    return df


__all__ = ["load_posterior", "posterior_params", "posterior_predictive_daily"]
