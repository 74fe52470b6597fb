"""Fit outputs: ArviZ InferenceData, summary table, posterior predictive plot, provenance,
and `write_fit(result, out_dir)`, which writes every output file:

- posterior.nc: InferenceData with groups posterior (model units: one variable per
  estimated parameter for a group fit; `mu_<param>`, `tau_<param>` and `<param>` with a
  `subject` dimension for a hierarchical fit), sample_stats (diverging, energy, lp,
  n_steps, tree_depth, acceptance_rate, step_size; NUTS only), observed_data (y: one
  value per data row), constant_data (scale, window, row labels), posterior_predictive
  (y: replicated data = prediction + noise at the row's scale; y_mean: the model
  prediction), log_likelihood (y: per-row log-likelihood). Attributes (`FitAttrs`, the one
  schema) carry the resolved configuration, the base parameter values, the design and the
  git revision, so `predictive.posterior_predictive_daily` can rebuild the model. Groups
  prior (draws of the same variables from the prior, `density.sample_prior`) and
  prior_predictive (y, y_mean at the first of those draws) show what the data changed.
- summary.csv: parameter, unit, mean, sd, hdi_3%, hdi_97%, r_hat, ess_bulk, ess_tail,
  prior_sd (the sd of the prior draws) and sd_ratio (sd / prior_sd: near 1, the data say
  little about the parameter; well below 1, the data inform it) (population parameters
  mu_/tau_ for a hierarchical fit).
- ppc.png: posterior predictive (median, 90% band) against each datum, by observable; for
  a herd fit (with a forecast), a sample of lactations over the whole horizon against
  their records (`plot_lactations`).
- trace.png, rank.png, pair.png, subjects.png: `az.plot_trace` and `az.plot_rank` of the
  population variables, `az.plot_pair` of the most correlated of them, and per-subject
  (group fit: per-dataset) predictive curves against the data (`inference.plots`). Every
  plot is drawn after the data files; one that fails is a warning and an entry in
  diagnostics.json `plots` (`write_plots`), not a lost fit.
- predictions.csv and lactations.csv (herd fits of cows and goats;
  `lactojax.inference.forecast`): every lactation's predictive interval of a new record
  for each day in milk, and its 305-day yield, peak yield, peak day and persistency.
- config.toml (resolved configuration), provenance.json (package versions, platform,
  devices, git revision and dirty flag, command line, wall times), diagnostics.json
  (divergences, R-hat, ESS, MAP convergence report, plots), data_rows.csv (rows used, with the
  posterior predictive median and 90% interval), excluded_rows.csv (rows not used, reason).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from importlib import metadata

import numpy as np
import pandas as pd

from lactojax.atomic import atomic_path, save_figure, write_csv, write_text

SUMMARY_COLUMNS = ["parameter", "unit", "mean", "sd", "hdi_3%", "hdi_97%", "r_hat", "ess_bulk", "ess_tail",
                   "prior_sd", "sd_ratio"]
PACKAGES = ("lactojax", "jax", "jaxlib", "diffrax", "equinox", "optimistix", "lineax", "numpyro",
            "optax", "arviz", "xarray", "h5netcdf", "numpy", "scipy", "pandas", "matplotlib")


def git_revision(cwd: str | None = None) -> dict:
    """`git rev-parse HEAD` and whether tracked files differ from it (None outside git)."""
    cwd = cwd or os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10)
        if rev.returncode == 0:
            return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        pass
    return {"revision": None, "dirty": None}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_versions() -> dict:
    return {name: _version(name) for name in PACKAGES}


def provenance(extra: dict | None = None) -> dict:
    import jax

    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": package_versions(),
            "jax_backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()], "git": git_revision(),
            "command": sys.argv, **(extra or {})}


@dataclasses.dataclass(frozen=True)
class FitAttrs:
    """The attributes a fit stores in posterior.nc (as `lactojax_<field>`, JSON for
    non-strings): what is needed to rebuild its model."""

    species: str
    estimated: tuple[str, ...]
    base_params: dict
    method: str = ""
    model: str = "group"
    design: dict = dataclasses.field(default_factory=dict)
    config: str = ""
    git_revision: str = ""

    def to_attrs(self) -> dict[str, str]:
        return {f"lactojax_{k}": v if isinstance(v, str) else json.dumps(list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_idata(cls, idata, source: str) -> "FitAttrs":
        """Read back; a file written before a field existed gets its default (species:
        human); one without the estimated names or base values is not a lactojax fit."""
        attrs = idata.posterior.attrs
        values = {"species": "human"}
        for f in dataclasses.fields(cls):
            if (raw := attrs.get(f"lactojax_{f.name}")) is not None:
                values[f.name] = raw if f.type == "str" else json.loads(raw)
            elif f.name in ("estimated", "base_params"):
                raise ValueError(f"{source}: not a lactojax fit (missing attribute 'lactojax_{f.name}')")
        values["estimated"] = tuple(values["estimated"])
        return cls(**{k: v for k, v in values.items() if v is not None})


def build_idata(data, variables: dict, terms, pred, stats=None, seed: int = 0, attrs: FitAttrs | None = None,
                y_new=None, prior: dict | None = None, prior_pred=None, extra_sd=None, prior_extra_sd=None,
                noise_sigma=None, prior_noise_sigma=None):
    """InferenceData from draws. variables: name -> (chains, draws[, subjects]) in model
    units (`density.posterior_variables`); terms, pred: (chains, draws, rows); y_new: new
    observations of the rows (default: drawn from each row's likelihood around pred,
    `density.observation_noise` of data.problem). prior: draws of the same variables from
    the prior (group prior); prior_pred: (1, draws, rows) predictions at prior draws (group
    prior_predictive: y, a new observation; y_mean, the prediction). extra_sd,
    prior_extra_sd: the rows' between-study SD at each of those draws (`density.evaluate_draws`;
    None: no discrepancy), part of a new observation's spread; noise_sigma,
    prior_noise_sigma: the rows' fitted noise scales at those draws (`density.row_sigma`;
    None: the noise model's fixed scales)."""
    import arviz as az

    rows = data.rows
    scale = rows["scale"].to_numpy(dtype=float)
    if y_new is None:
        from lactojax.inference.density import observation_noise

        # a new observation of each row, drawn from the row's own likelihood (group rows:
        # Gaussian with their SE; individual rows: the noise model, log-normal or Student-t)
        y_new = observation_noise(data.problem, pred, np.random.default_rng(seed), extra_sd, noise_sigma)
    y_rep = np.asarray(y_new, dtype=float)
    constant = {"scale": scale, **{k: rows[k].to_numpy(dtype=float) for k in ("t_start_h", "t_end_h")},
                **{k: rows[k].to_numpy(dtype=str) for k in ("dataset", "observable")}}
    dims = {"y": ["row"], "y_mean": ["row"], **{k: ["row"] for k in constant}}
    coords = {"row": np.arange(len(rows))}
    if data.subjects:  # hierarchical: subject-level parameters, centres (mu_) and level offsets (delta_)
        coords["subject"] = np.asarray(data.subjects, dtype=str)
        for k, v in variables.items():
            if np.ndim(v) == 3:
                dim = "centre" if k.startswith("mu_") else "level" if k.startswith("delta_") else "subject"
                dims[k] = [dim]
        if len(data.centres) > 1:
            coords["centre"] = np.asarray(data.centres, dtype=str)
        if data.offsets:
            coords["level"] = np.asarray(data.offsets, dtype=str)
    groups = {}
    if stats is not None:
        groups["sample_stats"] = stats
    if prior is not None:
        groups["prior"] = prior
    if prior_pred is not None:
        from lactojax.inference.density import observation_noise

        prior_pred = np.asarray(prior_pred, dtype=float)
        groups["prior_predictive"] = {"y": observation_noise(data.problem, prior_pred, np.random.default_rng(seed + 1),
                                                             prior_extra_sd, prior_noise_sigma), "y_mean": prior_pred}
    idata = az.from_dict(posterior=variables, observed_data={"y": rows["value"].to_numpy(dtype=float)},
                         constant_data=constant, posterior_predictive={"y": y_rep, "y_mean": pred},
                         log_likelihood={"y": terms}, coords=coords, dims=dims, **groups)
    for group in ("posterior", "observed_data"):
        getattr(idata, group).attrs.update(attrs.to_attrs() if attrs else {})
    return idata


