"""Diagnostic plots of a fit, drawn by `outputs.write_fit` beside ppc.png:

- trace.png: `az.plot_trace` of the population variables (`population_draws`);
- rank.png: `az.plot_rank` of the same variables (rank histograms per chain);
- pair.png: `az.plot_pair` of the most correlated of them (`most_correlated`), with
  divergent draws marked when the fit has sample_stats;
- subjects.png: per-subject (a group fit: per-dataset) predictive curves against the data
  (`plot_subjects`).

Every function reads an `arviz.InferenceData` as `build_idata` writes it (posterior.nc),
draws at most a fixed number of variables or panels (a herd fit has dozens of subjects and
parameters) and returns a note on what it left out or could not do (None: nothing), so that
`write_fit` can record it. Degenerate posteriors (one chain, identical draws: MAP without a
Hessian) are drawn as far as they can be, never raised on where a plain fallback exists.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from lactojax.atomic import save_figure

MAX_VARIABLES = 12  # rows of trace.png and rank.png
MAX_PANELS = 12  # panels of subjects.png


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def population_draws(idata) -> dict[str, np.ndarray]:
    """(chains, draws) draws of each variable the diagnostic plots show: every posterior
    variable without a `subject` dimension (a group fit: the estimated parameters; a
    hierarchical fit: `mu_*`, `tau_*`, `delta_*`), one entry per coordinate of a variable
    with one (`mu_x[breed=Jersey]`, arviz's label, as in summary.csv); a hierarchical fit's
    grouped by parameter (`_by_parameter`)."""
    out = {}
    post = idata.posterior
    for name, var in _by_parameter(post):
        extra = [d for d in var.dims if d not in ("chain", "draw")]
        if "subject" in extra:
            continue
        values = np.asarray(var.transpose("chain", "draw", *extra).values, dtype=float)
        if not extra:
            out[str(name)] = values
            continue
        flat = values.reshape(values.shape[0], values.shape[1], -1)
        coords = pd.MultiIndex.from_product([post[d].values for d in extra]) if len(extra) > 1 \
            else post[extra[0]].values
        for i, c in enumerate(coords):
            label = ",".join(map(str, c)) if isinstance(c, tuple) else str(c)
            out[f"{name}[{label}]"] = flat[..., i]
    return out


def _by_parameter(post):
    """The posterior's variables, those of a hierarchical fit grouped by parameter (mu_x,
    tau_x, delta_x, then mu_y, ...; build_idata stores every mu_ first): a plot that shows
    only the first few then shows whole parameters, spreads included."""
    items = list(post.data_vars.items())
    if not any("subject" in v.dims for _, v in items):
        return items
    prefixes = ("mu_", "tau_", "delta_")
    params = [str(n) for n, v in items if "subject" in v.dims]

    def key(item):
        name = str(item[0])
        for rank, prefix in enumerate(prefixes):
            if name.startswith(prefix) and name[len(prefix):] in params:
                return params.index(name[len(prefix):]), rank
        return len(params), 0  # anything else last, in its order (a stable sort)

    return sorted(items, key=key)


def _plot_scale(x: np.ndarray) -> np.ndarray:
    """Log of draws that are all positive (the scale of a lognormal prior and of tau),
    else the draws themselves (the same object)."""
    finite = x[np.isfinite(x)]
    if finite.size and np.all(finite > 0):
        with np.errstate(all="ignore"):
            return np.log(x)
    return x


def most_correlated(draws: dict[str, np.ndarray], k: int = 4) -> list[str]:
    """Up to k names of `draws` (name -> draws of any shape, pooled over chains) chosen for
    a pair plot: first the pair with the largest |Pearson correlation|, then, one at a
    time, the name most correlated (largest |r| with any chosen name) with those chosen.

    Correlations are computed on the log of a variable whose draws are all positive (most
    parameters have lognormal priors, u = log theta, and tau is a positive spread: their
    posteriors are far closer to Gaussian, and their dependence closer to linear, on the
    log scale, which is what a Pearson correlation measures), else on the draws as they
    are (normal priors, offsets). Draws with a non-finite value in any variable are left
    out; a variable without spread (identical draws) has correlation 0 with every other.
    Ties keep the order of `draws`. One name gives [that name]; none gives []."""
    names = list(draws)
    if len(names) <= 1 or k <= 1:
        return names[:max(0, min(k, len(names)))]
    x = np.stack([_plot_scale(np.asarray(draws[n], dtype=float).reshape(-1)) for n in names], axis=1)
    x = x[np.all(np.isfinite(x), axis=1)]
    corr = np.zeros((len(names), len(names)))
    if len(x) >= 2:
        sd = x.std(axis=0)
        live = sd > 1e-12 * np.maximum(1.0, np.abs(x).max(axis=0))
        if live.sum() >= 2:
            with np.errstate(all="ignore"):
                c = np.corrcoef(x[:, live], rowvar=False)
            corr[np.ix_(live, live)] = np.nan_to_num(np.abs(c))
    np.fill_diagonal(corr, -1.0)
    i, j = np.unravel_index(np.argmax(corr), corr.shape)  # first maximum: ties keep the order
    chosen = sorted([int(i), int(j)])
    while len(chosen) < min(k, len(names)):
        rest = [m for m in range(len(names)) if m not in chosen]
        chosen.append(max(rest, key=lambda m: (corr[m, chosen].max(), -m)))
    return [names[m] for m in chosen]


def _flat_idata(idata, names: list[str], draws: dict[str, np.ndarray]):
    """An InferenceData of the named (chains, draws) variables, with the divergences of
    the fit's sample_stats when it has them."""
    import arviz as az

    stats = {}
    if hasattr(idata, "sample_stats") and "diverging" in idata.sample_stats:
        stats["diverging"] = np.asarray(idata.sample_stats["diverging"].values, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz warns that one chain is too few
        return az.from_dict(posterior={n: draws[n] for n in names}, **({"sample_stats": stats} if stats else {}))


def _constant(x: np.ndarray) -> bool:
    finite = x[np.isfinite(x)]
    return finite.size == 0 or np.ptp(finite) <= 1e-12 * max(1.0, float(np.abs(finite).max()))


def _shown(names: list[str], limit: int, what: str) -> tuple[list[str], str | None]:
    if len(names) <= limit:
        return names, None
    return names[:limit], f"first {limit} of {len(names)} {what} shown"


def plot_trace(idata, path, title: str = "") -> str | None:
    """trace.png: `az.plot_trace` (marginal density and trace per chain) of the population
    variables, at most MAX_VARIABLES of them. A variable without spread (MAP without a
    Hessian) has no density: its traces are drawn alone."""
    import arviz as az

    plt = _pyplot()
    draws = population_draws(idata)
    names, note = _shown(list(draws), MAX_VARIABLES, "variables")
    if not names:
        raise ValueError("the posterior has no population variables")
    flat = _flat_idata(idata, names, draws)
    constant = [n for n in names if _constant(draws[n])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if constant:  # a KDE of identical draws is undefined: trace lines only
            fig, axes = plt.subplots(len(names), 1, figsize=(8, 1.8 * len(names) + 0.6), squeeze=False,
                                     constrained_layout=True)
            for ax, n in zip(axes[:, 0], names):
                for c, line in enumerate(draws[n]):
                    ax.plot(line, lw=0.8, marker="o" if line.size < 5 else None, label=f"chain {c}")
                ax.set_title(n, fontsize=9)
            axes[-1, 0].set_xlabel("draw")
            extra = f"{len(constant)} variable(s) without spread: traces only, no density"
            note = "; ".join(filter(None, [note, extra]))
        else:
            axes = az.plot_trace(flat, var_names=names, compact=False, figsize=(10, 2.1 * len(names) + 0.6),
                                 backend_kwargs={"constrained_layout": True})
            fig = np.ravel(axes)[0].figure
    fig.suptitle(title + (f" ({note})" if note else ""), fontsize=9)
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    return note


def plot_rank(idata, path, title: str = "") -> str | None:
    """rank.png: `az.plot_rank` of the population variables (rank histogram of each
    chain's draws among all draws: near-uniform bars when the chains agree). With one
    chain (MAP Laplace draws, SVI) the bars say nothing about mixing; the figure says so."""
    import arviz as az

    plt = _pyplot()
    draws = population_draws(idata)
    names, note = _shown(list(draws), MAX_VARIABLES, "variables")
    if not names:
        raise ValueError("the posterior has no population variables")
    chains = next(iter(draws.values())).shape[0]
    if chains < 2:
        note = "; ".join(filter(None, [note, "one chain: ranks cannot compare chains"]))
    flat = _flat_idata(idata, names, draws)
    ncol = min(4, len(names))
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow + 0.5), squeeze=False,
                             constrained_layout=True)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        az.plot_rank(flat, var_names=names, kind="bars", ax=axes.flat[:len(names)])
    for ax in axes.flat[:len(names)]:  # arviz sizes its labels for a larger figure
        ax.title.set_fontsize(9)
        ax.xaxis.label.set_fontsize(8)
        ax.yaxis.label.set_fontsize(8)
    fig.suptitle(title + (f" ({note})" if note else ""), fontsize=9)
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    return note


