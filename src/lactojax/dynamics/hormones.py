"""Systemic subsystem: progesterone, dopamine-prolactin reflex, oxytocin reflex, permissive
metabolic state, fever and the infant's appetite. Rates are per hour.

The metabolic pathologies act through their own paths: hypothyroidism lowers the permissive
state (per-cell synthesis capacity); insulin resistance lowers it too and delays the
secretory-activation programme (signalling.py), like a partial type 1 diabetes; obesity blunts
the early suckling prolactin response."""

from __future__ import annotations

import jax.numpy as jnp

from lactojax.dynamics.drive import Drive
from lactojax.inputs import Profile
from lactojax.parameters import Params
from lactojax.state import SystemicState

LN2 = jnp.log(2.0)


def rate_from_halflife_h(halflife_h):
    return LN2 / halflife_h


def prolactin_basal(p: Params, t) -> jnp.ndarray:
    """Basal (between-feed) prolactin target, ng/mL: falls over months (Cox 1996)."""
    late = p.prolactin_basal_late_ng_ml
    return late + (p.prolactin_basal_term_ng_ml - late) * jnp.exp(-t / p.prolactin_basal_decline_h)


def night_weight(p: Params, clock_h) -> jnp.ndarray:
    """Smooth circadian weight, 0..1: 1 at `prolactin_night_peak_clock_h`, 0 twelve hours
    later."""
    return 0.5 * (1.0 + jnp.cos(2.0 * jnp.pi * (clock_h - p.prolactin_night_peak_clock_h) / 24.0))


def prolactin_secretion_fold(p: Params, t, night) -> jnp.ndarray:
    """Pituitary secretion fold under full dopamine relief; declines with lactation stage."""
    late = p.prolactin_secretion_fold_late
    fold = late + (p.prolactin_secretion_fold_early - late) * jnp.exp(-t / p.prolactin_basal_decline_h)
    return fold * (1.0 + p.prolactin_night_gain * night)


def dopamine_inhibition(p: Params, s: SystemicState, drive: Drive) -> jnp.ndarray:
    """Effective D2 inhibition of lactotrophs; 1 = basal, 0 = fully relieved."""
    agonist = 1.0 + p.dopamine_agonist_potency * drive.dopamine_agonist
    antagonist = 1.0 + p.dopamine_antagonist_potency * drive.dopamine_antagonist
    return jnp.maximum(s.dopamine_tone, 0.0) * agonist / antagonist


def milk_ejection(p: Params, oxytocin) -> jnp.ndarray:
    """Fraction (0..1) of stored milk made available by myoepithelial contraction; oxytocin in
    pg/mL, Hill coefficient `ejection_hill`."""
    x = (jnp.maximum(oxytocin, 0.0) / p.ejection_ec50_pg_ml) ** p.ejection_hill
    return x / (1.0 + x)


def complementary_fraction(p: Params, t, profile: Profile) -> jnp.ndarray:
    """Share of the infant's energy taken from other food at t (h), 0..1: rises from
    `profile.complementary_start_h` towards `profile.complementary_share` over
    `complementary_ramp_h`."""
    since = jnp.maximum(t - profile.complementary_start_h, 0.0)
    return profile.complementary_share * (1.0 - jnp.exp(-since / p.complementary_ramp_h))


def obesity_prolactin_response(p: Params, t, profile: Profile) -> jnp.ndarray:
    """Fraction (0..1) of the normal suckling-induced prolactin release left in obesity at time
    t (h from delivery): blunted early, recovered within the first week (Rasmussen & Kjolhede
    2004)."""
    return 1.0 - profile.obesity * p.obesity_prolactin_blunting * jnp.exp(-t / p.obesity_blunting_tau_h)


def permissive_level(p: Params, profile: Profile) -> jnp.ndarray:
    """Target (0..1) of the permissive metabolic state, i.e. the per-cell lactose-synthesis
    capacity it allows: thyroid hormone (hypothyroidism) and insulin action (insulin
    resistance) each support their own share (`thyroid_synthesis_dependence`,
    `insulin_synthesis_dependence`)."""
    thyroid = 1.0 - p.thyroid_synthesis_dependence * (1.0 - profile.thyroid_function)
    insulin = 1.0 - p.insulin_synthesis_dependence * (1.0 - profile.insulin_action)
    return thyroid * insulin


def metabolic_tau_h(p: Params, profile: Profile) -> jnp.ndarray:
    """Time constant (h) of the permissive state after delivery; type 1 diabetes slows it."""
    return p.metabolic_tau_h + profile.type1_diabetes * p.type1_diabetes_extra_tau_h


