"""Per-gland milk secretion and composition: lactose-driven (osmotic) transcellular
secretion with its ions, protein and fat; FIL; paracellular exchange through tight
junctions; and removal at feeds. Amounts in mmol or g, volumes in mL, rates per hour."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from lactojax.dynamics.drive import Drive
from lactojax.dynamics.environment import GlandEnvironment
from lactojax.inputs import Profile
from lactojax.parameters import Params
from lactojax.state import GlandState

# Plasma (interstitial) concentrations the paracellular pathway equilibrates towards.
PLASMA_MMOL_L = {"sodium": 140.0, "potassium": 4.5, "chloride": 104.0, "lactose": 0.0, "citrate": 0.1}
PLASMA_PROTEIN_G_L = 70.0
PLASMA_OSMOLARITY_MMOL_L = 290.0  # isosmotic water movement
SOLUTES = ("lactose", "sodium", "potassium", "chloride", "citrate")
CYTOKINE_DUCT_SWELLING = 2.0  # inflamed tissue narrows ducts (seed 003)
CYTOKINE_TJ_HALF = 0.3


class MilkFluxes(eqx.Module):
    """Fluxes of one gland at one instant (all (G,))."""

    secretion_ml_h: jnp.ndarray  # transcellular (lactose-driven) water
    paracellular_ml_h: jnp.ndarray  # net paracellular water (can be negative)
    removal_ml_h: jnp.ndarray  # milk removed by infant or pump
    infant_removal_ml_h: jnp.ndarray  # part of removal taken by the infant
    removal_rate_per_h: jnp.ndarray  # fractional removal rate of stored milk
    lactose_mmol_h: jnp.ndarray  # lactose synthesis


def tight_junction_target(p: Params, g: GlandState, env: GlandEnvironment, occupancy) -> jnp.ndarray:
    """Openness the junctions relax to: leaky while progesterone occupies its receptor,
    re-opened by stasis, inflammation and involution (STAT3)."""
    inflamed = g.cytokine / (g.cytokine + CYTOKINE_TJ_HALF)
    sealed = (
        (1.0 - p.tj_open_at_delivery * occupancy)
        * (1.0 - env.engorgement)
        * (1.0 - inflamed)
        * (1.0 - g.stat3)
    )
    return 1.0 - (1.0 - p.tj_floor) * sealed


def milk_fluxes(p: Params, g: GlandState, env: GlandEnvironment, drive: Drive, ejection, hunger, profile: Profile) -> MilkFluxes:
    lactose = p.lactose_vmax_mmol_h * jnp.maximum(g.active_cells, 0.0) * jnp.maximum(g.lactose_capacity, 0.0) * (
        env.fil_inhibition * env.pressure_inhibition
    )
    secretion_l_h = lactose / p.secreted_lactose_mmol_l
    permeability = p.tj_permeability_l_h * g.tj_open * profile.alveolar_fraction
    solute_flux = sum(
        permeability * (PLASMA_MMOL_L[x] - getattr(g, x) / (env.volume_safe / 1000.0)) for x in SOLUTES
    )
    paracellular_l_h = solute_flux / PLASMA_OSMOLARITY_MMOL_L
    resistance = 1.0 + profile.duct_blockage + CYTOKINE_DUCT_SWELLING * g.cytokine
    infant_rate = drive.suckling * p.removal_rate_per_h * hunger * ejection / resistance
    pump_rate = drive.pumping * p.pump_rate_per_h * ejection / resistance
    volume = jnp.maximum(g.milk_volume, 0.0)
    return MilkFluxes(
        secretion_ml_h=1000.0 * secretion_l_h,
        paracellular_ml_h=1000.0 * paracellular_l_h,
        removal_ml_h=(infant_rate + pump_rate) * volume,
        infant_removal_ml_h=infant_rate * volume,
        removal_rate_per_h=infant_rate + pump_rate,
        lactose_mmol_h=lactose,
    )


def composition_rates(
    p: Params, g: GlandState, env: GlandEnvironment, f: MilkFluxes, profile: Profile, occupancy
) -> dict:
    """d/dt of stored volume and each composition amount, as a dict of (G,) arrays.
    `occupancy` is the progesterone-receptor occupancy (colostral protein secretion)."""
    secretion_l = f.secretion_ml_h / 1000.0
    litres = env.volume_safe / 1000.0
    permeability = p.tj_permeability_l_h * g.tj_open * profile.alveolar_fraction
    removal = f.removal_rate_per_h
    preterm = 1.0 + p.preterm_protein_gain * profile.preterm
    transcellular = {
        "lactose": f.lactose_mmol_h,
        "sodium": secretion_l * p.secreted_sodium_mmol_l,
        "potassium": secretion_l * p.secreted_potassium_mmol_l,
        "chloride": secretion_l * p.secreted_chloride_mmol_l,
        "citrate": secretion_l * p.secreted_citrate_mmol_l * g.lactose_capacity,
    }
    rates = {}
    for x in SOLUTES:
        amount = getattr(g, x)
        paracellular = permeability * (PLASMA_MMOL_L[x] - amount / litres)
        rates[x] = transcellular[x] + paracellular - removal * amount
    rates["protein"] = (
        secretion_l * p.secreted_protein_g_l * preterm * (1.0 + p.colostral_protein_excess * occupancy)
        + p.transcytosis_protein_g_h * jnp.maximum(g.active_cells, 0.0) * preterm
        + permeability * p.tj_protein_sieving * PLASMA_PROTEIN_G_L
        - removal * g.protein
    )
    fat_fraction = p.colostrum_fat_fraction + (1.0 - p.colostrum_fat_fraction) * g.lactose_capacity
    rates["fat"] = secretion_l * p.secreted_fat_g_l * fat_fraction - removal * g.fat
    rates["fil"] = f.secretion_ml_h / env.capacity_ml - removal * g.fil
    rates["milk_volume"] = f.secretion_ml_h + f.paracellular_ml_h - f.removal_ml_h
    rates["synthesized"] = f.secretion_ml_h + f.paracellular_ml_h
    rates["removed"] = f.removal_ml_h
    return rates
