"""Per-gland milk secretion and composition: lactose-driven (osmotic) transcellular
secretion with its ions, protein and fat; FIL; paracellular exchange through tight
junctions; resorption of an unemptied gland's milk; somatic cells; and removal at feeds.
Amounts in mmol, g or 1e6 cells, volumes in mL, rates per hour."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from lactojax.dynamics.drive import Drive
from lactojax.dynamics.environment import GlandEnvironment
from lactojax.inputs import Profile
from lactojax.parameters import Params
from lactojax.state import GlandState

# Small solutes that cross open tight junctions and are resorbed with water.
SOLUTES = ("lactose", "sodium", "potassium", "chloride", "citrate")


def plasma_concentration(p: Params, solute: str):
    """Plasma (interstitial) concentration, mmol/L, the paracellular pathway equilibrates to."""
    return 0.0 if solute == "lactose" else p[f"plasma_{solute}_mmol_l"]


class MilkFluxes(eqx.Module):
    """Fluxes of one gland at one instant (all (G,))."""

    secretion_ml_h: jnp.ndarray  # transcellular (lactose-driven) water
    paracellular_ml_h: jnp.ndarray  # net paracellular water (can be negative)
    resorption_ml_h: jnp.ndarray  # milk water resorbed from the lumen (>= 0)
    removal_ml_h: jnp.ndarray  # milk removed by infant or pump
    infant_removal_ml_h: jnp.ndarray  # part of removal taken by the infant
    removal_rate_per_h: jnp.ndarray  # fractional removal rate of stored milk
    fat_removal_rate_per_h: jnp.ndarray  # fractional removal rate of stored fat (hindmilk)
    resorption_rate_per_h: jnp.ndarray  # fractional resorption rate of stored water and solutes
    lactose_mmol_h: jnp.ndarray  # lactose synthesis


def tight_junction_target(p: Params, g: GlandState, env: GlandEnvironment, occupancy) -> jnp.ndarray:
    """Openness the junctions relax to: leaky while progesterone occupies its receptor,
    re-opened by stasis, inflammation and involution (STAT3)."""
    inflamed = g.cytokine / (g.cytokine + p.cytokine_tj_half)
    sealed = (
        (1.0 - p.tj_open_at_delivery * occupancy)
        * (1.0 - env.engorgement)
        * (1.0 - inflamed)
        * (1.0 - g.stat3)
    )
    return 1.0 - (1.0 - p.tj_floor) * sealed


def hindmilk_factor(p: Params, env: GlandEnvironment) -> jnp.ndarray:
    """Fat removed per unit of fat stored, relative to the milk's water: fat globules held in
    the alveoli leave as the gland empties, so milk fat rises through a feed (Daly 1993:
    fat content rises as the breast empties). 1 at an empty gland."""
    return jnp.exp(-p.hindmilk_fat_gradient * jnp.clip(env.fill, 0.0, 2.0))


def milk_fluxes(p: Params, g: GlandState, env: GlandEnvironment, drive: Drive, ejection, hunger, profile: Profile) -> MilkFluxes:
    inflamed = 1.0 / (1.0 + p.cytokine_synthesis_inhibition * jnp.maximum(g.cytokine, 0.0))
    lactose = p.lactose_vmax_mmol_h * jnp.maximum(g.active_cells, 0.0) * jnp.maximum(g.lactose_capacity, 0.0) * (
        env.fil_inhibition * env.pressure_inhibition * inflamed
    )
    secretion_l_h = lactose / p.secreted_lactose_mmol_l
    permeability = p.tj_permeability_l_h * g.tj_open * profile.alveolar_fraction
    solute_flux = sum(
        permeability * (plasma_concentration(p, x) - getattr(g, x) / (env.volume_safe / 1000.0)) for x in SOLUTES
    )
    paracellular_l_h = solute_flux / p.plasma_osmolarity_mmol_l
    resistance = 1.0 + profile.duct_blockage + p.cytokine_duct_swelling * g.cytokine
    infant_rate = drive.suckling * p.removal_rate_per_h * hunger * ejection / resistance
    pump_rate = drive.pumping * p.pump_rate_per_h * ejection / resistance
    # involution (LIF-STAT3) opens the resorptive route; the early engorged phase keeps its milk
    resorption_rate = p.milk_resorption_per_h * jnp.maximum(g.stat3, 0.0) ** 2
    volume = jnp.maximum(g.milk_volume, 0.0)
    removal_rate = infant_rate + pump_rate
    return MilkFluxes(
        secretion_ml_h=1000.0 * secretion_l_h,
        paracellular_ml_h=1000.0 * paracellular_l_h,
        resorption_ml_h=resorption_rate * volume,
        removal_ml_h=removal_rate * volume,
        infant_removal_ml_h=infant_rate * volume,
        removal_rate_per_h=removal_rate,
        fat_removal_rate_per_h=removal_rate * hindmilk_factor(p, env),
        resorption_rate_per_h=resorption_rate,
        lactose_mmol_h=lactose,
    )


def composition_rates(
    p: Params, g: GlandState, env: GlandEnvironment, f: MilkFluxes, profile: Profile, occupancy, t
) -> dict:
    """d/dt of stored volume and each composition amount, as a dict of (G,) arrays.
    `occupancy` is the progesterone-receptor occupancy (colostral protein secretion); t is
    the lactation stage, h after delivery."""
    secretion_l = f.secretion_ml_h / 1000.0
    litres = env.volume_safe / 1000.0
    permeability = p.tj_permeability_l_h * g.tj_open * profile.alveolar_fraction
    removal = f.removal_rate_per_h
    cells = jnp.maximum(g.active_cells, 0.0)
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
        paracellular = permeability * (plasma_concentration(p, x) - amount / litres)
        rates[x] = transcellular[x] + paracellular - (removal + f.resorption_rate_per_h) * amount
    # whey proteins (lactoferrin, sIgA) of early milk decline over months (Lonnerdal 2003)
    excess = p.protein_early_excess * jnp.exp(-t / p.protein_early_decline_h) + p.colostral_protein_excess * occupancy
    rates["protein"] = (
        secretion_l * p.secreted_protein_g_l * preterm * (1.0 + excess)
        + p.transcytosis_protein_g_h * cells * preterm
        + permeability * p.tj_protein_sieving * p.plasma_protein_g_l
        - removal * g.protein
    )
    fat_fraction = p.colostrum_fat_fraction + (1.0 - p.colostrum_fat_fraction) * g.lactose_capacity
    rates["fat"] = (
        secretion_l * p.secreted_fat_g_l * fat_fraction
        # fat made per cell, not with the lactose-driven water: early and late milk, when
        # each cell makes less water, is richer in fat (dilution around peak yield)
        + p.fat_per_cell_g_h * cells * (1.0 - occupancy)
        - f.fat_removal_rate_per_h * g.fat
    )
    rates["fil"] = f.secretion_ml_h / env.capacity_ml - removal * g.fil
    # leucocytes and shed epithelial cells enter the stored milk per mL of gland capacity
    # and leave with it: somatic cell count = cells / stored volume (diluted by the milk)
    influx_k = env.capacity_ml * (
        p.somatic_cell_shedding_k_ml_h + p.somatic_cell_recruitment_k_ml_h * jnp.maximum(g.neutrophils, 0.0)
    )
    rates["somatic_cells"] = influx_k / 1000.0 - (removal + p.somatic_cell_clearance_per_h) * g.somatic_cells
    net = f.secretion_ml_h + f.paracellular_ml_h - f.resorption_ml_h
    rates["milk_volume"] = net - f.removal_ml_h
    rates["synthesized"] = net
    rates["removed"] = f.removal_ml_h
    rates["fat_removed"] = f.fat_removal_rate_per_h * g.fat
    return rates