def plot_pair(idata, path, k: int = 4, title: str = "") -> str | None:
    """pair.png: `az.plot_pair` (scatter, marginals) of the `most_correlated` k population
    variables, on the scale their correlation was measured on (`log(name)` for a variable
    whose draws are all positive), divergent draws marked when sample_stats has them. One
    variable: its marginal (`az.plot_dist`); variables without spread get no density."""
    import arviz as az

    plt = _pyplot()
    draws = population_draws(idata)
    chosen = most_correlated(draws, k=k)
    if not chosen:
        raise ValueError("the posterior has no population variables")
    scaled = {}
    for n in chosen:
        x = _plot_scale(draws[n])
        scaled[n if x is draws[n] else f"log({n})"] = x
    names = list(scaled)
    flat = _flat_idata(idata, names, scaled)
    divergences = hasattr(flat, "sample_stats") and bool(np.any(flat.sample_stats["diverging"].values))
    note = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(names) == 1:
            note = "one variable: its marginal"
            fig, ax = plt.subplots(figsize=(4.5, 3.2), constrained_layout=True)
            x = scaled[names[0]].reshape(-1)
            if _constant(x):
                ax.axvline(np.nanmean(x), color="C0")
            else:
                az.plot_dist(x, ax=ax)
            ax.set_xlabel(names[0])
        else:
            marginals = not any(_constant(scaled[n]) for n in names)
            if not marginals:
                note = "variables without spread: no marginal densities"
            axes = az.plot_pair(flat, var_names=names, kind="scatter", marginals=marginals,
                                divergences=divergences, scatter_kwargs={"alpha": 0.5, "s": 8, "marker": "o"},
                                figsize=(2.6 * len(names) + 1, 2.6 * len(names) + 1), textsize=8)
            fig = np.ravel(axes)[0].figure
    fig.suptitle((title + ": " if title else "") + "most correlated population variables"
                 + (", divergences marked" if divergences else ""), fontsize=9)
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    return note