def sample_stats_from_nuts(stats: dict) -> dict:
    out = {
        "diverging": stats["diverging"].astype(bool),
        "energy": stats["energy"],
        "lp": -stats["potential_energy"],
        "n_steps": stats["num_steps"],
        "tree_depth": np.floor(np.log2(np.maximum(stats["num_steps"], 1))).astype(int) + 1,
        "acceptance_rate": stats["accept_prob"],
    }
    if "step_size" in stats:
        out["step_size"] = stats["step_size"]
    return out


def summary_table(idata, names, units) -> pd.DataFrame:
    """summary.csv (module doc): az.summary of the posterior, and of the prior group when
    idata has one (prior_sd, sd_ratio; otherwise NaN)."""
    import arviz as az

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # a name with a coordinate ("mu_x[breed=Jersey]") is a row of its variable's summary
        var_names = list(dict.fromkeys(n.split("[")[0] for n in names))
        s = az.summary(idata, var_names=var_names, hdi_prob=0.94, round_to="none")
        s = s.reindex(list(names))
        if "prior" in idata.groups():  # the same variables' spread under the prior
            s["prior_sd"] = az.summary(idata, group="prior", var_names=var_names, kind="stats",
                                       round_to="none")["sd"].reindex(list(names))
    if "prior_sd" in s:
        s["sd_ratio"] = s["sd"] / s["prior_sd"]
    df = pd.DataFrame({"parameter": list(names), "unit": list(units),
                       **{c: s[c].to_numpy() if c in s else np.nan for c in SUMMARY_COLUMNS[2:]}})
    return df[SUMMARY_COLUMNS]


