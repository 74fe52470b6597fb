"""The one declarative parameter table, and the `Params` pytree built from it.

Every model parameter is declared once in `PARAMETER_TABLE` with its units, nominal value,
bounds, prior and the literature source or reasoning behind the nominal value. The same
table drives simulation (`Params.nominal()`), priors and MAP bounds (`lactojax.inference`),
reports and the generated docs (`lactojax params` / `docs/parameters.md`).

Priors are written relative to the nominal value:
  ("lognormal", s)   log(theta) ~ Normal(log(nominal), s)      positive quantities
  ("logitnormal", s) logit(theta) ~ Normal(logit(nominal), s)  fractions in (0, 1)
  ("normal", s)      theta ~ Normal(nominal, s)
Bounds are hard limits: sampling happens on an unconstrained scale mapped into them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import equinox as eqx
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    name: str
    unit: str
    nominal: float
    lower: float
    upper: float
    prior: tuple[str, float]
    source: str
    group: str

    def __post_init__(self):
        if not (self.lower < self.nominal < self.upper):
            raise ValueError(
                f"parameter {self.name!r}: nominal {self.nominal} must lie strictly inside "
                f"bounds ({self.lower}, {self.upper})"
            )
        if self.prior[0] not in ("lognormal", "logitnormal", "normal"):
            raise ValueError(f"parameter {self.name!r}: unknown prior family {self.prior[0]!r}")
        if self.prior[0] == "lognormal" and self.lower < 0:
            raise ValueError(f"parameter {self.name!r}: lognormal prior needs lower >= 0")
        if self.prior[0] == "logitnormal" and not (0 <= self.lower and self.upper <= 1):
            raise ValueError(f"parameter {self.name!r}: logitnormal prior needs bounds in [0, 1]")


def _p(name, unit, nominal, lower, upper, prior, source, group):
    return ParamSpec(name, unit, float(nominal), float(lower), float(upper), prior, source, group)


LN = "lognormal"
LG = "logitnormal"

# fmt: off
PARAMETER_TABLE: tuple[ParamSpec, ...] = (
    # --- progesterone ---------------------------------------------------------------
    _p("progesterone_term_ng_ml", "ng/mL", 150, 50, 400, (LN, 0.3),
       "DESIGN.md §2: 100-200 ng/mL at term", "progesterone"),
    _p("progesterone_basal_ng_ml", "ng/mL", 1.0, 0.1, 10, (LN, 0.5),
       "DESIGN.md §2: a few ng/mL by days 3-5, < 1-2 ng/mL thereafter", "progesterone"),
    _p("progesterone_halflife_h", "h", 12.0, 2, 40, (LN, 0.4),
       "chosen so 150 ng/mL falls to ~2-5 ng/mL by 72 h (DESIGN.md §2)", "progesterone"),
    _p("progesterone_receptor_k_ng_ml", "ng/mL", 8.0, 1, 60, (LN, 0.5),
       "half-occupancy of the progesterone receptor brake; places secretory activation at "
       "30-72 h (Kulski 1981; Arthur 1989)", "signalling"),
    _p("progesterone_receptor_hill", "1", 2.0, 1, 4, (LN, 0.2),
       "steepness of receptor occupancy vs plasma progesterone: the brake lifts over a narrow "
       "range as progesterone falls through a few ng/mL (reasoning; with "
       "`progesterone_receptor_k_ng_ml` places secretory activation at 30-72 h)", "signalling"),
    # --- prolactin & dopamine -------------------------------------------------------
    _p("prolactin_halflife_min", "min", 37.0, 15, 80, (LN, 0.25),
       "Sievertsen 1980: 37 +/- 10 min plasma elimination half-life", "prolactin"),
    _p("prolactin_basal_term_ng_ml", "ng/mL", 160.0, 50, 500, (LN, 0.3),
       "Weitzman 1981: 192 ng/mL before feeds on days 3-5", "prolactin"),
    _p("prolactin_basal_late_ng_ml", "ng/mL", 50.0, 10, 150, (LN, 0.3),
       "Cox 1996: basal 59 +/- 29 ng/mL at 6 months", "prolactin"),
    _p("prolactin_basal_decline_h", "h", 900.0, 200, 5000, (LN, 0.4),
       "Cox 1996: basal 119 ng/mL at 1 month -> 59 at 6 months", "prolactin"),
    _p("prolactin_secretion_fold_early", "1", 15.0, 3, 80, (LN, 0.4),
       "pituitary secretion fold under full dopamine relief; gives a plasma rise of "
       "~3-8x (Noel 1974: 8.5x weeks 0-6; Weitzman 1981: 2.2x at 10 min)", "prolactin"),
    _p("prolactin_secretion_fold_late", "1", 8.0, 1.5, 40, (LN, 0.4),
       "Noel 1974: 6.0x at weeks 7-28; Cox 1996: peak/basal 1.5x at 6 months", "prolactin"),
    _p("prolactin_night_gain", "1", 0.6, 0.0, 3.0, ("normal", 0.3),
       "larger suckling response at night (DESIGN.md §2; seed 002 'night feeds')", "prolactin"),
    _p("prolactin_night_peak_clock_h", "h (clock)", 2.0, 0.0, 6.0, ("normal", 1.0),
       "clock time of the largest suckling prolactin response (DESIGN.md §2: larger at night; "
       "plasma prolactin peaks in the early morning hours, Sassin 1972)", "prolactin"),
    _p("dopamine_relief_per_suckle", "1", 8.0, 0.5, 50, (LN, 0.5),
       "suckling suppresses hypothalamic dopamine tone (seed 000)", "prolactin"),
    _p("dopamine_tau_min", "min", 20.0, 3, 90, (LN, 0.4),
       "places the prolactin peak 10-45 min into a feed (DESIGN.md §2)", "prolactin"),
    _p("dopamine_agonist_potency", "1/dose", 5.0, 0.2, 20, (LN, 0.5),
       "cabergoline/bromocriptine suppress basal and suckling-induced prolactin to "
       "near-undetectable levels and prevent lactation in ~78-100 % of women (Caballero-Gordo "
       "1991; European Multicentre Study Group 1991); potency 5 keeps suckling peaks < 2 ng/mL "
       "(3 left ~12 ng/mL peaks and ~40 % of normal intake)", "prolactin"),
    _p("dopamine_antagonist_potency", "1/dose", 1.0, 0.05, 10, (LN, 0.5),
       "domperidone raises basal prolactin several-fold", "prolactin"),
    _p("prolactin_receptor_k_ng_ml", "ng/mL", 40.0, 5, 200, (LN, 0.5),
       "half-maximal prolactin receptor / JAK2 activation; reasoning: basal levels of "
       "50-200 ng/mL keep signalling partly, not fully, saturated", "signalling"),
    # --- oxytocin & ejection --------------------------------------------------------
    _p("oxytocin_basal_pg_ml", "pg/mL", 10.8, 2, 30, (LN, 0.3),
       "Weitzman 1981: 10.8 pg/mL before a feed", "oxytocin"),
    _p("oxytocin_suckling_pg_ml", "pg/mL", 55.0, 10, 200, (LN, 0.3),
       "Weitzman 1981: peak 53.2 pg/mL at 10 min of suckling", "oxytocin"),
    _p("oxytocin_halflife_min", "min", 4.0, 1, 15, (LN, 0.3),
       "plasma half-life of a few minutes (DESIGN.md §2)", "oxytocin"),
    _p("oxytocin_conditioned_fraction", "1", 0.3, 0.01, 0.9, (LG, 0.8),
       "conditioned release (infant cry, thought of the baby) independent of nipple "
       "stimulation (seeds 000, 001)", "oxytocin"),
    _p("ejection_ec50_pg_ml", "pg/mL", 25.0, 5, 100, (LN, 0.4),
       "myoepithelial contraction threshold between basal and suckling oxytocin", "oxytocin"),
    _p("ejection_hill", "1", 3.0, 1, 8, (LN, 0.3),
       "steepness (Hill coefficient) of myoepithelial contraction vs oxytocin: let-down is "
       "switch-like between basal and suckling oxytocin (reasoning)", "oxytocin"),
    # --- metabolic / permissive ------------------------------------------------------
    _p("metabolic_readiness_at_delivery", "1", 0.3, 0.01, 0.95, (LG, 0.8),
       "insulin/cortisol-dependent readiness for secretory activation at delivery", "metabolic"),
    _p("metabolic_tau_h", "h", 18.0, 3, 100, (LN, 0.4),
       "time constant of the permissive (insulin, cortisol) state after delivery", "metabolic"),
    _p("type1_diabetes_extra_tau_h", "h", 40.0, 5, 150, (LN, 0.4),
       "type 1 diabetes slows the permissive (insulin) state that scales lactose capacity "
       "(reasoning; moves the lactogenesis markers by only a few hours on its own)", "metabolic"),
    _p("type1_diabetes_lag_h", "h", 66.0, 24, 150, (LN, 0.3),
       "in type 1 diabetes the secretory-activation programme (STAT5, tight-junction closure, "
       "end of colostral protein) stays refractory until ~this time after delivery, then is "
       "released over ~half a day: insulin is required for secretory activation (Neville & "
       "Morton 2001; Nommsen-Rivers 2016), so activation waits for metabolic control; chosen so "
       "the lactogenesis markers come ~24 h later than normal (Arthur 1989; Neubauer 1993; "
       "Hartmann & Cregan 2001)", "metabolic"),
    _p("thyroid_synthesis_dependence", "1", 0.99, 0.05, 0.999, (LG, 0.8),
       "hypothyroidism: fraction of the per-cell lactose-synthesis (metabolic) capacity that "
       "needs thyroid hormone; sets the permissive level 1 - d (1 - thyroid_function). Thyroid "
       "hormone limits the intensity of milk secretion (Grosvenor & Turner 1959: thyroxine "
       "+37 % milk yield in rats; thyroidectomy lowers milk yield in cattle) and PTU-hypothyroid "
       "rats lactate poorly with normal prolactin during lactation (Hapon 2003); value: reasoning "
       "(capacity nearly proportional to thyroid function)", "metabolic"),
    _p("insulin_synthesis_dependence", "1", 0.99, 0.05, 0.999, (LG, 0.8),
       "insulin resistance / PCOS: fraction of the permissive (insulin-dependent) metabolic state "
       "that needs insulin action; level x (1 - d (1 - insulin_action)). Insulin signalling drives "
       "the lactose- and lipid-synthesis programme of secretory activation (Neville 2013, "
       "mammary insulin-receptor deletion in mice; Lee & Kelleher 2016) and insulin resistance "
       "goes with low milk supply (Nommsen-Rivers 2016); value: reasoning", "metabolic"),
    _p("insulin_resistance_refractory", "1", 0.9, 0.05, 0.99, (LG, 0.8),
       "insulin resistance: the type-1-diabetes refractoriness of the secretory-activation "
       "programme (`type1_diabetes_lag_h`), scaled by this x (1 - insulin_action): insulin is "
       "required for secretory activation (Neville & Morton 2001; Nommsen-Rivers 2016), and "
       "insulin resistance goes with delayed onset of lactation (Matias 2014; Nommsen-Rivers "
       "2016); value: reasoning", "metabolic"),
    _p("obesity_prolactin_blunting", "1", 0.7, 0.05, 0.98, (LG, 0.8),
       "obesity: fraction of the suckling-induced prolactin release lost at delivery. Overweight "
       "and obese women have a lower prolactin response to suckling at 48 h but not at 7 days "
       "postpartum (Rasmussen & Kjolhede 2004, Pediatrics 113:e465); the size of the deficit is "
       "not available here (reasoning, wide prior)", "metabolic"),
    _p("obesity_blunting_tau_h", "h", 60.0, 12, 300, (LN, 0.5),
       "time constant over which the obese prolactin-response deficit resolves: present at 48 h, "
       "gone by 7 days (Rasmussen & Kjolhede 2004)", "metabolic"),
    _p("t1d_refractory_width_h", "h", 6.0, 1, 24, (LN, 0.4),
       "width of the logistic release of the type-1-diabetes refractoriness around "
       "`type1_diabetes_lag_h`: the programme is released over roughly half a day (reasoning; "
       "markers ~24 h late: Arthur 1989; Neubauer 1993)", "metabolic"),
    # --- signalling -----------------------------------------------------------------
    _p("progesterone_brake_strength", "1", 0.995, 0.5, 0.999, (LG, 0.8),
       "progesterone receptor represses STAT5 target genes (seed 001)", "signalling"),
    _p("stat5_at_delivery", "1", 0.02, 0.001, 0.3, (LG, 0.8),
       "STAT5 activity at delivery, held low by the progesterone brake (seed 001)", "signalling"),
    _p("stat5_on_per_h", "1/h", 0.1, 0.02, 3, (LN, 0.5),
       "JAK2-STAT5 activation; hours time scale (seed 001: 'slow-acting')", "signalling"),
    _p("stat5_off_per_h", "1/h", 0.08, 0.01, 1, (LN, 0.5),
       "STAT5 deactivation; the prolactin drive persists for several hours (seed 000)", "signalling"),
    _p("stat3_suppresses_stat5", "1", 4.0, 0.1, 20, (LN, 0.5),
       "STAT5 -> STAT3 switch at involution (seed 001)", "signalling"),
    _p("stat3_on_per_h", "1/h", 0.06, 0.005, 0.5, (LN, 0.5),
       "LIF-STAT3 activation under stasis within 1-2 days (seed 001)", "signalling"),
    _p("stat3_off_per_h", "1/h", 0.04, 0.005, 0.5, (LN, 0.5),
       "STAT3 decay once milk is removed again", "signalling"),
    _p("stasis_fill_half", "1", 0.85, 0.3, 1.5, (LN, 0.2),
       "fraction of storage capacity at which stasis signalling (LIF) is half-maximal", "signalling"),
    _p("upr_tau_h", "h", 12.0, 2, 72, (LN, 0.4),
       "ER stress / UPR builds over hours of engorgement (seed 001)", "signalling"),
    # --- secretory tissue -----------------------------------------------------------
    _p("cell_proliferation_per_h", "1/h", 0.004, 0.0002, 0.05, (LN, 0.6),
       "postpartum alveolar proliferation is modest in women (reasoning)", "tissue"),
    _p("cell_carrying_capacity", "1", 1.6, 1.05, 4, (LN, 0.3),
       "maximal secretory tissue relative to a normal gland at term; allows twins' supply "
       "to approach double", "tissue"),
    _p("cell_apoptosis_basal_per_h", "1/h", 1e-5, 1e-7, 1e-3, (LN, 1.0),
       "slow secretory-cell loss in established lactation (Capuco 2003, dairy)", "tissue"),
    _p("cell_apoptosis_stat3_per_h", "1/h", 0.03, 0.002, 0.3, (LN, 0.5),
       "STAT3/UPR-driven apoptosis: involution over days (seed 001)", "tissue"),
    _p("cell_quiescence_per_h", "1/h", 0.02, 0.001, 0.3, (LN, 0.6),
       "secretory cells go quiescent under engorgement (DESIGN.md §2)", "tissue"),
    _p("cell_reactivation_per_h", "1/h", 0.05, 0.002, 0.5, (LN, 0.6),
       "quiescent cells reactivate after emptying (DESIGN.md §2)", "tissue"),
    _p("cell_proliferation_decline_h", "h", 720.0, 72, 5000, (LN, 0.5),
       "time constant of the postpartum waning of secretory-cell proliferation (Dijkstra et al. "
       "1997: proliferation mu_T exp(-m t) after parturition); human: growth over the first "
       "weeks (intake rises to ~1 month: Neville 1988)", "tissue"),
    _p("cell_proliferation_late_fraction", "1", 0.3, 0.001, 0.95, (LG, 1.0),
       "fraction of the postpartum proliferation maintained in established lactation: "
       "renewal that lets a mother feeding on demand hold a plateau for months (Neville 1988; "
       "Dewey 1983: intake stable 1-6 months)", "tissue"),
    _p("cell_apoptosis_stasis_gain", "1", 2.0, 0.01, 20, (LN, 0.7),
       "milk left in the gland hastens secretory-cell loss (Neal & Thornley 1983): apoptosis "
       "x (1 + gain x fill); more frequent milking slows the post-peak decline", "tissue"),
    _p("cell_apoptosis_cytokine_per_h", "1/h", 0.0005, 0.00002, 0.02, (LN, 0.7),
       "inflammation (cytokines, neutrophil proteases) kills secretory cells: clinical mastitis "
       "lowers the quarter's yield for the rest of the lactation (Seegers 2003; Gröhn 2004)", "tissue"),
    _p("secretory_maturation_at_delivery", "1", 0.95, 0.2, 0.999, (LG, 0.8),
       "secretory activity per cell at delivery relative to a mature cell; human milk output "
       "rises with the cell pool and appetite, so near 1 (reasoning)", "tissue"),
    _p("secretory_maturation_tau_h", "h", 240.0, 24, 2000, (LN, 0.5),
       "time constant of the rise of activity per cell after parturition (Capuco 2001: the "
       "rise to peak yield is mostly activity per cell)", "tissue"),
    _p("secretory_activity_decline_h", "h", 40000.0, 2000, 2e5, (LN, 0.6),
       "time constant of the slow decline of activity per cell in established lactation "
       "(Boutinaud 2004; Capuco 2003); in women on-demand feeding holds output for months "
       "(Neville 1988), so it is long", "tissue"),
    _p("lactose_capacity_at_delivery", "1", 0.01, 0.001, 0.3, (LG, 0.8),
       "alpha-lactalbumin / lactose synthase at delivery: pre-colostrum lactose is low "
       "(Kulski & Hartmann 1981)", "tissue"),
    _p("lactose_capacity_tau_h", "h", 18.0, 2, 60, (LN, 0.4),
       "alpha-lactalbumin / lactose synthase induction after STAT5 (seeds 000, 001)", "tissue"),
    # --- synthesis & composition ------------------------------------------------------
    _p("lactose_vmax_mmol_h", "mmol/h per gland", 12.0, 1, 40, (LN, 0.4),
       "maximal lactose synthesis of a normal gland; 800 mL/day at 70 g/L needs "
       "~3.4 mmol/h per breast at partial FIL inhibition", "synthesis"),
    _p("secreted_lactose_mmol_l", "mmol/L", 205.0, 150, 260, (LN, 0.08),
       "osmotic coupling: lactose of the transcellular aqueous phase ~70 g/L "
       "(Hartmann & Kulski 1978: 70.3 g/L)", "synthesis"),
    _p("secreted_sodium_mmol_l", "mmol/L", 4.0, 0.5, 12, (LN, 0.4),
       "transcellular sodium; mature milk 4-8 mmol/L (Hartmann & Kulski 1978; Stolley 1981)", "synthesis"),
    _p("secreted_potassium_mmol_l", "mmol/L", 15.0, 8, 25, (LN, 0.2),
       "mature milk potassium 11-15 mmol/L (Chonnam 1982; Hartmann & Kulski 1978)", "synthesis"),
    _p("secreted_chloride_mmol_l", "mmol/L", 11.0, 4, 25, (LN, 0.3),
       "mature milk chloride ~10-12 mmol/L (reasoning: Na + K - anions)", "synthesis"),
    _p("secreted_citrate_mmol_l", "mmol/L", 10.0, 1, 20, (LN, 0.3),
       "Kent 1992: diffusible citrate 5.06 mmol/L on day 4", "synthesis"),
    _p("secreted_protein_g_l", "g/L", 8.0, 3, 15, (LN, 0.2),
       "casein + whey secreted with the aqueous phase in mature milk: 8.1 g/L at months 2-3 "
       "(Stolley 1981), 8-9 g/L by 6 months (Lonnerdal 1976; Mitoulas 2002)", "synthesis"),
    _p("transcytosis_protein_g_h", "g/h per gland", 0.002, 0.001, 0.1, (LN, 0.5),
       "sIgA transcytosis, volume-independent: makes colostrum protein 15-20 g/L "
       "(seed 000; Stolley 1981 week 1 15.7 g/L)", "synthesis"),
    _p("colostral_protein_excess", "1", 0.25, 0.0, 5.0, ("normal", 0.4),
       "colostral proteins (sIgA, lactoferrin) enrich the secreted phase while the "
       "progesterone brake is on: protein 15-20 g/L on days 1-2 (seed 000; Stolley 1981)", "synthesis"),
    _p("secreted_fat_g_l", "g/L", 50.0, 15, 70, (LN, 0.2),
       "Michaelsen 1994: median milk fat 39.2 g/L", "synthesis"),
    _p("colostrum_fat_fraction", "1", 0.5, 0.05, 0.95, (LG, 0.8),
       "colostrum is lower in fat than mature milk (seed 000)", "synthesis"),
    _p("preterm_protein_gain", "1", 0.3, 0.0, 1.5, ("normal", 0.15),
       "preterm milk is higher in protein (seed 000)", "synthesis"),
    _p("protein_early_excess", "1", 0.6, 0.0, 3.0, ("normal", 0.3),
       "whey proteins (lactoferrin, sIgA) of early milk above the mature level, declining over "
       "months: protein ~15.7 g/L in week 1, ~12 g/L at 2 weeks, 8.1 g/L at months 2-3 "
       "(Stolley 1981; Lonnerdal 1976)", "synthesis"),
    _p("protein_early_decline_h", "h", 600.0, 100, 4000, (LN, 0.4),
       "time constant of the decline of early-milk protein (Lonnerdal 2003: most of the fall "
       "by 2-3 months)", "synthesis"),
    _p("fat_per_cell_g_h", "g/h per gland", 0.05, 0.001, 2.0, (LN, 0.7),
       "milk fat made per secretory cell independently of the lactose-driven water: milk is "
       "richer in fat when each cell makes less water (reasoning; human milk fat varies little "
       "with volume, Mitoulas 2002)", "synthesis"),
    _p("hindmilk_fat_gradient", "1", 3.0, 0.1, 8.0, (LN, 0.4),
       "fat globules held in the alveoli leave as the gland empties: fat removed per fat "
       "stored ~ exp(-gradient x fill); fat rises from ~22 g/L (full) to 60-100 g/L (emptied) "
       "within a feed (Daly 1993: f = 21.6 + 9.4 d + 71.0 d^2; Mizuno 2009: creamatocrit "
       "3.7 -> 8.6 %)", "synthesis"),
    _p("cytokine_synthesis_inhibition", "1", 1.0, 0.05, 20, (LN, 0.6),
       "inflammation lowers lactose synthesis (TNF-alpha, LPS lower alpha-lactalbumin): "
       "synthesis / (1 + k x cytokine); subclinical mastitis costs ~0.4-0.5 kg/day per "
       "doubling of SCC (Hortet & Seegers 1998)", "synthesis"),
    _p("fil_half_fill", "1", 0.5, 0.05, 3, (LN, 0.4),
       "FIL exposure (amount / storage capacity) giving half inhibition; FIL concentration "
       "in the lumen rises with stored milk (seeds 000-002)", "synthesis"),
    _p("pressure_at_capacity_mmhg", "mmHg", 15.0, 3, 60, (LN, 0.4),
       "intramammary pressure of a full gland (reasoning, dairy literature 10-40 mmHg)", "synthesis"),
    _p("pressure_exponent", "1", 3.0, 1, 8, (LN, 0.3),
       "pressure rises steeply as the gland fills (DESIGN.md §2)", "synthesis"),
    _p("pressure_half_inhibition_mmhg", "mmHg", 18.0, 3, 80, (LN, 0.4),
       "pressure that halves secretion (seed 002: mechanical inhibition)", "synthesis"),
    # --- tight junctions ------------------------------------------------------------
    _p("tj_open_at_delivery", "1", 0.3, 0.05, 0.99, (LG, 0.8),
       "colostrum has plasma-like sodium: junctions leaky before activation (seed 000)", "tight_junctions"),
    _p("tj_floor", "1", 0.02, 0.0005, 0.3, (LG, 0.8),
       "residual leak of sealed junctions", "tight_junctions"),
    _p("tj_tau_h", "h", 8.0, 2, 72, (LN, 0.4),
       "junction closure over hours once progesterone falls; sodium falls before volume "
       "rises (DESIGN.md §2)", "tight_junctions"),
    _p("tj_permeability_l_h", "L/h per gland", 0.003, 0.0002, 0.05, (LN, 0.5),
       "paracellular exchange of a fully open gland (sets weaning/mastitis sodium rise)", "tight_junctions"),
    _p("tj_protein_sieving", "1", 0.01, 0.002, 0.5, (LG, 0.8),
       "fraction of plasma protein passing open junctions", "tight_junctions"),
    _p("cytokine_tj_half", "1", 0.3, 0.03, 3, (LN, 0.5),
       "cytokine level that half-opens the tight junctions in mastitis (seed 003: sodium rises "
       "in mastitis)", "tight_junctions"),
    _p("milk_resorption_per_h", "1/h", 0.03, 0.002, 0.3, (LN, 0.6),
       "resorption of stored water and small solutes by an involuting gland, rate x STAT3^2: "
       "the unnursed breast stays engorged for days, then its volume falls over days to weeks "
       "(Hartmann & Kulski 1978; Neville 1991 weaning: sodium and protein rise, lactose "
       "falls)", "tight_junctions"),
    _p("plasma_sodium_mmol_l", "mmol/L", 140.0, 130, 150, (LN, 0.03),
       "plasma sodium (reference range 135-145 mmol/L): paracellular target", "tight_junctions"),
    _p("plasma_potassium_mmol_l", "mmol/L", 4.5, 3.5, 5.5, (LN, 0.08),
       "plasma potassium (reference range 3.5-5.0 mmol/L)", "tight_junctions"),
    _p("plasma_chloride_mmol_l", "mmol/L", 104.0, 95, 112, (LN, 0.03),
       "plasma chloride (reference range 98-107 mmol/L)", "tight_junctions"),
    _p("plasma_citrate_mmol_l", "mmol/L", 0.1, 0.05, 0.3, (LN, 0.3),
       "plasma citrate ~0.1 mmol/L", "tight_junctions"),
    _p("plasma_protein_g_l", "g/L", 70.0, 55, 85, (LN, 0.08),
       "plasma total protein (reference range 60-80 g/L)", "tight_junctions"),
    _p("plasma_osmolarity_mmol_l", "mmol/L", 290.0, 270, 310, (LN, 0.03),
       "plasma osmolality ~285-295 mOsm/kg: water follows solutes isosmotically", "tight_junctions"),
    # --- storage & removal ----------------------------------------------------------
    _p("storage_capacity_ml", "mL per gland", 210.0, 74, 600, (LN, 0.3),
       "Kent 1999: 209.9 +/- 11.0 mL per breast (range 74-382)", "removal"),
    _p("removal_rate_per_h", "1/h", 6.0, 0.5, 30, (LN, 0.4),
       "first-order removal of ejected milk by an effective latch; leaves ~10-15% residual "
       "(Dewey 1991: residual 109 of 914 g/day)", "removal"),
    _p("pump_rate_per_h", "1/h", 5.0, 0.5, 30, (LN, 0.4),
       "first-order removal by an electric pump", "removal"),
    _p("initial_milk_ml", "mL per gland", 3.0, 0.2, 30, (LN, 0.5),
       "colostrum present in the gland at delivery", "removal"),
    _p("initial_milk_lactose_mmol_l", "mmol/L", 120.0, 40, 200, (LN, 0.3),
       "pre-colostrum lactose at delivery ~41 g/L (Kulski & Hartmann 1981)", "removal"),
    _p("initial_milk_sodium_mmol_l", "mmol/L", 60.0, 20, 120, (LN, 0.3),
       "colostrum sodium at delivery, plasma-like leak (Kulski & Hartmann 1981; seed 000)", "removal"),
    _p("initial_milk_potassium_mmol_l", "mmol/L", 20.0, 10, 40, (LN, 0.3),
       "colostrum potassium at delivery (Kulski & Hartmann 1981)", "removal"),
    _p("initial_milk_chloride_mmol_l", "mmol/L", 50.0, 20, 100, (LN, 0.3),
       "colostrum chloride at delivery (Kulski & Hartmann 1981)", "removal"),
    _p("initial_milk_citrate_mmol_l", "mmol/L", 0.25, 0.05, 2, (LN, 0.5),
       "colostrum citrate on day 1 (Kent 1992)", "removal"),
    _p("initial_milk_protein_g_l", "g/L", 20.0, 8, 60, (LN, 0.3),
       "colostrum protein 15-20 g/L (seed 000)", "removal"),
    _p("initial_milk_fat_g_l", "g/L", 20.0, 5, 60, (LN, 0.3),
       "colostrum is lower in fat than mature milk (seed 000)", "removal"),
    # --- infant ----------------------------------------------------------------------
    _p("infant_stomach_birth_ml", "mL", 7.0, 2, 40, (LN, 0.4),
       "newborn gastric capacity ~5-7 mL on day 1 (reasoning); with colostrum supply keeps "
       "day-1 intake < 100 mL (Saint 1984: 37 g; Arthur 1989: 82 mL)", "infant"),
    _p("infant_stomach_week1_gain_ml", "mL", 35.0, 10, 150, (LN, 0.3),
       "fast growth of appetite over the first week: intake ~500-700 mL by day 5 "
       "(Saint 1984: 705 g; Arthur 1989: 556 mL at 144 h)", "infant"),
    _p("infant_stomach_week1_tau_h", "h", 60.0, 12, 300, (LN, 0.3),
       "time constant of the first-week appetite growth", "infant"),
    _p("infant_stomach_mature_ml", "mL", 65.0, 50, 300, (LN, 0.3),
       "gastric capacity reached over months; intake 650-950 mL/day from 1 to 6 months "
       "(Dewey & Lonnerdal 1983; Michaelsen 1994; Cox 1996)", "infant"),
    _p("infant_stomach_growth_h", "h", 1500.0, 200, 8000, (LN, 0.4),
       "time constant of the slow appetite growth over months", "infant"),
    _p("infant_gastric_halflife_min", "min", 50.0, 15, 150, (LN, 0.3),
       "gastric emptying half-time of breast milk ~45-60 min (reasoning)", "infant"),
    _p("complementary_ramp_h", "h", 1440.0, 100, 8000, (LN, 0.5),
       "time constant over which other food takes its share of the infant's energy after it "
       "starts (WHO 1998: complementary food ~200 kcal/day at 6-8 months, ~550 at 12-23 "
       "months; Dewey 1991: intake falls after solids are introduced)", "infant"),
    # --- inflammation ---------------------------------------------------------------
    _p("bacteria_growth_per_h", "1/h", 0.4, 0.05, 2, (LN, 0.4),
       "S. aureus doubling ~1-2 h in stagnant milk (seed 003)", "inflammation"),
    _p("bacteria_max", "1e6 CFU per gland", 1000.0, 10, 1e5, (LN, 1.0),
       "bacterial carrying capacity of a gland", "inflammation"),
    _p("neutrophil_kill_per_h", "1/h per unit", 0.3, 0.02, 3, (LN, 0.5),
       "neutrophil killing of bacteria (seed 003)", "inflammation"),
    _p("antibiotic_kill_per_h", "1/h", 0.25, 0.02, 2, (LN, 0.5),
       "antibiotic response within 48-72 h (seed 003)", "inflammation"),
    _p("tlr_half_bacteria", "1e6 CFU", 1.0, 0.01, 100, (LN, 1.0),
       "TLR -> NF-kB half-activation bacterial load", "inflammation"),
    _p("cytokine_tau_h", "h", 3.0, 0.5, 24, (LN, 0.4),
       "cytokine response time", "inflammation"),
    _p("sterile_inflammation_gain", "1", 0.3, 0.0, 2.0, ("normal", 0.2),
       "engorgement alone gives mild sterile inflammation (seed 003)", "inflammation"),
    _p("neutrophil_tau_h", "h", 8.0, 1, 48, (LN, 0.4),
       "neutrophil recruitment and clearance time", "inflammation"),
    _p("abscess_rate_per_h", "1/h", 0.01, 0.0005, 0.2, (LN, 0.6),
       "undrained infection walls off over days (seed 003)", "inflammation"),
    _p("abscess_healing_per_h", "1/h", 0.002, 0.0002, 0.02, (LN, 0.6),
       "resolution of a walled-off focus once bacteria are cleared: weeks (reasoning)", "inflammation"),
    _p("innate_clearance_per_h", "1/h", 0.15, 0.02, 1.0, (LN, 0.5),
       "innate antimicrobial clearance (lactoferrin, lysozyme, sIgA) that clears small inocula in "
       "drained glands before neutrophils are recruited (reasoning)", "inflammation"),
    _p("abscess_shielding", "1", 0.9, 0.1, 0.999, (LG, 0.8),
       "an abscess shields bacteria from drainage, neutrophils and antibiotics", "inflammation"),
    _p("fever_max_c", "degC", 2.5, 0.5, 4, (LN, 0.3),
       "maximal fever above 37 degC", "inflammation"),
    _p("fever_half_cytokine", "1", 0.5, 0.05, 3, (LN, 0.5),
       "systemic cytokine load for half-maximal fever", "inflammation"),
    _p("fever_tau_h", "h", 2.0, 0.3, 12, (LN, 0.4),
       "fever follows cytokines within hours", "inflammation"),
    _p("cytokine_duct_swelling", "1", 2.0, 0.1, 10, (LN, 0.5),
       "inflamed tissue narrows the ducts: removal resistance 1 + k x cytokine (seed 003: "
       "engorgement -> blocked duct -> mastitis)", "inflammation"),
    _p("initial_somatic_cell_k_ml", "1e3 cells/mL", 1000.0, 100, 1e4, (LN, 0.6),
       "colostrum is rich in leucocytes (~1e6 cells/mL; Hassiotou 2013)", "inflammation"),
    _p("somatic_cell_shedding_k_ml_h", "1e3 cells/h per mL capacity", 2.5, 0.1, 50, (LN, 0.6),
       "healthy shedding of leucocytes and epithelial cells into the stored milk, per mL of "
       "storage capacity: gives ~30e3 cells/mL in healthy human milk and ~50-100e3 in a "
       "healthy quarter (Hassiotou 2013; Harmon 1994); diluted by the milk, so SCC rises as "
       "yield falls", "inflammation"),
    _p("somatic_cell_recruitment_k_ml_h", "1e3 cells/h per mL capacity", 150.0, 5, 3000, (LN, 0.6),
       "neutrophil migration into the milk at full recruitment: mastitic milk > 1e6 cells/mL "
       "(Harmon 1994; seed 003)", "inflammation"),
    _p("somatic_cell_clearance_per_h", "1/h", 0.02, 0.002, 0.2, (LN, 0.6),
       "loss of somatic cells in stored milk (neutrophil lifespan in milk ~1-2 days; Paape "
       "2003)", "inflammation"),
)
# fmt: on

PARAMETERS: dict[str, ParamSpec] = {spec.name: spec for spec in PARAMETER_TABLE}
if len(PARAMETERS) != len(PARAMETER_TABLE):  # pragma: no cover - guards the table itself
    raise RuntimeError("duplicate parameter names in PARAMETER_TABLE")

# Species presets: overrides of nominal values, each with its reasoning.
SPECIES_PRESETS: dict[str, dict[str, tuple[float, str]]] = {
    "human": {},
    "cow": {
        "storage_capacity_ml": (15000.0, "effective storage of a quarter (cistern + alveoli) before "
                                         "pressure and FIL slow secretion: the secretion rate stays "
                                         "constant for ~16-18 h after milking (Davis 1999; "
                                         "Stelwagen 2001), so a 12-h interval is not stasis"),
        "lactose_vmax_mmol_h": (165.0, "30-40 kg milk/day over 4 quarters at 4.8% lactose; with "
                                       "near-complete machine removal and ample storage (this "
                                       "preset) the quarters secrete close to capacity"),
        "secreted_lactose_mmol_l": (150.0, "bovine milk lactose ~4.8-5.0 % (milkman data)"),
        "removal_rate_per_h": (12.0, "machine or hand milking empties a quarter in minutes"),
        "pump_rate_per_h": (20.0, "an 8-min machine milking removes ~85 % of the stored milk "
                                  "(residual milk ~10-20 %, Bruckmaier 2005)"),
        "initial_milk_ml": (1500.0, "colostrum in the quarter at calving"),
        "tj_permeability_l_h": (0.1, "paracellular exchange scales with the epithelium of a quarter "
                                     "(~50x a human breast's secretory tissue): mastitic quarters "
                                     "lose lactose and gain sodium (Auldist 1995; Stelwagen 1997)"),
        # whole-lactation curve (Dijkstra 1997 cell pool; Capuco 2001/2003): chosen together so
        # the nominal Holstein peaks at 40-70 DIM with yield at 300 DIM ~50-75 % of peak
        # (Wood 1967; Dijkstra 1997), and fat and protein % are lowest near peak
        "cell_proliferation_per_h": (0.003, "postpartum proliferation of the cell pool (Dijkstra 1997's "
                                            "mu_T ~ 0.07/day; Capuco 2001: little net cell gain "
                                            "after calving, most of the rise is activity per cell)"),
        "cell_proliferation_decline_h": (700.0, "Dijkstra 1997: proliferation wanes with m ~ 0.03/day"),
        "cell_proliferation_late_fraction": (0.02, "cows: little renewal in established lactation; "
                                                   "cell number falls ~50 % by late lactation "
                                                   "(Capuco 2001)"),
        "cell_apoptosis_basal_per_h": (2.2e-5, "persistency: yield falls ~6-8 %/month after peak "
                                                "(Capuco 2003; Dijkstra 1997 lambda ~ 0.002/day)"),
        "cell_apoptosis_stasis_gain": (15.0, "milk stasis hastens cell loss (Neal & Thornley 1983); 3x "
                                            "milking raises yield ~10-15 % (Erdman & Varner 1995)"),
        "secretory_maturation_at_delivery": (0.55, "activity per cell rises after calving: yield at 5 DIM "
                                                   "~70 % of peak (Capuco 2001; Wood 1967 curves)"),
        "secretory_maturation_tau_h": (600.0, "places the peak at 40-70 DIM with the cell pool"),
        "secretory_activity_decline_h": (20000.0, "activity per cell declines after peak (Boutinaud 2004); "
                                                  "with cell loss gives the Holstein persistency and the "
                                                  "late-lactation rise of fat and protein %"),
        "protein_early_excess": (0.1, "bovine colostrum is replaced by milk within days; protein % "
                                      "falls over the first weeks (Schutz 1990)"),
        "protein_early_decline_h": (240.0, "bovine transition milk lasts ~1-2 weeks"),
        "fat_per_cell_g_h": (6.5, "fat made per cell independently of the lactose-driven water: fat % "
                                  "highest early and late, lowest near peak yield (Schutz 1990; "
                                  "Stanton 1992)"),
        "secreted_fat_g_l": (24.0, "with fat_per_cell_g_h: bovine fat ~3.5-4.0 % (milkman data)"),
        "secreted_protein_g_l": (17.0, "with transcytosis_protein_g_h: bovine protein ~3.0-3.5 %"),
        "transcytosis_protein_g_h": (5.0, "protein made per cell (casein) independently of the "
                                          "lactose-driven water: protein % lowest near peak, rising to "
                                          "~3.6 % by 300 DIM (Schutz 1990)"),
        "infant_stomach_week1_gain_ml": (1.0, "milking machine: no appetite limit"),
        "infant_stomach_mature_ml": (1e6, "milking machine: no appetite limit"),
        "infant_stomach_birth_ml": (1e6, "milking machine: no appetite limit"),
        "progesterone_term_ng_ml": (0.6, "plasma progesterone at calving (t = 0): luteolysis takes it "
                                         "from 7.6 +/- 0.9 ng/mL 2 days before calving to 3.0 at -1 day "
                                         "and 0.6 +/- 0.1 at parturition (Smith, Edgerton, Hafs & "
                                         "Convey 1973, J Anim Sci), so secretory activation is not "
                                         "braked after calving"),
        "progesterone_basal_ng_ml": (0.5, "stays near 0.6 ng/mL for 9 days after calving (Smith 1973); "
                                          "0.4-1.6 ng/mL until the first oestrus (Coetzer 1978)"),
        "prolactin_basal_term_ng_ml": (50.0, "pre-milking serum prolactin of lactating cows 35 (Oct-Mar) "
                                             "to 74 ng/mL (Apr-Sep) (Koprowski & Tucker 1973); 28 +/- 9 "
                                             "ng/mL before milking in early lactation (study 'Presence of "
                                             "the calf affects secretion of prolactin in cows')"),
        "prolactin_basal_late_ng_ml": (35.0, "Koprowski & Tucker 1973: 35 ng/mL in winter; no fall of "
                                             "pre-milking prolactin with stage of lactation reported"),
        "prolactin_secretion_fold_early": (150.0, "milking releases prolactin: on average 19-33 ng/mL "
                                                  "over a lactation (summer / winter), at most +77 ng/mL at "
                                                  "week 8 (Koprowski & Tucker 1973); peak 189 +/- 34 ng/mL "
                                                  "4-20 min after the start of milking early in lactation "
                                                  "(Johke 1970, Endocrinol Jpn 17:393). With the human "
                                                  "dopamine kinetics (dopamine_tau_min 20) an 8-min milking "
                                                  "then raises plasma prolactin by only ~10-13 ng/mL by its "
                                                  "end: the cow's release stays smaller than measured"),
        "prolactin_secretion_fold_late": (1.1, "no prolactin release at milking by week 32 (Koprowski & "
                                               "Tucker 1973)"),
        "prolactin_basal_decline_h": (1500.0, "the milking-induced release is largest at week 8 and gone "
                                              "by week 32 (Koprowski & Tucker 1973)"),
        "tj_open_at_delivery": (0.1, "the junctions close around parturition in ruminants, as "
                                     "progesterone falls before it (Linzell & Peaker 1974, goat); they "
                                     "reopen under milk stasis (after ~18 h in cows, Stelwagen 1997), "
                                     "as `stasis_fill_half` lets them"),
    },
}
SPECIES_PRESETS["goat"] = {
    "storage_capacity_ml": (1500.0, "goat half-udder 1-2 L (reasoning)"),
    "lactose_vmax_mmol_h": (40.0, "2-4 kg milk/day over 2 glands"),
    "secreted_lactose_mmol_l": (130.0, "goat milk lactose ~4.4 %"),
    "removal_rate_per_h": (12.0, "machine or hand milking"),
    "pump_rate_per_h": (12.0, "machine milking"),
    "initial_milk_ml": (200.0, "colostrum at kidding"),
    "infant_stomach_week1_gain_ml": (1.0, "milking machine: no appetite limit"),
    "infant_stomach_mature_ml": (1e6, "milking machine: no appetite limit"),
    "infant_stomach_birth_ml": (1e6, "milking machine: no appetite limit"),
    "progesterone_term_ng_ml": (1.5, "plasma progesterone at kidding: falls over the last 7 days of "
                                     "pregnancy to 1.5 +/- 0.2 ng/mL at parturition (singletons; 2.2 "
                                     "+/- 0.4 with twins) (study 'Progesterone concentration in the "
                                     "peripheral plasma of pregnant goats', 21 goats)"),
    "progesterone_basal_ng_ml": (0.5, "no corpus luteum until the first postpartum ovulation (reasoning, "
                                      "as in the cow: Smith 1973)"),
    "tj_open_at_delivery": (0.1, "the junctions become impermeable around parturition (Linzell & "
                                 "Peaker 1974)"),
}

# Species bounds: where a preset's value lies outside the table's (human) bounds, the species'
# own plausible range (used for bounds checks, priors and MAP bounds of that species).
SPECIES_BOUNDS: dict[str, dict[str, tuple[float, float]]] = {
    "human": {},
    "cow": {
        "storage_capacity_ml": (3000.0, 40000.0),  # a quarter holds ~5-15 L at milking
        "lactose_vmax_mmol_h": (20.0, 400.0),  # 10-60 kg/day over 4 quarters
        "secreted_lactose_mmol_l": (100.0, 200.0),  # bovine lactose 4.0-5.5 %
        "secreted_protein_g_l": (8.0, 40.0),  # with the per-cell part: bovine protein 2.5-4.5 %
        "transcytosis_protein_g_h": (0.5, 20.0),  # per-cell protein of a quarter
        "fat_per_cell_g_h": (0.5, 25.0),  # per-cell fat of a quarter
        "tj_permeability_l_h": (0.005, 1.0),  # a quarter's epithelium
        "initial_milk_ml": (100.0, 5000.0),
        "progesterone_term_ng_ml": (0.1, 20.0),  # no placental source at calving
        "prolactin_basal_term_ng_ml": (10.0, 300.0),
        "prolactin_secretion_fold_late": (1.0, 20.0),
        "prolactin_secretion_fold_early": (5.0, 1000.0),
        # machine milking: appetite terms switched off (not estimable)
        "infant_stomach_week1_gain_ml": (0.1, 10.0),
        "infant_stomach_mature_ml": (1e5, 1e7),
        "infant_stomach_birth_ml": (1e5, 1e7),
    },
    "goat": {
        "storage_capacity_ml": (300.0, 5000.0),
        "progesterone_term_ng_ml": (0.1, 20.0),  # no placental source at kidding
        "lactose_vmax_mmol_h": (5.0, 150.0),  # 1-6 kg/day over 2 glands
        "secreted_lactose_mmol_l": (100.0, 200.0),  # goat lactose 3.8-5 %
        "initial_milk_ml": (20.0, 1000.0),
        "infant_stomach_week1_gain_ml": (0.1, 10.0),
        "infant_stomach_mature_ml": (1e5, 1e7),
        "infant_stomach_birth_ml": (1e5, 1e7),
    },
}


def species_spec(name: str, species: str = "human") -> ParamSpec:
    """The table row of `name` with the species' nominal value and bounds."""
    if species not in SPECIES_PRESETS:
        raise ValueError(f"unknown species {species!r}; expected one of {sorted(SPECIES_PRESETS)}")
    if name not in PARAMETERS:
        raise ValueError(f"unknown model parameter {name!r}; see `lactojax params`")
    spec = PARAMETERS[name]
    nominal = SPECIES_PRESETS[species].get(name, (spec.nominal, ""))[0]
    lower, upper = SPECIES_BOUNDS[species].get(name, (spec.lower, spec.upper))
    if (nominal, lower, upper) == (spec.nominal, spec.lower, spec.upper):
        return spec
    return dataclasses.replace(spec, nominal=float(nominal), lower=float(lower), upper=float(upper))