def _panels(rows: pd.DataFrame, max_panels: int) -> tuple[list[tuple], str]:
    """(key, label) of the panels of `plot_subjects`: (subject, observable) for rows with a
    subject, else (dataset, observable); the subjects (datasets) with most rows first."""
    unit = "subject" if "subject" in rows and rows["subject"].notna().all() else "dataset"
    groups = rows.groupby(unit, sort=False)["observable"]
    counts = groups.size().sort_values(ascending=False, kind="stable")
    observables = groups.unique()  # each unit's observables in data order; one pass over the rows
    keys = [(u, o) for u in counts.index for o in observables[u]]
    return keys, unit




def plot_subjects(rows: pd.DataFrame, idata, path, title: str = "", max_panels: int = MAX_PANELS,
                  species: str = "human") -> str | None:
    """subjects.png: one panel per (subject, observable) (a fit without subjects: per
    (dataset, observable); rows naming a gland, e.g. per-breast test weighings, a panel per
    gland), at most max_panels, the subjects with most rows first: the data
    (error bars: their scale), the posterior predictive median and 5-95 % band of a new
    observation (posterior_predictive y) and of the model mean (y_mean), at the window's
    midpoint in days. Event-time rows (no time axis) are left to ppc.png.
    `rows`: the fit's data rows in posterior row order (`FitData.rows`)."""
    plt = _pyplot()
    mid_h = 0.5 * (rows["t_start_h"].to_numpy() + rows["t_end_h"].to_numpy())
    df = rows.reset_index(drop=True).assign(day=mid_h / 24.0)
    if "gland" in df and (df["gland"].fillna(-1).astype(int) >= 0).any():  # one series per gland
        from lactojax.datasets.user import SPECIES_GLANDS  # "" (all glands) first, then gland 0, 1, ...

        names = SPECIES_GLANDS.get(species, ("",))[1:]
        label = lambda g: "" if g < 0 else f" [{names[g] if g < len(names) else f'gland {g}'}]"  # noqa: E731
        df["observable"] = df["observable"] + df["gland"].fillna(-1).astype(int).map(label)
    notes = []
    if "kind_name" in df:
        events = df["kind_name"] == "event_time"
        if events.any():
            notes.append(f"{int(events.sum())} event-time rows in ppc.png only")
        df = df[~events]
    if df.empty:
        raise ValueError("no rows with a time axis to draw")
    keys, unit = _panels(df, max_panels)
    units_all = df[unit].nunique()
    shown = keys[:max_panels]
    units_shown = len(dict.fromkeys(u for u, _ in shown))
    head = f"{len(shown)} of {len(keys)} panels ({units_shown} of {units_all} {unit}s" + \
        (", most rows first)" if len(shown) < len(keys) else ")")
    # percentiles of the rows drawn only: a herd has 1e5 rows x 1e3 draws
    df = df[pd.MultiIndex.from_frame(df[[unit, "observable"]]).isin(shown)]
    pp = idata.posterior_predictive
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # all-NaN rows (failed predictions) have no percentiles
        for label, var in (("new", "y"), ("mean", "y_mean")):
            y = np.asarray(pp[var].isel(row=df.index.to_numpy()).values, dtype=float).reshape(-1, len(df))
            q = np.nanpercentile(y, [5, 50, 95], axis=0)
            df = df.assign(**{f"{label}_p05": q[0], f"{label}_p50": q[1], f"{label}_p95": q[2]})
    ncol = min(4, len(shown))
    nrow = int(np.ceil(len(shown) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.0 * ncol, 2.9 * nrow + 0.5), squeeze=False,
                             constrained_layout=True)
    for ax, (u, obs_name) in zip(axes.flat, shown):
        sub = df[(df[unit] == u) & (df["observable"] == obs_name)].sort_values("day", kind="stable")
        x = sub["day"].to_numpy()
        if len(np.unique(x)) > 1:
            ax.fill_between(x, sub["new_p05"], sub["new_p95"], color="C0", alpha=0.18, lw=0,
                            label="new observation 5-95%")
            ax.fill_between(x, sub["mean_p05"], sub["mean_p95"], color="C0", alpha=0.4, lw=0,
                            label="model mean 5-95%")
        else:  # one time point: a band has no width, draw the intervals as bars
            ax.vlines(x, sub["new_p05"], sub["new_p95"], color="C0", alpha=0.18, lw=10,
                      label="new observation 5-95%")
            ax.vlines(x, sub["mean_p05"], sub["mean_p95"], color="C0", alpha=0.4, lw=5,
                      label="model mean 5-95%")
        ax.plot(x, sub["mean_p50"], color="C0", lw=1.2, marker="." if len(sub) < 3 else None,
                label="model mean median")
        ax.errorbar(x, sub["value"], yerr=sub["scale"], fmt="o", ms=3, color="k", lw=0.8,
                    label="data (+-1 scale)")
        if obs_name == "somatic_cell_count" and np.all(sub["value"] > 0):  # spans decades, as in ppc.png
            ax.set_yscale("log")
        ax.set_title(f"{u}: {obs_name}", fontsize=8)
        ax.set_xlabel("day (window midpoint)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(shown):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower right", fontsize=7)
    fig.suptitle((title + ": " if title else "") + head, fontsize=9)
    save_figure(fig, path, dpi=90)
    plt.close(fig)
    if len(shown) < len(keys):
        notes.append(head)
    return "; ".join(notes) or None


