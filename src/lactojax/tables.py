"""Tidy daily output tables (pandas) and their standard plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lactojax import observation as obs
from lactojax.observables import daily_columns
from lactojax.inputs import Inputs
from lactojax.parameters import Params
from lactojax.simulate import Trajectory


def daily_table(traj: Trajectory, params: Params, inputs: Inputs) -> pd.DataFrame:
    """One row per whole day after delivery: the registry's table columns
    (`lactojax.observables`), per-gland ones suffixed `_gland_<i>` (production_gland_<i>_ml,
    fullness_max_gland_<i>, sodium_gland_<i>_mmol_l)."""
    d = obs.daily(traj, params, inputs)
    df = pd.DataFrame({"day": np.asarray(d["day"]).astype(int), **daily_columns(d)})
    return df


PLOT_PANELS = (
    ("milk_intake_ml", "24-h milk intake (mL)"),
    ("milk_sodium_mmol_l", "milk sodium (mmol/L)"),
    ("milk_lactose_g_l", "milk lactose (g/L)"),
    ("milk_protein_g_l", "milk protein (g/L)"),
    ("milk_fat_g_l", "milk fat (g/L)"),
    ("prolactin_basal_ng_ml", "basal prolactin (ng/mL)"),
    ("production_gland", "production per gland (mL/day)"),
)


def plot_daily(frames: dict[str, pd.DataFrame], path, title: str = "", bands: dict | None = None) -> None:
    """Plot the standard panels for one or more labelled daily tables. `bands[label]` may
    hold (lower_df, upper_df) for shaded predictive intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(15, 6.5), constrained_layout=True)
    for ax, (col, label) in zip(axes.flat, PLOT_PANELS):
        for name, df in frames.items():
            if col == "production_gland":
                for c in [c for c in df.columns if c.startswith("production_gland_")]:
                    ax.plot(df["day"], df[c], label=f"{name}: gland {c.split('_')[2]}")
            else:
                line = ax.plot(df["day"], df[col], label=name)[0]
                if bands and name in bands:
                    lo, hi = bands[name]
                    ax.fill_between(df["day"], lo[col], hi[col], color=line.get_color(), alpha=0.25)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("day after delivery")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    axes.flat[-2].legend(fontsize=7)
    axes.flat[-1].axis("off")
    if title:
        fig.suptitle(title)
    fig.savefig(path, dpi=90)
    plt.close(fig)