for _species, _preset in SPECIES_PRESETS.items():  # every preset value inside its species' bounds
    for _name in _preset:
        species_spec(_name, _species)  # ParamSpec.__post_init__ raises otherwise


class Params(eqx.Module):
    """Named model parameters (a pytree of scalars or batched arrays).

    Access as attributes, `params.prolactin_halflife_min`, or by name, `params["..."]`.
    Units are those of `PARAMETER_TABLE`.
    """

    values: dict[str, jnp.ndarray]

    def __getattr__(self, name: str):
        # Only called for names that are not dataclass fields.
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"unknown model parameter {name!r}") from None

    def __getitem__(self, name: str):
        return self.values[name]

    @classmethod
    def nominal(cls, species: str = "human", **overrides: float) -> "Params":
        """Nominal parameters of a species preset, with optional overrides by name."""
        if species not in SPECIES_PRESETS:
            raise ValueError(
                f"unknown species {species!r}; expected one of {sorted(SPECIES_PRESETS)}"
            )
        values = {spec.name: spec.nominal for spec in PARAMETER_TABLE}
        values.update({k: v for k, (v, _) in SPECIES_PRESETS[species].items()})
        return cls.from_mapping(values).replace(**overrides)

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> "Params":
        unknown = set(values) - set(PARAMETERS)
        if unknown:
            raise ValueError(f"unknown model parameter(s): {sorted(unknown)}")
        missing = set(PARAMETERS) - set(values)
        if missing:
            raise ValueError(f"missing model parameter(s): {sorted(missing)}")
        return cls({k: jnp.asarray(values[k], dtype=float) for k in PARAMETERS})

    def replace(self, **overrides: float) -> "Params":
        unknown = set(overrides) - set(PARAMETERS)
        if unknown:
            raise ValueError(
                f"unknown model parameter(s): {sorted(unknown)}; see `lactojax params`"
            )
        new = dict(self.values)
        new.update({k: jnp.asarray(v, dtype=float) for k, v in overrides.items()})
        return Params(new)

    def subset_vector(self, names: Iterable[str]) -> jnp.ndarray:
        return jnp.stack([self.values[n] for n in names], axis=-1)

    def with_vector(self, names: Iterable[str], vector: jnp.ndarray) -> "Params":
        names = list(names)
        new = dict(self.values)
        for i, name in enumerate(names):
            new[name] = vector[..., i]
        return Params(new)


