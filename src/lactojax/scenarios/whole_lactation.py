"""Whole-lactation virtual experiments (issue 12): the cow's lactation curve and composition
over 305 days, milking frequency and persistency, somatic cells and yield, human milk over
the first year with complementary food, hindmilk, and an unnursed gland's involution and
restart. Criteria come from the literature; each cites its source.

Horizons: the cow scenarios share one 305-day, 4-quarter batch and the first-year scenario a
365-day batch, both on the default session solver (`core.settings_for`); the gland-gap and
hindmilk scenarios share the 42-day human batch of the registry on the detailed reference.
"""

from __future__ import annotations

import numpy as np

from lactojax.datasets.units import g_per_l_to_pct, milk_ml_to_kg
from lactojax.inputs import feed_schedule, make_inputs, milkings, profile, regular_feeds
from lactojax.observation import LACTOSE_G_PER_MMOL, MILK_DENSITY_G_ML
from lactojax.parameters import Params
from lactojax.scenarios import metrics as m
from lactojax.scenarios.core import Arm, Criterion, Panel, Scenario, ScenarioResult, Setup
from lactojax.scenarios.registry import BY_NAME, SCENARIOS, register
from lactojax.scenarios.schedules import rows

COW_DAYS = 305
YEAR = 365
GAP_DAYS = 42
TWICE = (5.0, 16.0)
THRICE = (5.0, 13.0, 21.0)


def _kg(ml):
    """mL of milk -> kg (the registry's conversion, `datasets.units.milk_ml_to_kg`)."""
    return milk_ml_to_kg(np.asarray(ml))


def _pct(g_l):
    """g/L -> % w/w (the registry's conversion, `datasets.units.g_per_l_to_pct`)."""
    return g_per_l_to_pct(np.asarray(g_l))


def _cow_arm(label: str, clocks, note: str, **profile_kw) -> Arm:
    key = f"cow/{label}/{COW_DAYS}d"
    inputs = make_inputs(milkings(COW_DAYS, clocks, n_glands=4), COW_DAYS, profile(n_glands=4, **profile_kw))
    return Arm(label, Params.nominal("cow"), inputs, key=key, note=note)


def _cow_2x() -> Arm:
    return _cow_arm("cow_2x", TWICE, "Holstein preset, all quarters milked at 05:00 and 16:00")


def _cow_3x() -> Arm:
    return _cow_arm("cow_3x", THRICE, "milked at 05:00, 13:00 and 21:00")


def _curve(a) -> dict:
    """Daily yield (kg), its peak (from 5 DIM: the colostral days are not the peak)."""
    y = _kg(a.daily["milk_removed_ml"])
    peak_day = int(np.argmax(y[5:])) + 5
    return {"yield": y, "peak_day": peak_day, "peak": float(y[peak_day])}


# --------------------------------------------------------------------------------------
# 20. The cow's lactation curve, and milking frequency
# --------------------------------------------------------------------------------------


def _analyse_cow_curve(r: ScenarioResult) -> dict:
    two, three = _curve(r["cow_2x"]), _curve(r["cow_3x"])
    persistency = {k: c["yield"][300] / c["peak"] for k, c in (("2x", two), ("3x", three))}
    ratio = three["yield"] / two["yield"]
    return {
        "peak_dim": float(two["peak_day"]),
        "peak_yield_kg": two["peak"],
        "yield_300_over_peak": persistency["2x"],
        "yield_305d_kg": float(np.sum(two["yield"][:COW_DAYS])),
        "thrice_vs_twice_305d_ratio": float(np.sum(three["yield"]) / np.sum(two["yield"])),
        # weeks-long means: a single day's ratio carries the milking-time noise of each curve
        "thrice_over_twice_late_minus_early": float(np.mean(ratio[250:305]) - np.mean(ratio[30:61])),
    }


