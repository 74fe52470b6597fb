"""Dairy units wherever a cow or goat is simulated: `lactojax simulate --species cow` and the
cow scenarios report yield in kg/day (per cow and per quarter), fat / protein / lactose in %,
SCC in 1e3 cells/mL and days in milk, with no infant intake; human output is unchanged.

Expected values are computed here from the raw trajectory with the milk density written out
(1.032 g/mL), not through lactojax's conversion helpers."""

import matplotlib
import matplotlib.figure
import numpy as np
import pandas as pd
import pytest

from lactojax import observation as obs
from lactojax.cli import main
from lactojax.inputs import make_inputs, milkings, profile
from lactojax.parameters import Params
from lactojax.simulate import simulate
from lactojax.solver import SolverSettings
from lactojax.tables import daily_table

pytestmark = pytest.mark.xdist_group("cli_simulate")

DENSITY_KG_PER_L = 1.032
COW_DAYS = 6
CSV_RTOL = 1e-5  # the CSV is written with 6 significant digits
HUMAN_COLUMNS = [  # `lactojax simulate` (human, 2 glands), pinned: dairy support must not touch it
    "day", "milk_intake_ml", "milk_sodium_mmol_l", "milk_lactose_g_l", "milk_protein_g_l", "milk_fat_g_l",
    "prolactin_basal_ng_ml", "milk_removed_ml", "production_ml", "milk_potassium_mmol_l",
    "milk_chloride_mmol_l", "milk_citrate_mmol_l", "milk_na_k_ratio", "prolactin_peak_ng_ml",
    "oxytocin_peak_pg_ml", "progesterone_ng_ml", "fever_max_c", "somatic_cell_count_k_ml",
    "production_gland_0_ml", "removed_gland_0_ml", "fullness_max_gland_0", "sodium_gland_0_mmol_l",
    "production_gland_1_ml", "removed_gland_1_ml", "fullness_max_gland_1", "sodium_gland_1_mmol_l",
]


@pytest.fixture
def saved_figures(monkeypatch):
    """(title, x label) of every axis of each figure saved while the fixture is active."""
    saved = []
    original = matplotlib.figure.Figure.savefig

    def record(fig, *args, **kwargs):
        saved.append([(ax.get_title(), ax.get_xlabel()) for ax in fig.axes if ax.axison])
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    return saved


def _cow_trajectory(days):
    """The run `lactojax simulate --species cow` makes: 4 quarters milked at 05:00 and 17:00
    for 8 min, nominal cow, the cow's default (session) solver grid."""
    params = Params.nominal("cow")
    inputs = make_inputs(milkings(days, [5.0, 17.0], n_glands=4, duration_min=8.0), days, profile(4))
    return simulate(params, inputs, SolverSettings.for_species("cow", throw=False)), params, inputs


def test_cow_csv_has_dairy_columns_in_dairy_units(tmp_path, capsys, saved_figures):
    out, png = tmp_path / "cow.csv", tmp_path / "cow.png"
    assert main(["simulate", "--species", "cow", "--days", str(COW_DAYS), "--out", str(out),
                 "--plot", str(png)]) == 0
    capsys.readouterr()
    df = pd.read_csv(out)
    assert list(df.columns[:6]) == ["dim", "yield_kg_per_day", "fat_pct", "protein_pct", "lactose_pct",
                                    "scc_k_per_ml"]
    assert [f"yield_quarter_{i}_kg_per_day" for i in range(4)] == [c for c in df.columns if c.startswith("yield_q")]
    assert not [c for c in df.columns if c == "day" or any(w in c for w in ("intake", "production", "removed", "_g_l"))], \
        "no infant intake, no milk volumes (mL) or g/L composition for a cow"
    assert list(df["dim"]) == list(range(COW_DAYS))

    traj, params, inputs = _cow_trajectory(COW_DAYS)
    boundaries = np.arange(COW_DAYS + 1) * traj.points_per_day
    removed_ml = np.diff(np.asarray(traj.states.glands.removed)[boundaries], axis=0)  # (days, quarters)
    np.testing.assert_allclose(df["yield_kg_per_day"], removed_ml.sum(axis=1) * DENSITY_KG_PER_L / 1000.0,
                               rtol=CSV_RTOL)
    for i in range(4):
        np.testing.assert_allclose(df[f"yield_quarter_{i}_kg_per_day"], removed_ml[:, i] * DENSITY_KG_PER_L / 1000.0,
                                   rtol=CSV_RTOL)
    human_units = daily_table(traj, params, inputs)  # the same run in the model's units
    for k in ("fat", "protein", "lactose"):
        np.testing.assert_allclose(df[f"{k}_pct"], human_units[f"milk_{k}_g_l"] / (10.0 * DENSITY_KG_PER_L),
                                   rtol=CSV_RTOL)
    assert df["fat_pct"].between(2.5, 8.0).all() and df["lactose_pct"].iloc[2:].between(4.0, 5.5).all()

    # SCC: the milk removed at each milking (all quarters), the day's milkings pooled by yield
    s = {k: np.asarray(v) for k, v in obs.per_session(traj, params, inputs).items()}
    for d in range(COW_DAYS):
        m = s["valid"] & (s["start_h"] >= 24.0 * d) & (s["start_h"] < 24.0 * (d + 1))
        assert m.any()  # every day has a milking (the first may fall before calving)
        w = s["removed_ml"][m]
        assert df["scc_k_per_ml"][d] == pytest.approx(np.sum(s["somatic_cell_count_k_ml"][m] * w) / np.sum(w),
                                                      rel=CSV_RTOL)

    (axes,) = saved_figures
    titles = [t for t, _ in axes]
    assert titles == ["milk yield (kg/day)", "fat (%)", "protein (%)", "lactose (%)", "SCC (1e3 cells/mL)",
                      "milk sodium (mmol/L)", "yield per quarter (kg/day)"]
    assert not [t for t in titles if "intake" in t or "mL)" in t and "cells" not in t]
    assert {x for _, x in axes} == {"days in milk"}