def check_within_bounds(values: Mapping[str, float], species: str = "human") -> None:
    """Raise a ValueError naming every parameter outside its bounds (table bounds, or the
    species' own where `SPECIES_BOUNDS` gives them)."""
    bad = []
    for name, value in values.items():
        spec = species_spec(name, species)
        v = float(np.asarray(value))
        if not (spec.lower <= v <= spec.upper):
            bad.append(f"{name}={v:g} (expected {spec.lower:g} <= value <= {spec.upper:g} {spec.unit})")
    if bad:
        raise ValueError("parameter(s) outside bounds: " + "; ".join(bad))


def markdown_table() -> str:
    """The parameter table as Markdown (drives docs/parameters.md)."""
    lines = [
        "| name | group | units | nominal | bounds | prior | source / reasoning |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in PARAMETER_TABLE:
        lines.append(
            f"| `{s.name}` | {s.group} | {s.unit} | {s.nominal:g} | [{s.lower:g}, {s.upper:g}] "
            f"| {s.prior[0]}({s.prior[1]:g}) | {s.source} |"
        )
    for species, preset in SPECIES_PRESETS.items():
        if not preset:
            continue
        lines += ["", f"### Species preset: {species}", "",
                  "| name | units | value | bounds | reasoning |", "| --- | --- | --- | --- | --- |"]
        for name, (value, reason) in preset.items():
            sp = species_spec(name, species)
            lines.append(f"| `{name}` | {sp.unit} | {value:g} | [{sp.lower:g}, {sp.upper:g}] | {reason} |")
    return "\n".join(lines)