register(Scenario(
    number=20,
    name="cow_lactation_curve",
    title="Cow: the lactation curve over 305 days, and 3x vs 2x milking",
    description="Holstein preset, 4 quarters milked twice a day (05:00, 16:00) for 305 days, and "
                "the same cow milked three times a day (05:00, 13:00, 21:00). The cell pool "
                "proliferates after calving and declines as proliferation wanes (Dijkstra 1997), "
                "activity per cell matures over weeks (Capuco 2001).",
    seed="DESIGN.md §2b: \"A cow rises to a peak at about 40-70 days in milk and declines after "
         "(yield at 300 DIM about 50-75 % of peak); milking frequency changes the decline\".",
    seed_ref="Wood 1967; Dijkstra et al. 1997; Capuco et al. 2001/2003; Erdman & Varner 1995",
    build=lambda: Setup(COW_DAYS, (_cow_2x(), _cow_3x())),
    analyse=_analyse_cow_curve,
    criteria=(
        Criterion("peak_dim", "between", (40.0, 70.0),
                  "Holstein curves peak at 40-70 days in milk (Wood 1967; Dijkstra 1997)"),
        Criterion("yield_300_over_peak", "between", (0.5, 0.75),
                  "yield at 300 DIM is 50-75 % of peak (Holstein persistency; Dijkstra 1997)"),
        Criterion("peak_yield_kg", "between", (30.0, 50.0),
                  "Holstein peak yields ~30 kg/day (first lactation) to ~45-50 kg/day (later "
                  "lactations) (Wood 1967; Dijkstra 1997 fits)"),
        Criterion("yield_305d_kg", "between", (7000.0, 12000.0),
                  "Holstein 305-day yields ~7,000-12,000 kg (herd records; Dijkstra 1997)"),
        Criterion("thrice_vs_twice_305d_ratio", "between", (1.05, 1.20),
                  "3x vs 2x milking raises yield ~3.5 kg/day, ~+10-15 % (Erdman & Varner 1995 "
                  "meta-analysis; DePeters 1985 +6-15 %)"),
        Criterion("thrice_over_twice_late_minus_early", ">=", 0.01,
                  "more frequent milking slows the post-peak decline (DESIGN.md §2b; Neal & "
                  "Thornley 1983: stored milk hastens cell loss): the 3x/2x yield ratio over days "
                  "250-304 exceeds that over days 30-60 by >= 1 point"),
    ),
    panels=(
        Panel("yield_kg_per_day", "milk yield (kg/day)", source="dairy"),
        Panel("active_cells", "secretory cells (quarter 0)", source="hourly", gland=0),
    ),
    species="cow",
))


# --------------------------------------------------------------------------------------
# 21. Cow composition over lactation
# --------------------------------------------------------------------------------------


def _analyse_cow_composition(r: ScenarioResult) -> dict:
    a = r["cow_2x"]
    out = {}
    for k in ("fat", "protein"):
        pct = _pct(a.daily[f"milk_{k}_g_l"])
        low = int(np.argmin(pct[5:])) + 5
        out[f"{k}_lowest_dim"] = float(low)
        out[f"{k}_rise_to_300_pp"] = float(pct[300] - pct[low])
        out[f"{k}_pct_day10_minus_lowest_pp"] = float(pct[10] - pct[low])
        out[f"{k}_pct_lowest"] = float(pct[low])
    out["lactose_pct_day100"] = float(_pct(a.daily["milk_lactose_g_l"])[100])
    return out


register(Scenario(
    number=21,
    name="cow_composition",
    title="Cow: fat and protein % lowest near peak yield, rising through late lactation",
    description="The twice-milked cow of the lactation-curve scenario: fat and protein % of the "
                "milk removed each day over 305 days.",
    seed="DESIGN.md §2b: \"cow fat and protein % are lowest near peak and rise later\".",
    seed_ref="Schutz et al. 1990 (J Dairy Sci 73:484); Stanton et al. 1992; milkman data",
    build=lambda: Setup(COW_DAYS, (_cow_2x(),)),
    analyse=_analyse_cow_composition,
    criteria=(
        Criterion("fat_lowest_dim", "between", (20.0, 100.0),
                  "fat % is lowest near peak yield, ~4-12 weeks (Schutz 1990; Stanton 1992)"),
        Criterion("protein_lowest_dim", "between", (20.0, 100.0),
                  "protein % is lowest near peak yield, ~4-12 weeks (Schutz 1990; Stanton 1992)"),
        Criterion("fat_rise_to_300_pp", "between", (0.2, 1.2),
                  "fat % rises ~0.3-1.0 percentage points from its low to late lactation (Schutz 1990)"),
        Criterion("protein_rise_to_300_pp", "between", (0.2, 1.0),
                  "protein % rises ~0.3-0.6 percentage points from its low to late lactation "
                  "(Schutz 1990)"),
        Criterion("fat_pct_day10_minus_lowest_pp", ">=", 0.1,
                  "early-lactation fat % is above its low at peak (Schutz 1990)"),
        Criterion("fat_pct_lowest", "between", (3.0, 4.5), "Holstein fat ~3.3-4.2 % (milkman data)"),
        Criterion("protein_pct_lowest", "between", (2.7, 3.5), "Holstein protein ~2.9-3.5 % (milkman data)"),
        Criterion("lactose_pct_day100", "between", (4.5, 5.2), "Holstein lactose ~4.6-5.0 % (milkman data)"),
    ),
    panels=(
        Panel("fat_pct", "milk fat (%)", source="dairy"),
        Panel("protein_pct", "milk protein (%)", source="dairy"),
    ),
    species="cow",
))


