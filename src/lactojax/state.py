"""Model state as named pytrees: systemic (shared) and per-gland (vectorised over glands)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from lactojax.inputs import Inputs
from lactojax.parameters import Params


class SystemicState(eqx.Module):
    """States shared by all glands. Each field is a scalar (or has a leading batch/time axis)."""

    progesterone: jnp.ndarray  # ng/mL, plasma
    prolactin: jnp.ndarray  # ng/mL, plasma
    dopamine_tone: jnp.ndarray  # 1 = basal hypothalamic inhibition of lactotrophs
    oxytocin: jnp.ndarray  # pg/mL, plasma
    metabolic_readiness: jnp.ndarray  # 0..1, permissive insulin/cortisol/thyroid state
    fever: jnp.ndarray  # degC above 37
    infant_stomach: jnp.ndarray  # mL of milk in the infant(s)' stomach (appetite state)
    infant_intake: jnp.ndarray  # mL, cumulative milk taken by the infant(s)


class GlandState(eqx.Module):
    """Per-gland states; every field has a trailing gland axis of length n_glands."""

    stat5: jnp.ndarray  # 0..1, JAK2-STAT5 activity
    stat3: jnp.ndarray  # 0..1, LIF-STAT3 activity (involution switch)
    upr: jnp.ndarray  # 0..1, ER stress / unfolded protein response
    active_cells: jnp.ndarray  # secretory tissue, 1 = a normal gland at term
    quiescent_cells: jnp.ndarray  # same units, not secreting
    lactose_capacity: jnp.ndarray  # 0..1, alpha-lactalbumin / lactose synthase per cell
    tj_open: jnp.ndarray  # 0..1, tight-junction openness
    milk_volume: jnp.ndarray  # mL stored (alveolar + ductal)
    lactose: jnp.ndarray  # mmol in stored milk
    sodium: jnp.ndarray  # mmol
    potassium: jnp.ndarray  # mmol
    chloride: jnp.ndarray  # mmol
    citrate: jnp.ndarray  # mmol
    protein: jnp.ndarray  # g
    fat: jnp.ndarray  # g
    fil: jnp.ndarray  # FIL amount, in units of (FIL of a full gland of mature milk)
    somatic_cells: jnp.ndarray  # 1e6 somatic cells (leucocytes, shed epithelium) in stored milk
    bacteria: jnp.ndarray  # 1e6 CFU in the gland
    cytokine: jnp.ndarray  # 0..~1, TLR -> NF-kB -> cytokine drive
    neutrophils: jnp.ndarray  # 0..~1, recruited neutrophils (relative)
    abscess: jnp.ndarray  # 0..1, walled-off fraction of the infection
    synthesized: jnp.ndarray  # mL, cumulative milk volume secreted (incl. paracellular water)
    removed: jnp.ndarray  # mL, cumulative milk volume removed (feeds + pumping)
    fat_removed: jnp.ndarray  # g, cumulative milk fat removed (the removed milk's fat)


class State(eqx.Module):
    systemic: SystemicState
    glands: GlandState


# Stored-milk amounts at delivery from the colostrum composition of the parameter table
# (`initial_milk_*`, per litre of stored milk).
INITIAL_COMPOSITION_PARAMS = {
    "lactose": "initial_milk_lactose_mmol_l",
    "sodium": "initial_milk_sodium_mmol_l",
    "potassium": "initial_milk_potassium_mmol_l",
    "chloride": "initial_milk_chloride_mmol_l",
    "citrate": "initial_milk_citrate_mmol_l",
    "protein": "initial_milk_protein_g_l",
    "fat": "initial_milk_fat_g_l",
}


def initial_state(params: Params, inputs: Inputs) -> State:
    """State at t = 0 (delivery of the placenta), before any feed."""
    n = inputs.n_glands
    ones = jnp.ones((n,))
    zeros = jnp.zeros((n,))
    profile = inputs.profile
    volume = params.initial_milk_ml * profile.gland_capacity_scale * ones
    litres = volume / 1000.0
    comp = {x: params[name] for x, name in INITIAL_COMPOSITION_PARAMS.items()}
    systemic = SystemicState(
        progesterone=jnp.asarray(params.progesterone_term_ng_ml),
        prolactin=jnp.asarray(params.prolactin_basal_term_ng_ml) * profile.pituitary_function,
        dopamine_tone=jnp.asarray(1.0),
        oxytocin=jnp.asarray(params.oxytocin_basal_pg_ml),
        metabolic_readiness=jnp.asarray(params.metabolic_readiness_at_delivery),
        fever=jnp.asarray(0.0),
        infant_stomach=jnp.asarray(0.0),
        infant_intake=jnp.asarray(0.0),
    )
    glands = GlandState(
        stat5=params.stat5_at_delivery * ones,
        stat3=zeros,
        upr=zeros,
        active_cells=profile.alveolar_fraction * ones,
        quiescent_cells=zeros,
        lactose_capacity=params.lactose_capacity_at_delivery * ones,
        tj_open=params.tj_open_at_delivery * ones,
        milk_volume=volume,
        lactose=comp["lactose"] * litres,
        sodium=comp["sodium"] * litres,
        potassium=comp["potassium"] * litres,
        chloride=comp["chloride"] * litres,
        citrate=comp["citrate"] * litres,
        protein=comp["protein"] * litres,
        fat=comp["fat"] * litres,
        fil=0.0 * volume,
        somatic_cells=params.initial_somatic_cell_k_ml * volume / 1000.0,
        bacteria=zeros,
        cytokine=zeros,
        neutrophils=zeros,
        abscess=zeros,
        synthesized=zeros,
        removed=zeros,
        fat_removed=zeros,
    )
    return State(systemic=systemic, glands=glands)