def rows_with_predictions(data, pred, y_new=None) -> pd.DataFrame:
    """Each datum with its posterior predictive: pred_median (median of the model's mean),
    pred_p05 / pred_p95 (5-95 % of a new observation of the row, `y_new`: observation noise
    drawn from the row's likelihood; without y_new, of the mean), mean_p05 / mean_p95 (5-95 %
    of the model's mean: parameter uncertainty only) and inside_90 (the value lies inside
    [pred_p05, pred_p95])."""
    flat = pred.reshape(-1, pred.shape[-1])
    new = flat if y_new is None else np.asarray(y_new).reshape(-1, pred.shape[-1])
    df = data.rows[["dataset", "observable", "t_start_h", "t_end_h", "value", "scale",
                       "kind_name", "spread_method"]].copy()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # a row whose every draw failed has no percentiles
        df["pred_median"] = np.nanmedian(flat, axis=0)
        df["pred_p05"] = np.nanpercentile(new, 5, axis=0)
        df["pred_p95"] = np.nanpercentile(new, 95, axis=0)
        df["mean_p05"] = np.nanpercentile(flat, 5, axis=0)
        df["mean_p95"] = np.nanpercentile(flat, 95, axis=0)
    df["inside_90"] = (df["value"] >= df["pred_p05"]) & (df["value"] <= df["pred_p95"])
    return df


