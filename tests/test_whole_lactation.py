"""Issue 12, unit layer: the whole-lactation mechanisms one at a time (cell pool, activity per
cell, complementary food, feeds by age, resorption, hindmilk fat, somatic cells), each against
a hand-computed value or an invariant. The literature criteria are the scenarios 20-25
(tests/test_scenarios.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lactojax import observation as obs
from lactojax.dynamics.hormones import complementary_fraction, infant_stomach_capacity
from lactojax.dynamics.secretion import hindmilk_factor
from lactojax.dynamics.environment import gland_environment
from lactojax.dynamics.tissue import proliferation_rate, secretory_maturation
from lactojax.inputs import InputError, feeds_by_age, make_inputs, profile, regular_feeds
from lactojax.parameters import PARAMETERS, Params
from lactojax.scenarios.schedules import rows
from lactojax.simulate import simulate
from lactojax.state import initial_state


def test_proliferation_wanes_to_its_maintained_fraction():
    p = Params.nominal("cow")
    rate0 = float(proliferation_rate(p, 0.0))
    assert rate0 == pytest.approx(float(p.cell_proliferation_per_h))
    tau = float(p.cell_proliferation_decline_h)
    late = float(p.cell_proliferation_late_fraction)
    expected = rate0 * (late + (1 - late) * np.exp(-1.0))
    assert float(proliferation_rate(p, tau)) == pytest.approx(expected, rel=1e-12)
    assert float(proliferation_rate(p, 1e6)) == pytest.approx(rate0 * late, rel=1e-9)


def test_activity_per_cell_rises_then_declines():
    p = Params.nominal("cow")
    t = jnp.linspace(0.0, 305 * 24.0, 306)
    m = np.asarray(secretory_maturation(p, t))
    assert m[0] == pytest.approx(float(p.secretory_maturation_at_delivery))
    peak = int(np.argmax(m))
    assert 10 < peak < 200, "activity per cell peaks within the lactation, not at its ends"
    assert np.all(np.diff(m[: peak + 1]) >= 0) and np.all(np.diff(m[peak:]) <= 0)


def test_complementary_food_lowers_appetite_from_its_start():
    p = Params.nominal()
    prof = profile(complementary_start_h=100.0, complementary_share=0.5)
    assert float(complementary_fraction(p, 50.0, prof)) == 0.0
    ramp = float(p.complementary_ramp_h)
    assert float(complementary_fraction(p, 100.0 + ramp, prof)) == pytest.approx(0.5 * (1 - np.exp(-1.0)))
    base = float(infant_stomach_capacity(p, 1e5, profile()))
    assert float(infant_stomach_capacity(p, 1e5, prof)) == pytest.approx(0.5 * base, rel=1e-6)


def test_complementary_share_outside_0_1_is_refused():
    with pytest.raises(InputError, match="complementary_share"):
        profile(complementary_share=1.5)


def test_feeds_by_age_follows_the_plan():
    fs = feeds_by_age(30, ((0, 10), (10, 8), (20, 6)), night_feeds=True)
    start, _, mask, _, _ = rows(fs)
    feed_starts = start[mask[:, 0] > 0]  # one row per feed for breast 0
    per_day = np.bincount((feed_starts // 24).astype(int), minlength=30)
    assert per_day[1:9].tolist() == [10] * 8
    assert per_day[11:19].tolist() == [8] * 8
    assert per_day[21:29].tolist() == [6] * 8


@pytest.mark.parametrize("plan, message", [
    (((1, 10),), "start at day 0"),
    (((0, 10), (5, 8), (5, 6)), "must increase"),
    (((0, 10), (5, 0)), "must be > 0"),
])
def test_feeds_by_age_rejects_bad_plans(plan, message):
    with pytest.raises(InputError, match=message):
        feeds_by_age(10, plan)


def test_hindmilk_factor_is_one_when_empty_and_falls_with_fill():
    p = Params.nominal()
    g = initial_state(p, make_inputs(regular_feeds(1, 10), 1)).glands
    prof = profile()
    empty = gland_environment(p, g.__class__(**{**g.__dict__, "milk_volume": jnp.zeros(2)}), prof)
    assert np.allclose(np.asarray(hindmilk_factor(p, empty)), 1.0)
    half = gland_environment(p, g.__class__(**{**g.__dict__, "milk_volume": 0.5 * p.storage_capacity_ml * jnp.ones(2)}), prof)
    assert np.allclose(np.asarray(hindmilk_factor(p, half)), np.exp(-0.5 * float(p.hindmilk_fat_gradient)))


@pytest.fixture(scope="module")
def unnursed():
    """Breast 1 not fed from day 5: resorption and involution are active."""
    days = 12
    start, dur, mask, eff, pump = rows(regular_feeds(days, 10))
    skip = (start >= 120.0) & (mask[:, 1] > 0) & (mask[:, 0] == 0)
    from lactojax.inputs import feed_schedule

    fs = feed_schedule(start[~skip], dur[~skip], mask[~skip], eff[~skip], pump[~skip])
    p, inputs = Params.nominal(), make_inputs(fs, days)
    return p, inputs, simulate(p, inputs)


def test_mass_balance_holds_while_the_unnursed_breast_resorbs(unnursed):
    p, inputs, traj = unnursed
    g = traj.states.glands
    resorbing = np.asarray(g.stat3)[-1, 1]
    assert resorbing > 0.2, "the unnursed breast is involuting (resorption active)"
    assert float(obs.mass_balance_error(traj, p, inputs)) < 1e-6 * float(np.max(np.asarray(g.synthesized)))


def test_daily_fat_is_the_fat_of_the_milk_removed(unnursed):
    p, inputs, traj = unnursed
    d = obs.daily(traj, p, inputs)
    g = traj.states.glands
    idx = np.arange(12) * traj.points_per_day
    fat = np.diff(np.asarray(g.fat_removed)[idx].sum(-1))
    ml = np.diff(np.asarray(g.removed)[idx].sum(-1))
    np.testing.assert_allclose(np.asarray(d["milk_fat_g_l"])[1:11], 1000 * fat[1:11] / ml[1:11], rtol=1e-10)


def test_somatic_cell_count_is_cells_over_stored_volume(unnursed):
    p, _, traj = unnursed
    g = jax.tree.map(lambda x: x[-1], traj.states.glands)
    expected = 1000.0 * np.asarray(g.somatic_cells) / np.asarray(g.milk_volume)
    np.testing.assert_allclose(np.asarray(obs.somatic_cell_count(p, g)), expected, rtol=1e-12)


NEW_PARAMETERS = (
    "cell_proliferation_decline_h", "cell_proliferation_late_fraction", "cell_apoptosis_stasis_gain",
    "secretory_maturation_at_delivery", "secretory_maturation_tau_h", "secretory_activity_decline_h",
    "protein_early_excess", "protein_early_decline_h", "fat_per_cell_g_h", "hindmilk_fat_gradient",
    "milk_resorption_per_h", "plasma_sodium_mmol_l", "plasma_potassium_mmol_l", "plasma_chloride_mmol_l",
    "plasma_protein_g_l", "plasma_osmolarity_mmol_l", "initial_milk_lactose_mmol_l", "initial_milk_sodium_mmol_l",
    "initial_milk_protein_g_l", "initial_milk_fat_g_l", "initial_somatic_cell_k_ml", "somatic_cell_shedding_k_ml_h",
    "somatic_cell_clearance_per_h", "complementary_ramp_h", "cell_apoptosis_cytokine_per_h",
    "cytokine_synthesis_inhibition", "cytokine_tj_half", "cytokine_duct_swelling", "somatic_cell_recruitment_k_ml_h",
    "prolactin_night_peak_clock_h", "stat5_at_delivery", "lactose_capacity_at_delivery",
)


def test_every_new_parameter_moves_an_output(unnursed):
    """Each constant moved into the table is read by the model: raising it by 20 % changes the
    outputs of a run where its mechanism is active (inflammation, solids and an unnursed breast)."""
    assert set(NEW_PARAMETERS) <= set(PARAMETERS)
    _, inputs, _ = unnursed
    prof = profile(noninfective_inflammation=[0.2, 0.0], complementary_start_h=48.0, complementary_share=0.5)
    inputs = make_inputs(inputs.feeds, 12, prof)
    base = Params.nominal()
    batch = [base] + [base.replace(**{n: float(base[n]) * 1.2}) for n in NEW_PARAMETERS]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *batch)

    def outputs(p):
        traj = simulate(p, inputs)
        d = obs.daily(traj, p, inputs)
        return jnp.stack([d[k] for k in ("milk_intake_ml", "milk_sodium_mmol_l", "milk_protein_g_l", "milk_fat_g_l",
                                         "milk_lactose_g_l", "somatic_cell_count_k_ml")])

    out = np.asarray(jax.jit(jax.vmap(outputs))(stacked))
    change = np.max(np.abs(out[1:] - out[0]) / (np.abs(out[0]) + 1e-9), axis=(1, 2))
    dead = [n for n, c in zip(NEW_PARAMETERS, change) if c < 1e-6]
    assert not dead, f"parameters that change no output: {dead}"