def infant_stomach_capacity(p: Params, t, profile: Profile) -> jnp.ndarray:
    """Combined appetite (gastric capacity, mL) of the infant(s) for milk: grows over the first
    weeks to a plateau (a saturating growth curve), and falls as other food takes over part
    of the infant's energy."""
    fast = p.infant_stomach_week1_gain_ml * (1.0 - jnp.exp(-t / p.infant_stomach_week1_tau_h))
    slow_gain = jnp.maximum(p.infant_stomach_mature_ml - p.infant_stomach_birth_ml - p.infant_stomach_week1_gain_ml, 0.0)
    slow = slow_gain * (1.0 - jnp.exp(-t / p.infant_stomach_growth_h))
    one = p.infant_stomach_birth_ml + fast + slow
    return one * profile.n_infants * (1.0 - complementary_fraction(p, t, profile))


def infant_hunger(p: Params, s: SystemicState, t, profile: Profile) -> jnp.ndarray:
    """0..1 drive to keep taking milk; falls as the stomach fills (appetite = demand)."""
    x = (jnp.maximum(s.infant_stomach, 0.0) / infant_stomach_capacity(p, t, profile)) ** 4
    return 1.0 / (1.0 + x)


def systemic_rates(
    p: Params,
    s: SystemicState,
    t,
    drive: Drive,
    profile: Profile,
    infant_intake_rate,
    cytokine_total,
) -> SystemicState:
    # Progesterone: placental source gone at t = 0 unless tissue is retained.
    p4_target = p.progesterone_basal_ng_ml + (
        profile.retained_placenta_fraction * p.progesterone_term_ng_ml * drive.placenta_retained
    )
    d_p4 = rate_from_halflife_h(p.progesterone_halflife_h) * (p4_target - s.progesterone)

    # Dopamine tone: suppressed by nipple stimulation (infant or pump).
    stimulus = jnp.sum(drive.suckling + drive.pumping)
    tone_target = 1.0 / (1.0 + p.dopamine_relief_per_suckle * stimulus)
    d_da = (tone_target - s.dopamine_tone) / (p.dopamine_tau_min / 60.0)

    # Prolactin: secretion = basal x fold^(1 - inhibition); fold^0 = 1 at basal tone.
    inhibition = dopamine_inhibition(p, s, drive)
    fold = prolactin_secretion_fold(p, t, night_weight(p, drive.clock_h))
    # The suckling-induced rise (fold^(1 - inhibition) - 1 > 0) is blunted early in obesity;
    # suppression below basal (dopamine agonists) is not.
    rise = fold ** (1.0 - inhibition) - 1.0
    response = jnp.where(rise > 0.0, rise * obesity_prolactin_response(p, t, profile), rise)
    prl_target = profile.pituitary_function * prolactin_basal(p, t) * (1.0 + response)
    d_prl = rate_from_halflife_h(p.prolactin_halflife_min / 60.0) * (prl_target - s.prolactin)

    # Oxytocin: reflex release with nipple stimulation plus conditioned release at sessions,
    # inhibited by stress; absent when the posterior pituitary / reflex fails.
    reflex = jnp.minimum(stimulus, 1.0)
    release = (
        p.oxytocin_conditioned_fraction * drive.session_active
        + (1.0 - p.oxytocin_conditioned_fraction) * reflex
    )
    ot_target = p.oxytocin_basal_pg_ml + (
        p.oxytocin_suckling_pg_ml * release * profile.oxytocin_function * (1.0 - jnp.minimum(profile.stress, 1.0))
    )
    d_ot = rate_from_halflife_h(p.oxytocin_halflife_min / 60.0) * (ot_target - s.oxytocin)

    # Permissive metabolic state (thyroid, insulin). Insulin resistance also delays the
    # secretory-activation programme (signalling.secretory_activation_brake).
    d_met = (permissive_level(p, profile) - s.metabolic_readiness) / metabolic_tau_h(p, profile)

    # Fever follows the summed cytokine load of all glands.
    fever_target = p.fever_max_c * cytokine_total / (cytokine_total + p.fever_half_cytokine)
    d_fever = (fever_target - s.fever) / p.fever_tau_h

    # Infant stomach: fills with intake, empties by gastric emptying.
    d_stomach = infant_intake_rate - rate_from_halflife_h(p.infant_gastric_halflife_min / 60.0) * s.infant_stomach

    return SystemicState(
        progesterone=d_p4,
        prolactin=d_prl,
        dopamine_tone=d_da,
        oxytocin=d_ot,
        metabolic_readiness=d_met,
        fever=d_fever,
        infant_stomach=d_stomach,
        infant_intake=infant_intake_rate,
    )