# --------------------------------------------------------------------------------------
# 22. Somatic cells and yield in the herd
# --------------------------------------------------------------------------------------

SCC_DAY = 100
INFLAMED_QUARTER_LEVELS = (("subclinical_low", 0.05), ("subclinical_high", 0.2))


def _composite(a, d: int) -> tuple[float, float]:
    """Composite (all quarters) SCC (1e3/mL) and lactose % of the stored milk, mean of day d."""
    sl = slice(24 * d, 24 * (d + 1))
    vol = a.hourly["stored_milk_ml"][sl]
    scc = float(np.sum(a.hourly["somatic_cell_count"][sl] * vol) / np.sum(vol))
    return scc, float(np.mean(_pct(a.hourly["milk_lactose"][sl])))


def _analyse_scc(r: ScenarioResult) -> dict:
    healthy = r["cow_2x"]
    scc0, lact0 = _composite(healthy, SCC_DAY)
    y0 = _kg(healthy.daily["milk_removed_ml"])[SCC_DAY]
    out = {"healthy_scc_k_ml": scc0}
    for label, _ in INFLAMED_QUARTER_LEVELS:
        a = r[label]
        scc, lact = _composite(a, SCC_DAY)
        loss = y0 - _kg(a.daily["milk_removed_ml"])[SCC_DAY]
        out[f"{label}_scc_k_ml"] = scc
        out[f"{label}_loss_kg_per_doubling"] = float(loss / np.log2(scc / scc0))
        out[f"{label}_lactose_drop_pp"] = lact0 - lact
    return out


def _build_scc():
    arms = [_cow_2x()]
    for label, level in INFLAMED_QUARTER_LEVELS:
        arms.append(_cow_arm(label, TWICE, f"quarter 0 with a chronic inflammatory drive of {level}",
                             noninfective_inflammation=[level, 0.0, 0.0, 0.0]))
    return Setup(COW_DAYS, tuple(arms))


register(Scenario(
    number=22,
    name="scc_yield",
    title="Cow: high somatic cell counts come with lower yield and lactose %",
    description="The twice-milked cow, healthy or with a chronic (subclinical) inflammatory drive "
                "in one quarter. Composite SCC, daily yield and lactose % on day 100.",
    seed="seed 003 (mastitis); DESIGN.md §2b: \"inflammation raises SCC and sodium and lowers "
         "lactose % and yield\".",
    seed_ref="Hortet & Seegers 1998 (Prev Vet Med 37:1); Schukken 2003; Harmon 1994",
    build=_build_scc,
    analyse=_analyse_scc,
    criteria=(
        Criterion("healthy_scc_k_ml", "between", (20.0, 200.0),
                  "a healthy cow's composite SCC < 200e3/mL, typically 50-100e3 (Harmon 1994; "
                  "Schukken 2003)"),
        Criterion("subclinical_high_scc_k_ml", ">=", 200.0,
                  "subclinical mastitis: composite SCC above 200e3/mL (Schukken 2003)"),
        Criterion("subclinical_low_loss_kg_per_doubling", "between", (0.1, 1.2),
                  "each doubling of SCC costs ~0.4 (first lactation) to 0.6 kg/day (later) "
                  "(Hortet & Seegers 1998)"),
        Criterion("subclinical_high_loss_kg_per_doubling", "between", (0.1, 1.2),
                  "each doubling of SCC costs ~0.4-0.6 kg/day (Hortet & Seegers 1998)"),
        Criterion("subclinical_high_lactose_drop_pp", "between", (0.02, 0.5),
                  "lactose % falls as SCC rises (Auldist 1995; Schukken 2003: high-SCC milk "
                  "~0.1-0.3 points lower)"),
    ),
    panels=(
        Panel("scc_k_per_ml", "SCC of the day's milk (1e3 cells/mL)", source="dairy", log=True),
        Panel("yield_kg_per_day", "milk yield (kg/day)", source="dairy"),
        Panel("lactose_pct", "milk lactose (%)", source="dairy"),
    ),
    species="cow",
))