def test_goat_glands_are_halves(tmp_path, capsys):
    out = tmp_path / "goat.csv"
    assert main(["simulate", "--species", "goat", "--days", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    cols = list(pd.read_csv(out).columns)
    assert "yield_half_0_kg_per_day" in cols and "yield_half_1_kg_per_day" in cols
    assert "dim" in cols and not [c for c in cols if "intake" in c]


def test_human_csv_and_plot_unchanged(tmp_path, capsys, saved_figures):
    out, png = tmp_path / "h.csv", tmp_path / "h.png"
    assert main(["simulate", "--days", "2", "--out", str(out), "--plot", str(png)]) == 0
    capsys.readouterr()
    assert list(pd.read_csv(out).columns) == HUMAN_COLUMNS
    (axes,) = saved_figures
    assert [t for t, _ in axes] == ["24-h milk intake (mL)", "milk sodium (mmol/L)", "milk lactose (g/L)",
                                    "milk protein (g/L)", "milk fat (g/L)", "basal prolactin (ng/mL)",
                                    "production per gland (mL/day)"]
    assert {x for _, x in axes} == {"day after delivery"}


def test_cow_scenario_daily_table_and_plot_in_dairy_units():
    """A short cow scenario through the scenario machinery (`run_scenario`, `daily_frame`,
    `figure`), and the registered cow scenarios declared as cows with dairy panels."""
    import matplotlib.pyplot as plt

    from lactojax.dairy.tables import dairy_daily
    from lactojax.scenarios import get
    from lactojax.scenarios.core import Arm, Criterion, Panel, Scenario, Setup, run_scenario
    from lactojax.scenarios.output import daily_frame, figure

    days = 3
    cow = Params.nominal("cow")
    arm = Arm("cow_2x", cow, make_inputs(milkings(days, (5.0, 16.0), n_glands=4), days, profile(4)))
    scenario = Scenario(
        number=99, name="cow_units_check", title="cow units", description="", seed="", seed_ref="",
        build=lambda: Setup(days, (arm,)),
        analyse=lambda r: {"yield_day2_kg": float(r["cow_2x"].daily["milk_removed_ml"][2]) * DENSITY_KG_PER_L / 1000},
        criteria=(Criterion("yield_day2_kg", ">", 0.0, "test"),),
        panels=(Panel("yield_kg_per_day", "milk yield (kg/day)", source="dairy"),
                Panel("yield_gland_kg_per_day", "yield per quarter (kg/day)", source="dairy", gland="each"),
                Panel("fullness", "fullness", source="hourly", gland=0)),
        species="cow",
    )
    result = run_scenario(scenario)
    df = daily_frame(result)
    assert list(df.columns[:7]) == ["arm", "dim", "yield_kg_per_day", "fat_pct", "protein_pct", "lactose_pct",
                                    "scc_k_per_ml"]
    assert not [c for c in df.columns if "intake" in c]
    # the table's yield is the number the scenario's metric reads
    assert df["yield_kg_per_day"][2] == pytest.approx(result.metrics["yield_day2_kg"], rel=1e-12)
    fig = figure(result)
    labels = [(ax.get_title(), ax.get_xlabel()) for ax in fig.axes if ax.axison]
    assert labels == [("milk yield (kg/day)", "days in milk"), ("yield per quarter (kg/day)", "days in milk"),
                      ("fullness", "days in milk")]
    plt.close(fig)

    a = result["cow_2x"]
    dairy_keys = set(dairy_daily(a.daily, obs.per_session(a.traj, a.params, a.inputs)))
    for name in ("cow_half_udder", "cow_lactation_curve", "cow_composition", "scc_yield"):
        s = get(name)
        assert s.species == "cow", name
        assert not [p for p in s.panels if "intake" in p.key or p.title.endswith("(mL)")], name
        assert {p.key for p in s.panels if p.source == "dairy"} <= dairy_keys, name
