"""Tidy daily output tables (pandas) and their standard plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lactojax import observation as obs
from lactojax.atomic import save_figure
from lactojax.dairy.tables import dairy_columns, is_dairy, udder_part
from lactojax.observables import daily_columns
from lactojax.inputs import Inputs
from lactojax.parameters import Params
from lactojax.simulate import Trajectory


def daily_table(traj: Trajectory, params: Params, inputs: Inputs, species: str = "human") -> pd.DataFrame:
    """One row per whole day after delivery.

    species "human" (default): the registry's table columns (`lactojax.observables`),
    per-gland ones suffixed `_gland_<i>` (production_gland_<i>_ml, fullness_max_gland_<i>,
    sodium_gland_<i>_mmol_l). species "cow" / "goat": dairy units (`lactojax.dairy.tables`): dim,
    yield in kg/d per animal and per quarter (half), fat / protein / lactose in %, SCC in
    1e3 cells/mL, no infant intake."""
    d = obs.daily(traj, params, inputs)
    if is_dairy(species):
        return pd.DataFrame(dairy_columns(d, obs.per_session(traj, params, inputs), species))
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
PER_GLAND_PANEL = "production_gland"  # the panel drawing one line per gland


def dairy_plot_panels(species: str = "cow") -> tuple[tuple[str, str], ...]:
    """The panels of a cow's or goat's plot (columns of the dairy table); the last one
    draws one line per quarter (half)."""
    part = udder_part(species)
    return (
        ("yield_kg_per_day", "milk yield (kg/day)"),
        ("fat_pct", "fat (%)"),
        ("protein_pct", "protein (%)"),
        ("lactose_pct", "lactose (%)"),
        ("scc_k_per_ml", "SCC (1e3 cells/mL)"),
        ("milk_sodium_mmol_l", "milk sodium (mmol/L)"),
        (PER_GLAND_PANEL, f"yield per {part} (kg/day)"),
    )


def _gland_columns(df: pd.DataFrame, species: str) -> list[tuple[str, str]]:
    """(column, gland index) of the per-gland series the per-gland panel draws."""
    if is_dairy(species):
        prefix, suffix = f"yield_{udder_part(species)}_", "_kg_per_day"
        return [(c, c[len(prefix): -len(suffix)]) for c in df.columns
                if c.startswith(prefix) and c.endswith(suffix)]
    return [(c, c.split("_")[2]) for c in df.columns if c.startswith("production_gland_")]


def daily_figure(frames: dict[str, pd.DataFrame], title: str = "", bands: dict | None = None,
                 species: str = "human"):
    """The standard panels for one or more labelled daily tables (a matplotlib Figure).
    `bands[label]` may hold (lower_df, upper_df) for shaded predictive intervals. A cow's or
    goat's tables (`daily_table(..., species=...)`) get the dairy panels against days in milk."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dairy = is_dairy(species)
    panels = dairy_plot_panels(species) if dairy else PLOT_PANELS
    x_col, x_label = ("dim", "days in milk") if dairy else ("day", "day after delivery")
    gland_word = udder_part(species)
    fig, axes = plt.subplots(2, 4, figsize=(15, 6.5), constrained_layout=True)
    for ax, (col, label) in zip(axes.flat, panels):
        for name, df in frames.items():
            if col == PER_GLAND_PANEL:
                for c, i in _gland_columns(df, species):
                    ax.plot(df[x_col], df[c], label=f"{name}: {gland_word} {i}")
            else:
                line = ax.plot(df[x_col], df[col], label=name)[0]
                if bands and name in bands:
                    lo, hi = bands[name]
                    ax.fill_between(df[x_col], lo[col], hi[col], color=line.get_color(), alpha=0.25)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(x_label)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    axes.flat[-2].legend(fontsize=7)
    axes.flat[-1].axis("off")
    if title:
        fig.suptitle(title)
    return fig


def plot_daily(frames: dict[str, pd.DataFrame], path, title: str = "", bands: dict | None = None,
               species: str = "human") -> None:
    """Write `daily_figure` (the standard panels; dairy ones for a cow or goat) as a PNG."""
    fig = daily_figure(frames, title=title, bands=bands, species=species)  # selects the Agg backend
    import matplotlib.pyplot as plt

    save_figure(fig, path, dpi=90)
    plt.close(fig)