# --------------------------------------------------------------------------------------
# 23. Human milk over the first year, with and without complementary food
# --------------------------------------------------------------------------------------

SOLIDS_START_DAY = 183
# WHO 1998 (Complementary feeding of young children in developing countries, Table 10): energy
# from complementary food in industrialized countries ~200 kcal/day at 6-8 months and ~550 at
# 12-23 months, of needs ~615 and ~894 kcal/day, i.e. ~60 % once established.
SOLIDS_SHARE = 0.6


def _year_arm(label: str, note: str, **profile_kw) -> Arm:
    inputs = make_inputs(regular_feeds(YEAR, 10), YEAR, profile(**profile_kw))
    return Arm(label, Params.nominal(), inputs, key=f"human/{label}/{YEAR}d", note=note)


def _analyse_year(r: ScenarioResult) -> dict:
    a, s = r["exclusive"], r["solids_from_6_months"]
    intake = a.daily["milk_intake_ml"]
    protein = a.daily["milk_protein_g_l"]
    return {
        "intake_day30_ml": float(intake[30]),
        "intake_day90_ml": float(intake[90]),
        "intake_day180_ml": float(intake[180]),
        "intake_plateau_day180_over_day60": float(intake[180] / intake[60]),
        "protein_day13_g_l": float(protein[13]),
        "protein_months2_3_g_l": float(np.mean(protein[60:91])),
        "protein_day180_g_l": float(protein[180]),
        "solids_intake_day270_ml": float(s.daily["milk_intake_ml"][270]),
        "solids_intake_day364_ml": float(s.daily["milk_intake_ml"][364]),
    }


register(Scenario(
    number=23,
    name="first_year",
    title="Human: milk intake and protein over the first year; complementary food from 6 months",
    description="Term mother feeding 10 times a day for a year: exclusively, or with other food "
                "from day 183 taking ~60 % of the infant's energy once established (WHO 1998).",
    seed="DESIGN.md §2b: \"a mother feeding on demand holds a plateau for months\"; \"human "
         "protein falls to about 8-9 g/L by 6 months\"; \"the infant's demand over months, with "
         "complementary food as an input\".",
    seed_ref="Dewey & Lonnerdal 1983; Neville 1988; Cox 1996; Stolley 1981; Lonnerdal 1976; WHO 1998",
    build=lambda: Setup(YEAR, (
        _year_arm("exclusive", "exclusive breastfeeding, 10 feeds/day"),
        _year_arm("solids_from_6_months", "other food from day 183, ~60 % of energy once established",
                  complementary_start_h=SOLIDS_START_DAY * 24.0, complementary_share=SOLIDS_SHARE),
    )),
    analyse=_analyse_year,
    criteria=(
        Criterion("intake_day30_ml", "between", (600.0, 950.0),
                  "1-6 month intakes 673-896 mL/day (Dewey & Lonnerdal 1983), 708-742 (Cox 1996)"),
        Criterion("intake_day90_ml", "between", (600.0, 950.0), "DARLING 3 months: 818 mL/day (Dewey 1991)"),
        Criterion("intake_day180_ml", "between", (600.0, 950.0), "6 months: 742-896 mL/day (Cox 1996; Dewey 1983)"),
        Criterion("intake_plateau_day180_over_day60", "between", (0.9, 1.15),
                  "exclusive breastfeeding holds a plateau from 1 to 6 months (Neville 1988; "
                  "Cox 1996: 708 -> 742 mL/day)"),
        Criterion("protein_months2_3_g_l", "between", (7.3, 8.9), "Stolley 1981: 8.1 g/L at months 2-3 (+-10 %)"),
        Criterion("protein_day180_g_l", "between", (7.5, 9.0), "~8-9 g/L by 6 months (Lonnerdal 1976; Mitoulas 2002)"),
        Criterion("solids_intake_day270_ml", "between", (500.0, 730.0),
                  "WHO 1998: breast-milk intake ~616 g/day at 9-11 months (industrialized countries)"),
        Criterion("solids_intake_day364_ml", "between", (430.0, 670.0),
                  "WHO 1998: ~549 g/day at 12-23 months (industrialized countries)"),
    ),
    panels=(
        Panel("milk_intake_ml", "24-h milk intake (mL)"),
        Panel("milk_protein_g_l", "milk protein (g/L)"),
    ),
))