def predictive_check(rows: pd.DataFrame) -> dict:
    """How many data rows lie inside their 90 % interval for a new observation (a fit is
    judged by whether it fits its rows, not only by R-hat), overall and per observable."""
    inside = rows["inside_90"].to_numpy(dtype=bool)
    per = rows.assign(inside=inside).groupby("observable")["inside"].agg(["sum", "size"])
    return {"rows": int(inside.size), "inside_90": int(inside.sum()),
            "share_inside_90": float(inside.mean()) if inside.size else float("nan"),
            "interval": "5-95 % of a new observation (posterior_predictive y: each row's likelihood)",
            "by_observable": {o: {"rows": int(r["size"]), "inside_90": int(r["sum"])} for o, r in per.iterrows()}}


def plot_ppc(data, pred, path, title: str = "") -> None:
    """One panel per observable: each datum (+-1.96 SE) and the posterior predictive of the
    model's mean (median, 5-95%) at the window's midpoint (days; event times by name)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = rows_with_predictions(data, pred)
    observables = list(dict.fromkeys(df["observable"]))
    events = [o for o in observables if df.loc[df["observable"] == o, "kind_name"].iloc[0] == "event_time"]
    panels = [o for o in observables if o not in events] + (["event times"] if events else [])
    n = len(panels)
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.3 * nrow), squeeze=False,
                             constrained_layout=True)
    for ax, panel in zip(axes.flat, panels):
        events_panel = panel == "event times"
        sub = df[df["observable"].isin(events if events_panel else [panel])]
        # event times: one slot per row; else the window's midpoint (days)
        x = np.arange(len(sub)) if events_panel else 0.5 * (sub["t_start_h"] + sub["t_end_h"]) / 24.0
        dx_data, dx_model = (-0.1, 0.1) if events_panel else (0.0, 0.15)
        ax.errorbar(x + dx_data, sub["value"], yerr=1.96 * sub["scale"], fmt="o", color="k",
                    label="data (95% CI of mean)")
        ax.errorbar(x + dx_model, sub["pred_median"],
                    yerr=[sub["pred_median"] - sub["pred_p05"], sub["pred_p95"] - sub["pred_median"]],
                    fmt="s", color="C0", label="posterior predictive (5-95%)")
        if events_panel:
            ax.set_xticks(x, [f"{o}\n({d})" for o, d in zip(sub["observable"], sub["dataset"])],
                          rotation=60, ha="right", fontsize=7)
            ax.set_ylabel("h after delivery")
        else:
            spans = sub[sub["t_end_h"] > sub["t_start_h"]]
            ax.hlines(spans["value"], spans["t_start_h"] / 24.0, spans["t_end_h"] / 24.0, color="0.6", lw=1)
            ax.set_xlabel("day after delivery")
        ax.set_title(panel, fontsize=9)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def _daily_rate(rows: pd.DataFrame) -> pd.Series:
    """Values for a per-day plot: a per-milking yield as kg/day over its window."""
    per_milking = rows["observable"] == "milk_yield_per_milking"
    span = (rows["t_end_h"] - rows["t_start_h"]).where(lambda s: s > 0, 24.0)
    return rows["value"].where(~per_milking, rows["value"] * 24.0 / span)


def plot_lactations(data, forecast, path, max_lactations: int = 6, title: str = "") -> None:
    """Posterior predictive of a sample of lactations against their records (herd fits):
    one row per lactation (the first of each population centre, then the next in the
    data), one column per forecast observable; records fitted (filled) and held out
    (open: after until_day), a per-milking yield drawn as kg/day over its window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lactojax.inference.forecast import FORECAST_OBSERVABLES

    subjects = list(data.subjects)
    centre = np.asarray(data.problem.centre_of)
    first = [subjects[int(np.argmax(centre == c))] for c in range(int(centre.max()) + 1)]
    chosen = list(dict.fromkeys(first + subjects))[:max_lactations]
    fitted = data.rows.assign(held_out=False)
    held = data.excluded[data.excluded["reason"].astype(str).str.startswith("held out")]
    records = pd.concat([fitted, held.assign(held_out=True)], ignore_index=True)
    records = records.assign(day=0.5 * (records["t_start_h"] + records["t_end_h"]) / 24.0,
                             observable=records["observable"].replace({"milk_yield_per_milking": "milk_yield_daily"}),
                             plot_value=_daily_rate(records))
    pred = forecast.predictions
    fig, axes = plt.subplots(len(chosen), len(FORECAST_OBSERVABLES), squeeze=False, constrained_layout=True,
                             figsize=(3.4 * len(FORECAST_OBSERVABLES), 2.4 * len(chosen)))
    for r, subject in enumerate(chosen):
        for c, (obs_name, unit) in enumerate(FORECAST_OBSERVABLES):
            ax = axes[r, c]
            band = pred[(pred["subject"] == subject) & (pred["observable"] == obs_name)]
            ax.fill_between(band["day"], band["p05"], band["p95"], color="C0", alpha=0.25, lw=0)
            ax.plot(band["day"], band["median"], color="C0", lw=1)
            rec = records[(records["subject"] == subject) & (records["observable"] == obs_name)]
            for held_out, style in ((False, dict(color="k")), (True, dict(facecolors="none", edgecolors="C3"))):
                part = rec[rec["held_out"] == held_out]
                ax.scatter(part["day"], part["plot_value"], s=4, lw=0.5, **style)
            if obs_name == "somatic_cell_count":
                ax.set_yscale("log")
            if r == 0:
                ax.set_title(f"{obs_name} ({unit})", fontsize=8)
            if c == 0:
                ax.set_ylabel(subject, fontsize=7)
            if r == len(chosen) - 1:
                ax.set_xlabel("days in milk", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(title or f"{data.label}: predictive 5-95 % of a new record (band), records fitted (black) "
                 "and held out (red)", fontsize=9)
    save_figure(fig, path, dpi=100)
    plt.close(fig)


def write_json(path, obj) -> None:
    def default(o):  # numpy scalars and arrays as Python values; anything else as text
        return o.tolist() if isinstance(o, (np.generic, np.ndarray)) else str(o)

    write_text(path, json.dumps(obj, indent=2, default=default) + "\n")


def _draw_plot(name: str, draw, record: dict) -> None:
    """Call `draw()` (which writes the plot `name` and returns a note or None) and record
    the outcome in `record` (diagnostics.json `plots`). A failure is a warning and an
    entry in record["failed"], not an exception: the fit's other outputs still get written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    t0 = time.perf_counter()
    try:
        note = draw()
    except Exception as err:  # noqa: BLE001  (any plotting error: record it, keep the fit)
        for num in set(plt.get_fignums()) - before:  # the failed plot's figures, not the caller's
            plt.close(num)
        reason = f"{type(err).__name__}: {err}"
        record["failed"][name] = reason
        warnings.warn(f"write_fit: {name} not written ({reason})", RuntimeWarning, stacklevel=3)
    else:
        record["written"].append(name)
        if note:
            record["notes"][name] = note
    record["seconds"][name] = round(time.perf_counter() - t0, 3)


def write_plots(result, out_dir) -> dict:
    """Draw every plot of a fit into out_dir: ppc.png (or the herd's lactations),
    trace.png, rank.png, pair.png, subjects.png and loo_pit.png (`inference.plots`). Returns the
    diagnostics.json `plots` entry: written (file names), failed (file -> reason), notes
    (file -> what was left out or could not be drawn) and seconds (file -> wall time)."""
    from lactojax.inference import plots

    data, idata = result.data, result.idata
    record = {"written": [], "failed": {}, "notes": {}, "seconds": {}}
    label = f"{data.label}: {result.method}"
    forecast = getattr(result, "forecast", None)

    def path(name):
        return os.path.join(out_dir, name)

    if forecast is not None:  # a herd: every lactation over the whole horizon
        _draw_plot("ppc.png", lambda: plot_lactations(data, forecast, path("ppc.png")), record)
    else:
        pred = np.asarray(idata.posterior_predictive["y_mean"])
        _draw_plot("ppc.png", lambda: plot_ppc(data, pred, path("ppc.png"),
                                               title=f"{label}, posterior predictive vs data"), record)
    _draw_plot("trace.png", lambda: plots.plot_trace(idata, path("trace.png"), title=label), record)
    _draw_plot("rank.png", lambda: plots.plot_rank(idata, path("rank.png"), title=label), record)
    _draw_plot("pair.png", lambda: plots.plot_pair(idata, path("pair.png"), title=label), record)
    _draw_plot("subjects.png", lambda: plots.plot_subjects(data.rows, idata, path("subjects.png"), title=label,
                                                           species=data.species),
               record)
    _draw_plot("loo_pit.png", lambda: plots.plot_loo_pit(idata, path("loo_pit.png"), title=label), record)
    return record


def write_fit(result, out_dir) -> dict:
    """Write every output file of a `runner.FitResult` into out_dir (module doc). The data
    files come first and the plots last: a plot that fails is recorded in
    diagnostics.json (`plots`) with a warning, and the other files are still written.
    Returns that `plots` record (`write_plots`)."""
    os.makedirs(out_dir, exist_ok=True)
    data, idata = result.data, result.idata
    path_nc = os.path.join(out_dir, "posterior.nc")
    with atomic_path(path_nc) as tmp:
        idata.to_netcdf(str(tmp))
    write_csv(result.summary, os.path.join(out_dir, "summary.csv"), index=False, float_format="%.6g")
    pred = np.asarray(idata.posterior_predictive["y_mean"])
    forecast = getattr(result, "forecast", None)
    if forecast is not None:
        write_csv(forecast.predictions, os.path.join(out_dir, "predictions.csv"), index=False, float_format="%.6g")
        write_csv(forecast.lactations, os.path.join(out_dir, "lactations.csv"), index=False, float_format="%.6g")
    rows = getattr(result, "rows", None)  # the fit's table (runner.fit), else made here
    if rows is None:
        rows = rows_with_predictions(data, pred, np.asarray(idata.posterior_predictive["y"]))
    write_csv(rows, os.path.join(out_dir, "data_rows.csv"), index=False, float_format="%.6g")
    write_csv(data.excluded, os.path.join(out_dir, "excluded_rows.csv"), index=False)
    problem = getattr(data, "problem", None)  # a FitData (tests may hand in bare tables)
    if problem is not None and problem.model == "group" and len(problem.names):  # which data inform which parameter
        import jax.numpy as jnp

        from lactojax.inference.identifiability import identifiability_table

        prior = problem.prior
        table = identifiability_table(idata, result.summary, list(problem.names),
                                      lambda theta: prior.theta_to_z(jnp.asarray(theta)))
        write_csv(table, os.path.join(out_dir, "identifiability.csv"), index=False, float_format="%.4g")
    write_text(os.path.join(out_dir, "config.toml"), result.config_toml)
    t0 = time.perf_counter()
    plots = write_plots(result, out_dir)
    # the result stays as it was: the plots' record and time go to the files only
    timings = {**result.diagnostics.get("timings", {}), "plots_s": time.perf_counter() - t0}
    diagnostics = {**result.diagnostics, "plots": plots, "timings": timings}
    write_json(os.path.join(out_dir, "diagnostics.json"), diagnostics)
    # the files fitted, with their checksums (the user's own data carry no PROVENANCE.md)
    write_json(os.path.join(out_dir, "provenance.json"),
               provenance({"timings": timings, "data_files": data.design.get("data_files", [])}))
    return plots


__all__ = ["FitAttrs", "SUMMARY_COLUMNS", "build_idata", "git_revision", "package_versions", "plot_lactations", "plot_ppc", "provenance",
           "predictive_check", "rows_with_predictions", "sample_stats_from_nuts", "summary_table", "write_fit", "write_json",
           "write_plots"]