__all__ = ["MAX_PANELS", "MAX_VARIABLES", "most_correlated", "plot_pair", "plot_rank", "plot_subjects",
           "plot_trace", "population_draws"]


MAX_LOO_PIT_ROWS = 20_000  # PSIS smooths a tail per row: a whole herd's rows would take minutes


def plot_loo_pit(idata, path, title: str = "", max_rows: int = MAX_LOO_PIT_ROWS) -> str | None:
    """loo_pit.png: `az.plot_loo_pit` (ECDF difference) of the rows' new-observation draws
    (posterior_predictive y) against the data, weighted by PSIS-LOO (log_likelihood y): a
    calibrated fit's leave-one-out PIT values are uniform, inside the band. With more than
    `max_rows` rows or a single draw the figure says why it is empty (and so does the note)."""
    import arviz as az

    plt = _pyplot()
    n = int(idata.observed_data["y"].shape[0])
    n_draws = int(np.prod(idata.posterior_predictive["y"].shape[:2]))
    note = (f"not drawn: {n} rows (> {max_rows}; PSIS per row)" if n > max_rows else
            "not drawn: a single posterior draw (PSIS needs several)" if n_draws < 2 else
            "not drawn: fewer than two rows" if n < 2 else None)
    fig, ax = plt.subplots(figsize=(5.0, 3.6), constrained_layout=True)
    if note:
        ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=9, wrap=True)
        ax.axis("off")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pareto k warnings: az.loo in the notebook reports them
            az.plot_loo_pit(idata, y="y", ecdf=True, ax=ax)
    ax.set_title((title + ": " if title else "") + f"LOO-PIT of {n} rows (ECDF - uniform, 94 % band)", fontsize=9)
    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return note