# --------------------------------------------------------------------------------------
# 24. Hindmilk: fat rises through a feed
# --------------------------------------------------------------------------------------

HIND_DAY = 20
THIRDS = 3


def _thirds_schedule(days: int):
    """10 feeds a day, each breast for 15 min, each side's session recorded as three 5-min
    sessions (so the fat of fore-, mid- and hindmilk can be read per session)."""
    start, dur, mask, eff, pump = rows(regular_feeds(days, 10))
    k = np.arange(THIRDS)
    starts = (start[:, None] + dur[:, None] * k / THIRDS).ravel()
    return feed_schedule(starts, np.repeat(dur / THIRDS, THIRDS), np.repeat(mask, THIRDS, axis=0),
                         np.repeat(eff, THIRDS), np.repeat(pump, THIRDS), source="feeds in thirds")


def _session_fat_g_l(a) -> np.ndarray:
    """Fat (g/L) of the milk removed in each session of an arm (NaN where none was)."""
    from lactojax import observation as obs

    s = obs.per_session(a.traj, a.params, a.inputs)
    return np.asarray(s["fat_pct"]) * 10.0 * MILK_DENSITY_G_ML


def _analyse_hindmilk(r: ScenarioResult) -> dict:
    a = r["feeds_in_thirds"]
    fat = _session_fat_g_l(a)
    start = np.asarray(a.inputs.feeds.start_h)
    first = np.nonzero((start >= 24.0 * HIND_DAY) & (start < 24.0 * (HIND_DAY + 1)))[0]
    first = first[: (len(first) // THIRDS) * THIRDS].reshape(-1, THIRDS)
    fore, hind = fat[first[:, 0]], fat[first[:, -1]]
    return {
        "foremilk_fat_g_l": float(np.mean(fore)),
        "hindmilk_fat_g_l": float(np.mean(hind)),
        "hind_over_fore_fat": float(np.mean(hind / fore)),
    }


register(Scenario(
    number=24,
    name="hindmilk",
    title="Human: milk fat rises through a feed as the breast empties",
    description="Term mother, 10 feeds a day; on day 20 each 15-min side is read as three 5-min "
                "parts: the fat of the milk removed in the first part (foremilk) and the last "
                "(hindmilk).",
    seed="DESIGN.md §2: \"Fat rises through a feed (hindmilk)\".",
    seed_ref="Daly et al. 1993 (Exp Physiol 78:741): f = 21.6 + 9.4 d + 71.0 d^2 with the degree of "
             "emptying d; Mizuno et al. 2009: creamatocrit 3.7 % fore, 8.6 % hind",
    build=lambda: Setup(GAP_DAYS, (
        Arm("feeds_in_thirds", Params.nominal(), make_inputs(_thirds_schedule(GAP_DAYS), GAP_DAYS),
            note="10 feeds/day, each side's 15 min read as three 5-min sessions"),
    )),
    analyse=_analyse_hindmilk,
    criteria=(
        Criterion("hind_over_fore_fat", "between", (1.5, 4.0),
                  "hindmilk ~2-3x foremilk fat (Mizuno 2009: 2.3x creamatocrit; Daly 1993)"),
        Criterion("foremilk_fat_g_l", "between", (15.0, 45.0), "Daly 1993: ~22-30 g/L from a full breast"),
        Criterion("hindmilk_fat_g_l", "between", (45.0, 110.0), "Daly 1993: 60-100 g/L as the breast empties"),
    ),
    panels=(Panel("milk_fat", "stored milk fat (g/L)", source="hourly", days=(HIND_DAY, HIND_DAY + 1)),),
))


# --------------------------------------------------------------------------------------
# 25. An unnursed breast: resorption and involution, and restart after a short gap
# --------------------------------------------------------------------------------------

GAP_START_DAY = 14


def _gap_schedule(gap_days: float | None):
    """10 feeds a day from both breasts; breast 1 is not fed from day 14 for `gap_days`
    (None: never again)."""
    start, dur, mask, eff, pump = rows(regular_feeds(GAP_DAYS, 10))
    t0 = GAP_START_DAY * 24.0
    t1 = np.inf if gap_days is None else t0 + gap_days * 24.0
    skip = (start >= t0) & (start < t1) & (mask[:, 1] > 0) & (mask[:, 0] == 0)
    return feed_schedule(start[~skip], dur[~skip], mask[~skip], eff[~skip], pump[~skip], source="gap schedule")


def _gap_arm(label, gap_days, note):
    return Arm(label, Params.nominal(), make_inputs(_gap_schedule(gap_days), GAP_DAYS), note=note)


def _analyse_gap(r: ScenarioResult) -> dict:
    out = {}
    before = GAP_START_DAY - 1
    stop = r["stopped"]
    vol = stop.hourly["stored_milk_ml"][:, 1]
    t = stop.hourly["time_h"]
    after = t >= GAP_START_DAY * 24.0
    peak_i = int(np.argmax(np.where(after, vol, -np.inf)))
    out["stopped_peak_volume_day"] = float(t[peak_i] / 24.0)
    out["stopped_volume_day35_over_peak"] = float(vol[24 * 35] / vol[peak_i])
    lact_mmol = stop.traj.states.glands.lactose[:, 1]
    out["stopped_lactose_mmol_day35_over_peak"] = float(lact_mmol[24 * 35] / lact_mmol[peak_i])
    conc = stop.hourly["gland_milk_protein"][:, 1]
    out["stopped_protein_ratio_day35"] = float(conc[24 * 35] / conc[24 * before])
    for label, gap in (("gap_2d", 2), ("gap_7d", 7)):
        prod = r[label].daily["production_gland_ml"][:, 1]
        out[f"{label}_recovery"] = float(prod[GAP_START_DAY + gap + 7] / prod[before])
    return out


register(Scenario(
    number=25,
    name="gland_gap",
    title="Human: an unnursed breast resorbs its milk and involutes; a short gap is reversible",
    description="Term mother, 10 feeds a day from both breasts. From day 14 breast 1 is not fed "
                "again (stopped), or not for 2 or 7 days before feeding resumes. The other breast "
                "is fed throughout.",
    seed="seed 001: milk stasis -> LIF-STAT3 -> involution; DESIGN.md §2b: \"weaning and unnursed "
         "glands resorb their milk and involute\"; the whole-lactation requirements: \"milk production can restart if "
         "feeding resumes early enough\".",
    seed_ref="Hartmann & Kulski 1978; Neville 1991; Lund 1996 and Li 1997 (the first ~2 days of "
             "involution are reversible, later remodelling is not); Hurley 1989",
    build=lambda: Setup(GAP_DAYS, (
        _gap_arm("stopped", None, "breast 1 not fed from day 14"),
        _gap_arm("gap_2d", 2, "breast 1 not fed on days 14-15, then fed again"),
        _gap_arm("gap_7d", 7, "breast 1 not fed on days 14-20, then fed again"),
    )),
    analyse=_analyse_gap,
    criteria=(
        Criterion("stopped_peak_volume_day", "between", (14.5, 20.0),
                  "the unnursed breast engorges for the first days (seed 001; Hartmann & Kulski 1978)"),
        Criterion("stopped_volume_day35_over_peak", "<=", 0.6,
                  "then its stored milk is resorbed over days to weeks (Hartmann & Kulski 1978)"),
        Criterion("stopped_lactose_mmol_day35_over_peak", "<=", 0.4,
                  "lactose leaves the involuting gland (Neville 1991: lactose falls)"),
        Criterion("stopped_protein_ratio_day35", ">=", 1.5,
                  "protein concentration rises as water and lactose are resorbed (Hartmann & "
                  "Kulski 1978: protein 16.8 -> >30 g/L after weaning)"),
        Criterion("gap_2d_recovery", ">=", 0.8,
                  "the first ~2 days of involution are reversible (Lund 1996; Li 1997): "
                  "production returns within a week of feeding again"),
        Criterion("gap_7d_recovery", "<", 0.8,
                  "after a week's gap remodelling has begun and production does not fully return "
                  "within a week (Li 1997; Hurley 1989)"),
    ),
    panels=(
        Panel("stored_milk_ml", "stored milk per breast (mL)", source="hourly", gland="each"),
        Panel("production_gland_ml", "production per breast (mL/day)", gland="each"),
    ),
))


SCENARIOS.sort(key=lambda s: s.number)
BY_NAME.update({s.name: s for s in SCENARIOS})
