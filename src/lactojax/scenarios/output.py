"""Scenario outputs: a long daily CSV (all arms), a metrics CSV and a comparison PNG."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from lactojax import observation as obs
from lactojax.atomic import save_figure, write_csv
from lactojax.dairy.tables import dairy_daily, is_dairy
from lactojax.scenarios.core import Panel, ScenarioResult
from lactojax.tables import daily_table

REFERENCE_STYLE = dict(color="0.35", linestyle="--", linewidth=1.4)


def daily_frame(result: ScenarioResult) -> pd.DataFrame:
    """One row per arm and day (columns of `lactojax.tables.daily_table`, plus `arm`); a cow
    or goat scenario's in dairy units (`lactojax.dairy`: dim, kg/d, %, SCC, no intake)."""
    frames = []
    for label, a in result.arms.items():
        df = daily_table(a.traj, a.params, a.inputs, species=result.scenario.species)
        df.insert(0, "arm", label)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def metrics_frame(result: ScenarioResult) -> pd.DataFrame:
    rows = []
    checked = set()
    for c, x, ok in result.checks():
        checked.add(c.metric)
        rows.append(dict(metric=c.metric, value=x, criterion=c.describe(), passed=ok,
                         known_defect=bool(c.defect), basis=c.basis))
    for k, v in result.metrics.items():
        if k not in checked:
            rows.append(dict(metric=k, value=v, criterion="", passed=None, known_defect=False, basis="(reported)"))
    return pd.DataFrame(rows)


def _series(result: ScenarioResult, label: str, panel: Panel):
    """(x in days, list of (y, suffix)) for one arm and panel."""
    a = result.arms[label]
    if panel.source == "daily":
        x = a.daily["day"].astype(float) + 0.5
        y = np.asarray(a.daily[panel.key], dtype=float)
    elif panel.source == "dairy":
        x = a.daily["day"].astype(float) + 0.5
        y = np.asarray(dairy_daily(a.daily, obs.per_session(a.traj, a.params, a.inputs))[panel.key], dtype=float)
    else:
        x = a.hourly["time_h"] / 24.0
        y = np.asarray(a.hourly[panel.key], dtype=float)
    if y.ndim == 1:
        return x, [(y, "")]
    if panel.gland == "each":
        return x, [(y[:, g], f" g{g}") for g in range(y.shape[1])]
    if panel.gland is None:  # a per-gland series without a choice: sum (volumes) per day
        return x, [(y.sum(axis=1), "")]
    return x, [(y[:, panel.gland], "")]


def figure(result: ScenarioResult):
    """Comparison figure (matplotlib): one panel per `Panel`, the normal reference dashed
    grey; x in days after delivery, or days in milk for a cow or goat scenario."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = result.scenario.panels
    ncol = 3 if len(panels) > 4 else 2
    nrow = int(np.ceil(len(panels) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.3 * ncol, 2.9 * nrow), constrained_layout=True)
    axes = np.atleast_1d(axes).ravel()
    ref_label = result.setup.reference.label
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    x_label = "days in milk" if is_dairy(result.scenario.species) else "days after delivery"
    for ax, panel in zip(axes, panels):
        labels = panel.arms or tuple(result.arms)
        k = 0
        for label in labels:
            x, ys = _series(result, label, panel)
            for y, suffix in ys:
                if panel.days is not None:
                    sel = (x >= panel.days[0]) & (x <= panel.days[1])
                    xs, yv = x[sel], y[sel]
                else:
                    xs, yv = x, y
                if label == ref_label and len(result.arms) > 1:
                    style = dict(REFERENCE_STYLE)
                    if suffix:
                        style["linestyle"] = "--" if suffix.endswith("0") else ":"
                    ax.plot(xs, yv, label=label + suffix, **style)
                else:
                    ax.plot(xs, yv, label=label + suffix, color=colours[k % len(colours)], linewidth=1.3)
                    k += 1
        if panel.log:
            ax.set_yscale("log")
        ax.set_title(panel.title, fontsize=9)
        ax.set_xlabel(x_label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes[len(panels):]:
        ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1 : len(panels)]:  # a legend with every arm/gland that appears
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6), fontsize=7, frameon=False)
    s = result.scenario
    fig.suptitle(f"{s.number}. {s.title}", fontsize=10)
    return fig


def plot(result: ScenarioResult, path: str, dpi: int = 72) -> None:
    """Write the comparison `figure` as a PNG."""
    fig = figure(result)  # selects the Agg backend
    import matplotlib.pyplot as plt

    save_figure(fig, path, dpi=dpi)
    plt.close(fig)


def write_outputs(result: ScenarioResult, out_dir: str) -> dict[str, str]:
    """Write NAME.csv (daily, all arms), NAME_metrics.csv and NAME.png into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    name = result.scenario.name
    paths = {
        "daily": os.path.join(out_dir, f"{name}.csv"),
        "metrics": os.path.join(out_dir, f"{name}_metrics.csv"),
        "figure": os.path.join(out_dir, f"{name}.png"),
    }
    write_csv(daily_frame(result), paths["daily"], index=False, float_format="%.6g")
    write_csv(metrics_frame(result), paths["metrics"], index=False, float_format="%.6g")
    plot(result, paths["figure"])
    return paths
