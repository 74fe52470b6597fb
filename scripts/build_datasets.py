#!/usr/bin/env python
"""Build data/<name>/ (tidy table + PROVENANCE.md) from the reference files.

Usage:
    PYTHONPATH=src python scripts/build_datasets.py [--source /work/shared/data] [--out data]

Every row written traces back to a row of a reference file (column `source_row`) or, for
the few numbers added from a cited abstract, says so in `note`. Every change relative to
the reference files is listed in the dataset's PROVENANCE.md ("Corrections"). The
output is deterministic: rerunning on the same inputs reproduces the same bytes (and the
sha256 recorded in each PROVENANCE.md).
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from lactojax.datasets.design import (
    DESIGNS,
    MILKMAN_MILKING_CLOCK_H,
    day_window_h,
    milking_window_h,
)
from lactojax.datasets.loader import read_observations, write_observations
from lactojax.datasets.provenance import render_provenance, sha256_file
from lactojax.datasets.schema import COLUMN_NAMES, COLUMN_TYPES, FLOAT, INT
from lactojax.datasets.vocabulary import VOCABULARY

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------------------
# helpers


def new_row(**kw) -> dict:
    row = {c: (np.nan if COLUMN_TYPES[c] in (FLOAT, INT) else "") for c in COLUMN_NAMES}
    unknown = set(kw) - set(row)
    assert not unknown, unknown
    row.update(kw)
    return row


def frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    for c in COLUMN_NAMES:
        if c not in df:
            df[c] = np.nan if COLUMN_TYPES[c] in (FLOAT, INT) else ""
    out = {}
    for c in COLUMN_NAMES:
        kind = COLUMN_TYPES[c]
        if kind == FLOAT:
            out[c] = pd.to_numeric(df[c]).astype("float64")
        elif kind == INT:
            out[c] = pd.to_numeric(df[c]).astype("Int64")
        else:
            out[c] = df[c].fillna("").astype(str)
    return pd.DataFrame(out)


def num(text: str) -> float:
    return float(text) if str(text).strip() != "" else np.nan


def fmt_h(x: float) -> str:
    return f"{x:g}"


HUMAN_LICENCE = (
    "The numbers are facts reported in the cited publication; cite it when using them. "
    "The table itself is part of lactojax (MIT)."
)


def emit(out_dir: Path, name: str, table: pd.DataFrame, meta: dict) -> None:
    """Write data/<name>/<table> and PROVENANCE.md; validate by reading back."""
    table = frame(table)
    directory = out_dir / name
    table_name = meta.get("table", "observations.csv")
    path = directory / table_name
    digest = write_observations(table, path)
    checked = read_observations(path)  # full validation; raises DatasetError
    assert len(checked) == len(table)
    obs = sorted(checked["observable"].unique())
    t0 = checked["t_start_h"].dropna()
    t1 = checked["t_end_h"].dropna()
    design = DESIGNS[name]
    fields = {
        "name": name,
        "title": meta["title"],
        "species": design.species,
        "kind": meta["kind"],
        "table": table_name,
        "sha256": digest,
        "rows": str(len(checked)),
        "observables": ", ".join(obs),
        "t_min_h": fmt_h(t0.min()) if len(t0) else "",
        "t_max_h": fmt_h(t1.max()) if len(t1) else "",
        "citation": meta["citation"],
        "doi": meta.get("doi", ""),
        "licence": meta["licence"],
        "source_file": meta["source_file"],
        "source_sha256": meta["source_sha256"],
        "verified": meta["verified"],
    }
    counts = checked["observable"].value_counts().sort_index()
    lines = [f"# {meta['title']}", ""]
    lines += [f"Dataset `{name}`: {len(checked)} rows in `{table_name}`. Rows per observable:", ""]
    lines += [f"- `{o}` ({VOCABULARY[o].model_unit or 'qualitative'}"
              f"{'' if VOCABULARY[o].modelled else ', not modelled'}): {c}"
              for o, c in counts.items()]
    lines += ["", "## Source", "", f"- Citation: {meta['citation']}"]
    if meta.get("doi"):
        lines.append(f"- DOI / record: {meta['doi']}")
    lines += [f"- Where the numbers are: {meta['where']}",
              f"- Obtained from: reference file `{meta['source_file']}` "
              f"(sha256 `{meta['source_sha256']}`){meta.get('source_rows_text', '')}",
              f"- Verified against the publication: {meta['verified']}"]
    lines += ["", "## Transcription notes", ""]
    lines += [f"- {t}" for t in meta.get("notes", [])] or ["- none"]
    lines += ["", "## Corrections and additions relative to the reference file", ""]
    lines += [f"- {t}" for t in meta.get("corrections", [])] or ["- none"]
    lines += ["", "## Licence", "", meta["licence"], "",
              "## Table", "",
              f"`{table_name}`, sha256 `{digest}` (checked on every load). Columns and "
              "units: docs/datasets.md. Values are stored in the units printed by the "
              "source; `lactojax.datasets.units` converts them to model units on load.",
              "", "## Assumptions for simulation", "",
              f"{design.assumptions} (lactojax.datasets.design.DESIGNS[{name!r}])", "",
              "This file is generated by scripts/build_datasets.py.", ""]
    (directory / "PROVENANCE.md").write_text(render_provenance(fields, "\n".join(lines)),
                                             encoding="utf-8")
    print(f"{name:22s} {len(checked):>8} rows  {path.stat().st_size:>9} bytes")


# --------------------------------------------------------------------------------------
# human: published group summaries

HUMAN_FILE = "human/published_summaries.csv"

STUDY_TO_DATASET = {
    "Saint1984": "saint1984",
    "Casey1986": "casey1986",
    "Arthur1989": "arthur1989",
    "Kulski1981": "kulski1981",
    "Kent1992": "kent1992",
    "Chonnam1982": "chonnam1982",
    "Stolley1981": "stolley1981",
    "HartmannKulski1978": "hartmann_kulski1978",
    "Cox1996": "cox1996",
    "Kent1999": "kent1999",
    "Dewey1991_DARLING": "dewey1991_darling",
    "DeweyLonnerdal1983": "dewey_lonnerdal1983",
    "Michaelsen1994": "michaelsen1994",
    "Weitzman1981": "weitzman1981",
    "Noel1974": "noel1974",
    "Sievertsen1980": "sievertsen1980",
}

RENAME = {
    "breast_storage_capacity": "storage_capacity_per_gland",
    "milk_production_24h_per_breast": "milk_production_24h_per_gland",
    "plasma_oxytocin_feed": "plasma_oxytocin_peak_feed",
    "plasma_prolactin_feed": "plasma_prolactin_feed_10min",
}

HUMAN_META: dict[str, dict] = {
    "saint1984": dict(
        title="Milk intake from birth to 1 month (Saint, Smith & Hartmann 1984)",
        citation="Saint L, Smith M, Hartmann PE. The yield and nutrient content of colostrum "
        "and milk of women from giving birth to 1 month post-partum. Br J Nutr. "
        "1984;52(1):87-95.",
        doi="10.1079/bjn19840074 (PubMed 6743645)",
        where="abstract: intake by test-weighing 9 infants (days 1, 3, 5: mean and range) "
        "and milk yield by test-weighing the mother on day 14 or 28 (mean, SD)",
        verified="yes: all four means and spreads match the abstract",
        notes=["Days 1, 3, 5 are the 24 h windows 0-24, 48-72, 96-120 h; days 14-28 are "
               "pooled as 312-672 h (reference file).",
               "The abstract does not state n for the day 14/28 mothers; n=9 is the "
               "reference file's value.",
               "Intake in g/24 h is converted to mL/24 h on load with milk density "
               "1.032 g/mL (705.4 g -> 683.5 mL)."],
    ),
    "casey1986": dict(
        title="Milk intake per kg during the first 5 days (Casey et al. 1986)",
        citation="Casey, Neifert, Seacat, Neville. Nutrient intake by breast-fed "
        "infants during the first five days after birth. Am J Dis Child. "
        "1986;140(9):933-936.",
        doi="10.1001/archpedi.1986.02140230103044 (PubMed 3740001)",
        where="abstract: mean +- SD intake (g/kg) for 11 infants test-weighed at all feeds",
        verified="yes: values match the abstract",
        notes=["The abstract also prints ranges (day 1: 3-32, day 3: 50-163, day 5: "
               "110-196 g/kg); the table keeps the SD as the spread.",
               "Per-kg intakes are not modelled: converting to mL/24 h needs the infants' "
               "weights, which the abstract does not give (vocabulary: "
               "milk_intake_24h_per_kg, modelled=False)."],
    ),
    "arthur1989": dict(
        title="Lactogenesis II markers: citrate and lactose transitions, intake "
        "(Arthur, Smith & Hartmann 1989)",
        citation="Arthur PG, Smith M, Hartmann PE. Milk lactose, citrate, and glucose as "
        "markers of lactogenesis in normal and diabetic women. J Pediatr Gastroenterol "
        "Nutr. 1989;9:488-496.",
        doi="journal record 00005176-198911000-00016",
        where="abstract: transition times (mean +- SD, n per marker), intake 82 -> 556 "
        "mL/24 h between 24 and 144 h (12 mothers), milk 'coming in' 59 +- 13 h",
        verified="yes: values match the abstract",
        notes=["Intakes are given at single times (24 h and 144 h); for fitting, a daily "
               "rate at a single time t is the 24 h ending at t (lactojax.datasets.arrays).",
               "The diabetic group's delay is kept as a qualitative fact "
               "(transition_delay); the note's '24 h later' comes from Hartmann & Cregan "
               "2001 (J Nutr 131:3016S), not from this paper."],
        corrections=["transition_delay: statistic set to 'qualitative' (no number in the "
                     "source row)."],
    ),
    "kulski1981": dict(
        title="Onset of copious milk secretion 32-40 h after delivery (Kulski & Hartmann "
        "1981)",
        citation="Kulski JK, Hartmann PE. Changes in human milk composition during the "
        "initiation of lactation. Aust J Exp Biol Med Sci. 1981;59(1):101-114.",
        doi="10.1038/icb.1981.6 (PubMed 7236122)",
        where="abstract: 'true induction of lactation (lactogenesis) 32-40 h after delivery'",
        verified="yes: the interval matches the abstract",
        notes=["Only the bounds are reported: statistic 'interval', lower 32 h, upper 40 h. "
               "For fitting this becomes a uniform distribution on the interval (mean 36 h, "
               "SD 8/sqrt(12) = 2.3 h)."],
        corrections=["The reference file put the interval in time_start_h/time_end_h with "
                     "statistic 'range' and no value; here the event time's bounds are in "
                     "lower/upper (statistic 'interval') and the time columns are empty, as "
                     "for every event time."],
    ),
    "kent1992": dict(
        title="Lactose, diffusible citrate and total calcium on days 1 and 4 (Kent et al. "
        "1992)",
        citation="Kent JC, Arthur PG, Retallack RW, Hartmann PE. Calcium, phosphate and "
        "citrate in human milk at initiation of lactation. J Dairy Res. "
        "1992;59:161-167.",
        doi="Cambridge Core 900DD0E6A01A60582730F1E45BE55D98",
        where="abstract: concentrations (mean +- SEM, mM) on day 1 and day 4",
        verified="yes: values match the abstract",
        notes=["n is not given in the abstract; the SEMs are used as standard errors.",
               "Lactose in mmol/L is converted to g/L on load (342.30 g/mol).",
               "Diffusible citrate and total calcium are loaded but not modelled (the "
               "model predicts total citrate and has no calcium state)."],
    ),
    "chonnam1982": dict(
        title="Milk sodium and potassium by stage of lactation (Lee, Ma & Sohn 1982, "
        "Chonnam University)",
        citation="Lee BR, Ma JS, Sohn C. Changes in Na and K concentrations in human milk "
        "at different stage of lactation. J Korean Pediatr Soc. 1982;25(1):1-7.",
        doi="KoreaMed RID 1699571",
        where="abstract: mean +- SD (mEq/L) for colostrum (days 1-5), early transitional "
        "(days 6-10), late transitional (days 11-29) and mature milk (1-15 months)",
        verified="yes: values match the abstract",
        notes=["Reference-file study id: Chonnam1982 (the authors' institution).",
               "n = 92 is the number of mothers in the study; the abstract does not give "
               "the number per stage, so the standard errors may be understated.",
               "Months are taken as 720 h (30 d), as in the reference file."],
        corrections=["Unit recorded as printed in the abstract (mEq/L; 1 mEq = 1 mmol for "
                     "Na+ and K+) instead of the reference file's mmol/L."],
    ),
    "stolley1981": dict(
        title="Protein, sodium and lactose in week 1 and months 2-3 (Stolley et al. 1981)",
        citation="Stolley H, et al. Composition of human milk, week 1 to months 2-3. "
        "Monatsschr Kinderheilkd. 1981;129:293 (citation as given in the project's "
        "reference file; title paraphrased there).",
        where="not located: values per 100 g of milk as noted in the reference file",
        verified="no: the publication could not be located; numbers come from the "
        "reference file only",
        notes=["No n or spread is reported; default CVs apply for fitting."],
        corrections=["Values and units are the per-100 g figures printed in the reference "
                     "file's notes (1.57 and 0.81 g protein, 54.4 and 13.1 mg Na, 4.9 and "
                     "6.1 g lactose per 100 g). The reference file's g/L and mmol/L values "
                     "omitted the milk density; on load they become 16.2 / 8.4 g/L protein, "
                     "24.4 / 5.9 mmol/L Na and 50.6 / 63.0 g/L lactose."],
    ),
    "hartmann_kulski1978": dict(
        title="Milk composition in established lactation, and after weaning (Hartmann & "
        "Kulski 1978)",
        citation="Hartmann PE, Kulski JK. Changes in the composition of the mammary "
        "secretion of women after abrupt termination of breast feeding. J Physiol. "
        "1978;275:1 (first page; page range not checked).",
        doi="10.1113/jphysiol.1978.sp012173",
        where="abstract: full lactation means +- S.E. of mean, three women sampled monthly "
        "for 12 months; qualitative changes over 42 days after abrupt weaning (7 women)",
        verified="yes: values match the abstract",
        notes=["Lactose and protein printed as g/100 mL (7.03, 1.68) are recorded as g/L.",
               "The weaning changes are a qualitative fact (weaning_direction) for "
               "scenario tests."],
        corrections=["spread_type 'SE' (standard error of the mean) recorded as 'SEM'.",
                     "Added milk_chloride 11.93 +- 0.53 mM (SEM, n = 3) from the same "
                     "sentence of the abstract (not in the reference file)."],
    ),
    "cox1996": dict(
        title="24 h milk production and plasma prolactin at 1 and 6 months (Cox, Owens & "
        "Hartmann 1996)",
        citation="Cox DB, Owens RA, Hartmann PE. Blood and milk prolactin and the rate of "
        "milk synthesis in women. Exp Physiol. 1996;81(6):1007-1020.",
        doi="10.1113/expphysiol.1996.sp003985 (PubMed 8960706)",
        where="abstract: 24 h production (means +- S.E.M., n = 11 and 9); basal and "
        "suckling-stimulated plasma prolactin (micrograms/l)",
        verified="partly: values match the abstract; see the note on the prolactin spread",
        notes=["The abstract labels the prolactin values 'means +- S.E.M.' (basal 119 +- 93 "
               "and 59 +- 29; peak 286 +- 109 and 91 +- 44). As SEMs with n = 11 these "
               "would imply between-subject SDs of about 300 ug/L (CV ~260%), which is "
               "implausible; the reference file records them as SDs and so do we. This is "
               "a judgement: check the paper's tables if it matters.",
               "ug/L = ng/mL. Production in g/24 h is converted to mL/24 h on load."],
        corrections=["Prolactin unit recorded as printed (ug/L) instead of ng/mL."],
    ),
    "kent1999": dict(
        title="Breast storage capacity and 24 h production per breast (Kent et al. 1999)",
        citation="Kent JC, Mitoulas L, Cox DB, Owens RA, Hartmann PE. Breast volume and "
        "milk production during extended lactation in women. Exp Physiol. "
        "1999;84(2):435-447.",
        doi="PubMed 10226183",
        where="abstract: storage capacity 209.9 +- 11.0 mL (SEM, 46 breasts) and 24 h "
        "production per breast 453.6 +- 201 g (48 breasts) during the first 6 months",
        verified="partly: values match the abstract; see the note on the production spread",
        notes=["n counts breasts, not women. The gland is not identified (gland '').",
               "The abstract introduces its values as means +- S.E.M.; 201 g as an SEM of 48 "
               "breasts would imply an SD of ~1400 g for a mean of 453.6 g, so it is read "
               "as an SD (as in the reference file)."],
        corrections=["Observable names mapped to the vocabulary: breast_storage_capacity -> "
                     "storage_capacity_per_gland, milk_production_24h_per_breast -> "
                     "milk_production_24h_per_gland."],
    ),
    "dewey1991_darling": dict(
        title="Milk intake, extractable and residual milk at 3 months (DARLING study, "
        "Dewey et al. 1991)",
        citation="Dewey et al. Maternal versus infant "
        "factors related to breast milk intake and residual milk volume: the DARLING "
        "study. Pediatrics. 1991;87(6):829-837.",
        doi="PubMed 2034486",
        where="abstract: intake, volume extracted and residual volume (818, 914, 109 g/d; "
        "73 exclusively breast-fed infants); between-mother CV of intake 16.3%, "
        "within-mother day-to-day CV 8.9%",
        verified="yes: values match the abstract",
        notes=["The within-mother day-to-day CV (8.9%) is a useful prior for the noise of "
               "a single 24 h intake measurement."],
        corrections=["milk_intake_24h: spread_type CV, spread 16.3 (%), the between-mother "
                     "CV printed in the abstract (the reference file kept it in the note)."],
    ),
    "dewey_lonnerdal1983": dict(
        title="Milk intake at 1 and 6 months (Dewey & Lonnerdal 1983)",
        citation="Dewey, Lonnerdal. Milk and nutrient intake of breast-fed infants "
        "from 1 to 6 months: relation to growth and fatness. J Pediatr Gastroenterol Nutr. "
        "1983;2(3):497-506.",
        doi="10.1097/00005176-198302030-00018 (PubMed 6620057)",
        where="abstract: mean intake increasing from 673 to 896 mL/day from 1 to 6 months, "
        "20 infants; intakes ranged from 341 to 1096 mL/day",
        verified="yes: values match the abstract",
        notes=["No per-month spread is reported: default CV applies for fitting."],
        corrections=["The range 341-1096 mL/day spans all infants and all months 1-6 "
                     "(abstract); the reference file attached it to each month. It is kept "
                     "in the note, not used as a per-month spread."],
    ),
    "michaelsen1994": dict(
        title="Milk intake at 2 and 4 months, median milk fat (Copenhagen Cohort, "
        "Michaelsen et al. 1994)",
        citation="Michaelsen et al. The Copenhagen Cohort "
        "Study on Infant Nutrition and Growth: breast-milk intake, human milk "
        "macronutrient content, and influencing factors. Am J Clin Nutr. "
        "1994;59(3):600-611.",
        doi="10.1093/ajcn/59.3.600",
        where="abstract: mean intake 781 and 855 mL/24 h at 2 and 4 months in exclusively "
        "breast-fed infants (cohort of 91); median fat 39.2 g/L (infrared analysis every "
        "2-4 weeks)",
        verified="yes: values match the abstract",
        notes=["n = 91 is the cohort; the number exclusively breast-fed at each age is not "
               "in the abstract.",
               "The fat median pools samples over months 2-4 (window 1440-2880 h, reference "
               "file)."],
    ),
    "weitzman1981": dict(
        title="Oxytocin and prolactin around a feed, days 3-5 (Weitzman et al. 1981, "
        "unverified)",
        citation="Weitzman et al. 1981, oxytocin and prolactin responses to suckling, days "
        "3-5 (citation as given in the project's reference file; journal not given)",
        where="unknown",
        verified="no: the publication could not be identified. The Weitzman paper that "
        "was found ('The effect of nursing on neurohypophyseal hormone and prolactin "
        "secretion in human subjects', an abstract record on scilit.net that does not show "
        "the journal details) reports different numbers (6 women 2-3 days "
        "postpartum; oxytocin in uU/mL; prolactin 268 -> 362 ng/mL at 15 min), so these "
        "values are not from it",
        notes=["All rows are flagged 'unverified_source' and excluded from fitting by rule "
               "(count and reason reported) until the source is identified."],
        corrections=["plasma_oxytocin_feed (53.2 pg/mL, 'peak at 10 min') mapped to "
                     "plasma_oxytocin_peak_feed.",
                     "plasma_prolactin_feed (427 ng/mL at 10 min of suckling) mapped to "
                     "plasma_prolactin_feed_10min: a 10 min value is not necessarily the "
                     "peak.",
                     "Added from the same reference-file notes: oxytocin 10.8 pg/mL before "
                     "the feed (plasma_oxytocin_basal) and 22.4 pg/mL at 2 min "
                     "(plasma_oxytocin_feed_2min); prolactin 192 ng/mL before the feed "
                     "(plasma_prolactin_basal)."],
    ),
    "noel1974": dict(
        title="Prolactin rise with nursing (Noel, Suh & Frantz 1974)",
        citation="Noel, Suh, Frantz. Prolactin release during nursing and breast "
        "stimulation in postpartum and nonpostpartum subjects. J Clin Endocrinol Metab. "
        "1974;38:413 (first page; page range not checked).",
        where="abstract: peak 8.5 x baseline just after nursing in the first 6 weeks; "
        "6.0 x baseline at the end of nursing at 7-28 weeks; breast pump similar; play "
        "without nursing, no rise",
        verified="yes: the fold rises and qualitative findings match the abstract",
        notes=["No n or spread in the abstract; default CV applies for fitting.",
               "Weeks 0-6 = 0-1008 h and weeks 7-28 = 1008-4704 h (end of week 28)."],
        corrections=["Added from the abstract (also in the reference file's note): 6.0-fold "
                     "rise at weeks 7-28, and two qualitative facts (breast pump gives a "
                     "similar rise; infant contact without nursing gives none)."],
    ),
    "sievertsen1980": dict(
        title="Plasma prolactin half-life (Sievertsen et al. 1980)",
        citation="Sievertsen et al. 1980. J Clin Endocrinol Metab 50:846 (citation as "
        "given in the project's reference file). The values match the abstract of "
        "'Pharmacokinetic studies of highly purified human prolactin in normal human "
        "subjects' (J Clin Endocrinol Metab), taken to be this paper.",
        where="abstract: plasma disappearance half-life after stopping an infusion, "
        "37 +- 10 min (SD), five normal men",
        verified="partly: the number and n match the abstract found; authors/pages not "
        "cross-checked",
        notes=["A parameter (prior information for prolactin clearance), not an "
               "observation: loaded with modelled=False. 37 min = 0.617 h in model units."],
        corrections=["n = 5 and group 'normal men' from the abstract (the reference file "
                     "had no n and group 'adults')."],
    ),
}


def _parse_range(text: str) -> tuple[float, float]:
    a, b = text.split("-")
    return float(a), float(b)


def human_tables(source: Path) -> dict[str, list[dict]]:
    raw = pd.read_csv(source / HUMAN_FILE, dtype=str, keep_default_na=False)
    tables: dict[str, list[dict]] = defaultdict(list)
    for i, r in raw.iterrows():
        src = i + 1
        name = STUDY_TO_DATASET[r["study"]]
        obs = RENAME.get(r["observable"], r["observable"])
        assert obs in VOCABULARY, obs
        stype = {"SE": "SEM"}.get(r["spread_type"], r["spread_type"])
        row = new_row(
            group=r["population"], t_start_h=num(r["time_start_h"]),
            t_end_h=num(r["time_end_h"]), observable=obs, statistic=r["statistic"],
            value=num(r["value"]), unit=r["unit"], spread_type=stype,
            n=num(r["n"]), source_row=src, note=r["note"])
        if stype == "range":
            row["lower"], row["upper"] = _parse_range(r["spread"])
        elif stype:
            row["spread"] = num(r["spread"])
        extra: list[dict] = []
        study = r["study"]
        if VOCABULARY[obs].kind == "qualitative":
            row["statistic"] = "qualitative"
        if study == "Kulski1981":
            assert (r["time_start_h"], r["time_end_h"], r["value"]) == ("32", "40", "")
            row.update(statistic="interval", lower=32.0, upper=40.0, t_start_h=np.nan,
                       t_end_h=np.nan)
        elif study == "Chonnam1982":
            assert r["unit"] == "mmol/L"
            row["unit"] = "mEq/L"
        elif study == "Stolley1981":
            m = re.search(r"\(([\d.]+) (g|mg)/100 g\)", r["note"])
            assert m, r["note"]
            row["value"] = float(m.group(1))
            row["unit"] = f"{m.group(2)}/100g"
        elif study == "Cox1996" and obs.startswith("plasma_prolactin"):
            assert r["unit"] == "ng/mL"
            row["unit"] = "ug/L"
        elif study == "Dewey1991_DARLING" and obs == "milk_intake_24h":
            assert "between-mother CV 16.3%" in r["note"] and r["spread_type"] == ""
            row.update(spread_type="CV", spread=16.3)
        elif study == "DeweyLonnerdal1983":
            assert r["spread"] == "341-1096"
            row.update(spread_type="", lower=np.nan, upper=np.nan)
            row["note"] = ((r["note"] + "; ") if r["note"] else "") + (
                "intakes ranged 341-1096 mL/day over all infants and months 1-6 (abstract)")
        elif study == "Weitzman1981":
            row["flag"] = "unverified_source"
            window = dict(group=r["population"], t_start_h=72.0, t_end_h=120.0,
                          statistic="mean", flag="unverified_source", source_row=src)
            if obs == "plasma_oxytocin_peak_feed":
                assert "oxytocin 10.8 before feed; 22.4 at 2 min" in r["note"]
                extra += [
                    new_row(observable="plasma_oxytocin_basal", value=10.8, unit="pg/mL",
                            note=f"before the feed (from the note of source row {src})",
                            **window),
                    new_row(observable="plasma_oxytocin_feed_2min", value=22.4,
                            unit="pg/mL",
                            note=f"2 min of suckling (from the note of source row {src})",
                            **window)]
            else:
                assert "prolactin 192 before feed" in r["note"]
                extra.append(new_row(observable="plasma_prolactin_basal", value=192.0,
                                     unit="ng/mL",
                                     note=f"before the feed (from the note of source row "
                                     f"{src})", **window))
        elif study == "Noel1974":
            assert "6.0-fold at weeks 7-28" in r["note"]
            extra += [
                new_row(group="weeks 7-28", t_start_h=1008.0, t_end_h=4704.0,
                        observable="prolactin_suckling_fold_rise", statistic="mean",
                        value=6.0, unit="ratio", source_row=src,
                        note="end of nursing vs baseline at 7-28 weeks postpartum (abstract; "
                        f"also in the note of source row {src})"),
                new_row(group=r["population"], observable="prolactin_response_breast_pump",
                        statistic="qualitative", source_row=src,
                        note="substituting a breast pump for the infant at a regular nursing "
                        "gave prolactin rises similar in timing and magnitude to nursing "
                        "(abstract)"),
                new_row(group=r["population"],
                        observable="prolactin_response_contact_no_nursing",
                        statistic="qualitative", source_row=src,
                        note="when mothers played with but did not nurse their infants, "
                        "prolactin did not rise although milk let-down occurred (abstract)"),
            ]
        elif study == "Sievertsen1980":
            assert r["n"] == "" and r["unit"] == "min"
            row.update(n=5, group="normal men")
        elif study == "HartmannKulski1978" and obs == "milk_potassium":
            extra.append(new_row(
                group=r["population"], t_start_h=720.0, t_end_h=8760.0,
                observable="milk_chloride", statistic="mean", value=11.93, unit="mmol/L",
                spread_type="SEM", spread=0.53, n=3,
                note="established lactation; added from the abstract (Cl 11.93 +- 0.53 mM, "
                "S.E. of mean, 3 women); not in the reference file"))
        tables[name].append(row)
        tables[name].extend(extra)
    return tables


# --------------------------------------------------------------------------------------
# dairy


def _milkman(source: Path) -> tuple[pd.DataFrame, dict]:
    path = source / "dairy/milkman.csv.gz"
    m = pd.read_csv(path)
    m["source_row"] = np.arange(1, len(m) + 1)
    windows = {(d, a): milking_window_h(int(d), int(a) - 1, MILKMAN_MILKING_CLOCK_H)
               for d, a in set(zip(m["dfc"], m["ampm"]))}
    w = [windows[k] for k in zip(m["dfc"], m["ampm"])]
    m["t_start_h"] = [x[0] for x in w]
    m["t_end_h"] = [x[1] for x in w]
    m["subject"] = m["cowno"].astype(str) + "_" + m["lactno"].astype(str)
    parts = []
    spec = [("my", "milk_yield_per_milking", "kg"), ("fatpct", "fat_pct", "%"),
            ("protpct", "protein_pct", "%"), ("lactpct", "lactose_pct", "%"),
            ("scc", "somatic_cell_count", "1e3/mL")]
    missing = {}
    for col, obs, unit in spec:
        sub = m[m[col].notna()]
        missing[col] = int(m[col].isna().sum())
        parts.append(pd.DataFrame({
            "subject": sub["subject"], "group": sub["race"],
            "t_start_h": sub["t_start_h"], "t_end_h": sub["t_end_h"], "gland": "",
            "observable": obs, "statistic": "value", "value": sub[col], "unit": unit,
            "n": 1, "source_row": sub["source_row"]}))
    table = pd.concat(parts, ignore_index=True)
    stats = dict(n_source=len(m), missing=missing,
                 scc_zero=int((m["scc"] == 0).sum()),
                 am_mean=float(m.loc[m.ampm == 1, "my"].mean()),
                 pm_mean=float(m.loc[m.ampm == 2, "my"].mean()),
                 n_my=int(m["my"].notna().sum()),
                 lactations=int(m["subject"].nunique()), cows=int(m["cowno"].nunique()))
    return table, stats


def _nz_trial(source: Path) -> tuple[pd.DataFrame, dict]:
    path = source / "dairy/nz_strain_trial_2003_04.csv.gz"
    n = pd.read_csv(path)
    n["source_row"] = np.arange(1, len(n) + 1)
    n["date"] = pd.to_datetime(n["PeriodFinish"], dayfirst=True)
    n = n.sort_values(["CowId", "PeriodNo"]).reset_index(drop=True)
    milked = n[n["DaysInMilk"] > 0]
    first = milked.groupby("CowId").head(1).set_index("CowId")
    calving = first["date"] - pd.to_timedelta(first["DaysInMilk"], unit="D")
    n["day_end"] = (n["date"] - n["CowId"].map(calving)).dt.days
    is_first = n.index.isin(milked.groupby("CowId").head(1).index)
    dim = n["DaysInMilk"]
    # days covered by the record: whole week for covariates; milked days for milk rows
    week_first = n["day_end"] - 6
    milk_first = np.where(is_first, n["day_end"] - dim + 1, week_first)
    milk_last = np.where(is_first | (dim == 7), n["day_end"], week_first + dim - 1)
    w_week = [day_window_h(a, b) for a, b in zip(week_first, n["day_end"])]
    w_milk = [day_window_h(a, b) for a, b in zip(milk_first, milk_last)]
    label = n["TreatmentLabel"].str.split().str.join(" ")
    base = pd.DataFrame({"subject": n["CowId"].astype(str), "group": label, "gland": "",
                         "statistic": "value", "n": 1, "source_row": n["source_row"]})
    base["t_start_h"] = [x[0] for x in w_milk]
    base["t_end_h"] = [x[1] for x in w_milk]
    week = base.copy()
    week["t_start_h"] = [x[0] for x in w_week]
    week["t_end_h"] = [x[1] for x in w_week]

    def part(frame_, mask, obs, unit, values, flag):
        out = frame_[mask].copy()
        out["observable"] = obs
        out["unit"] = unit
        out["value"] = values[mask]
        out["flag"] = np.asarray(flag)[mask]
        return out

    has_milk = n["MilkYield"].notna().to_numpy()
    est_milk = np.where(n["MilkEstimate"], "estimated", "")
    est_test = np.where(n["TestEstimate"], "estimated", "")
    scc_flag = np.where(n["TestEstimate"], "estimated",
                        np.where(n["CellCount"] == 9999, "at_reporting_limit", ""))
    parts = [
        part(base, has_milk, "milk_yield_daily", "kg/d",
             (n["MilkYield"] / dim.replace(0, np.nan)).to_numpy(), est_milk),
        part(base, has_milk, "fat_pct", "%", n["WtdFatpc"].to_numpy(), est_test),
        part(base, has_milk, "protein_pct", "%", n["WtdProteinpc"].to_numpy(), est_test),
        part(base, has_milk, "lactose_pct", "%", n["WtdLactosepc"].to_numpy(), est_test),
        part(base, n["CellCount"].notna().to_numpy(), "somatic_cell_count", "1e3/mL",
             n["CellCount"].to_numpy(), scc_flag),
        part(week, np.ones(len(n), bool), "body_weight", "kg", n["LiveWt"].to_numpy(),
             np.where(n["LWEstimate"], "estimated", "")),
        part(week, n["Condition"].notna().to_numpy(), "body_condition_score",
             "score_1_10", n["Condition"].to_numpy(), np.full(len(n), "")),
    ]
    table = pd.concat(parts, ignore_index=True)
    m = n[has_milk]
    stats = dict(
        n_source=len(n), cows=int(n["CowId"].nunique()), herds=int(label.nunique()),
        milk_rows=int(has_milk.sum()), dry_rows=int((~has_milk).sum()),
        milk_est=int(n["MilkEstimate"].sum()), test_est=int((n["TestEstimate"] & has_milk).sum()),
        scc_rows=int(n["CellCount"].notna().sum()), scc_9999=int((n["CellCount"] == 9999).sum()),
        scc_est=int((n["TestEstimate"] & n["CellCount"].notna()).sum()),
        lw_est=int(n["LWEstimate"].sum()), cond_missing=int(n["Condition"].isna().sum()),
        derived_err=float(np.max(np.abs(m["FatYield"] - m["MilkYield"] * m["WtdFatpc"] / 100))),
        mid_partial=int(((dim > 0) & (dim < 7) & ~is_first).sum()))
    return table, stats


def _nine_cows(source: Path) -> pd.DataFrame:
    path = source / "dairy/nz_nine_cows_weekly.txt"
    raw = pd.read_csv(path, sep=r"\s+")
    rows = []
    for i, r in raw.iterrows():
        for col in raw.columns:
            day = int(col.removeprefix("day"))
            t0, t1 = day_window_h(day)
            rows.append(new_row(subject=f"cow{i + 1}", group="nz nine cows", t_start_h=t0,
                                t_end_h=t1, observable="milk_yield_daily",
                                statistic="value", value=float(r[col]), unit="kg/d", n=1,
                                source_row=i + 1))
    return frame(rows)


def _bovi_test_day(source: Path) -> tuple[pd.DataFrame, dict]:
    path = source / "dairy/bovi_test_day_records.csv.gz"
    b = pd.read_csv(path)
    w = [day_window_h(int(d)) for d in b["DaysInMilk"]]
    dup = b.duplicated(keep="first").to_numpy()
    table = pd.DataFrame({
        "subject": b["TestId"].astype(str), "group": "parity " + b["Parity"].astype(str),
        "t_start_h": [x[0] for x in w], "t_end_h": [x[1] for x in w], "gland": "",
        "observable": "milk_yield_daily", "statistic": "value",
        "value": b["MilkingYield"], "unit": "kg/d", "n": 1,
        "flag": np.where(dup, "duplicate", ""), "source_row": np.arange(1, len(b) + 1)})
    stats = dict(n_source=len(b), duplicates=int(dup.sum()),
                 lactations=int(b["TestId"].nunique()),
                 max_copies=int(b.groupby(list(b.columns)).size().max()))
    return table, stats


def _bovi_one_cow(source: Path) -> pd.DataFrame:
    path = source / "dairy/bovi_daily_yield_one_cow.csv"
    o = pd.read_csv(path)
    w = [day_window_h(int(d)) for d in o["DaysInMilk"]]
    return pd.DataFrame({
        "subject": "l2_anim2_herd654", "group": "parity 2",
        "t_start_h": [x[0] for x in w], "t_end_h": [x[1] for x in w], "gland": "",
        "observable": "milk_yield_daily", "statistic": "value",
        "value": o["TestDayMilkYield"], "unit": "kg/d", "n": 1,
        "source_row": np.arange(1, len(o) + 1)})


COW_TIME_NOTE = ("Times: day d from calving (calving day = day 0) with calving assumed at "
                 "12:00, so day d covers [24 d - 12, 24 d + 12) h "
                 "(lactojax.datasets.design.day_window_h).")


def build(source: Path, out: Path, only: set[str] | None = None) -> None:
    def want(name):
        return only is None or name in only

    # human
    src_sha = sha256_file(source / HUMAN_FILE)
    for name, rows in human_tables(source).items():
        if not want(name):
            continue
        meta = dict(HUMAN_META[name])
        srcs = sorted({int(r["source_row"]) for r in rows if not pd.isna(r["source_row"])})
        meta.update(kind="group_summaries", licence=HUMAN_LICENCE, source_file=HUMAN_FILE,
                    source_sha256=src_sha,
                    source_rows_text=f", data rows {', '.join(map(str, srcs))}")
        emit(out, name, frame(rows), meta)

    if want("milkman"):
        table, st = _milkman(source)
        table = table.sort_values(["observable", "source_row"], kind="stable")
        miss = ", ".join(f"{k} {v}" for k, v in st["missing"].items())
        emit(out, "milkman", table, dict(
            table="observations.csv.gz", kind="individual_records",
            title="Single AM/PM milkings of 288 lactations: yield, fat, protein, lactose, "
            "SCC (milkman; Friggens, Ridder & Lovendahl 2007)",
            citation="Friggens NC, Ridder C, Lovendahl P. On the use of milk composition "
            "measures to predict the energy balance of dairy cows. J Dairy Sci. "
            "2007;90:5453-5467. Data distributed as `milkman` in the R package doBy "
            "(Hojsgaard & Halekoh), CRAN.",
            doi="10.3168/jds.2006-821",
            where="the full data set `milkman` of doBy (data/milkman.rda), converted to CSV "
            "unchanged by the reference-file curator",
            verified="yes: column definitions as in the doBy documentation ('Milk yield data "
            "for cows milked manually twice a day (morning and evening)'; 161836 "
            "observations of 12 variables; 222 cows, 288 lactations)",
            licence="GPL (>= 2), the licence of the doBy package that distributes the data. "
            "This table remains under GPL (>= 2); the rest of lactojax is MIT.",
            source_file="dairy/milkman.csv.gz",
            source_sha256=sha256_file(source / "dairy/milkman.csv.gz"),
            notes=[
                f"{st['n_source']} source milkings ({st['cows']} cows, {st['lactations']} "
                "lactations); one row per non-empty cell of my, fatpct, protpct, lactpct, "
                "scc. Empty source cells (not carried as rows): " + miss + ".",
                "subject = '<cowno>_<lactno>' (cowlact), group = breed (race: RDM, Holstein, "
                "Jersey).",
                "Observables: my -> milk_yield_per_milking (kg); fatpct -> fat_pct, protpct "
                "-> protein_pct, lactpct -> lactose_pct (%); scc -> somatic_cell_count "
                "(1e3 cells/mL).",
                "Not carried: ecmy (energy-corrected milk, a deterministic function of yield, "
                "fat and protein) and cowlact (= cowno.lactno).",
                f"Somatic cell count is 0 in {st['scc_zero']} records: kept, and excluded "
                "from fitting by rule (log-scale likelihood undefined).",
                "Window: each yield is the milk secreted since the previous scheduled "
                "milking. Assumed milking clock times 05:00 (ampm=1) and 14:30 (ampm=2): "
                f"the mean morning yield is {st['am_mean']:.2f} kg and the mean evening "
                f"yield {st['pm_mean']:.2f} kg (ratio {st['am_mean'] / st['pm_mean']:.3f}); "
                "with near-constant secretion this is the ratio of the night to the day "
                "interval, i.e. 14.6 h / 9.4 h, rounded to 14.5 h / 9.5 h.",
                COW_TIME_NOTE + " A morning milking on day d is at 24 d - 7 h, an evening "
                "milking at 24 d + 2.5 h; the window of the first milking starts at the "
                "assumed previous milking (day 0, 14:30 = 2.5 h).",
                "Rows are sorted by observable, then source row."],
        ))

    if want("nz_strain_trial"):
        table, st = _nz_trial(source)
        table = table.sort_values(["observable", "source_row"], kind="stable")
        emit(out, "nz_strain_trial", table, dict(
            table="observations.csv.gz", kind="individual_records",
            title="NZ Holstein-Friesian strain x feed allowance trial 2003-04: weekly "
            "yields, composition, SCC, live weight, condition",
            citation="New Zealand Holstein-Friesian strain x feed allowance trial, 2003-04 "
            "season, file 2003-04StrainProds.csv in the public GitHub repository "
            "markbneal/Lactation (no publication is cited there).",
            where="repository file 2003-04StrainProds.csv (weekly herd-test records)",
            verified="no publication identified; the table is the repository file",
            licence="No licence is stated in the source repository; redistribution terms "
            "are unknown. Confirm with the repository owner before publishing this table "
            "outside the project.",
            source_file="dairy/nz_strain_trial_2003_04.csv.gz",
            source_sha256=sha256_file(source / "dairy/nz_strain_trial_2003_04.csv.gz"),
            notes=[
                f"{st['n_source']} cow-weeks, {st['cows']} cows, {st['herds']} herds. "
                "TreatmentLabel (herd, strain NZL/NZH/OSH, feed allowance t DM/cow) is the "
                "group, with runs of spaces collapsed.",
                "milk_yield_daily = MilkYield (kg over the period) / DaysInMilk (days milked "
                "in the period): the mean daily yield over the milked days. fat_pct, "
                "protein_pct, lactose_pct = WtdFatpc, WtdProteinpc, WtdLactosepc "
                "(yield-weighted %). somatic_cell_count = CellCount (1e3 cells/mL, measured "
                f"in {st['scc_rows']} weeks). body_weight = LiveWt (kg), "
                "body_condition_score = Condition (1-10 scale); these two are covariates "
                "(modelled=False).",
                "Not carried: FatYield, ProteinYield, LactoseYield (= MilkYield x % / 100 to "
                f"within {st['derived_err']:.1e} kg), TreatmentGroup (always 0), "
                "TreatmentCode (= the label's letter).",
                f"{st['dry_rows']} weeks have DaysInMilk = 0 (before calving or after drying "
                "off): they give body weight / condition rows only.",
                f"Flags: MilkEstimate -> milk_yield_daily flagged 'estimated' "
                f"({st['milk_est']}); TestEstimate -> fat/protein/lactose % flagged "
                f"'estimated' ({st['test_est']} weeks) and {st['scc_est']} cell counts; "
                f"LWEstimate -> body_weight 'estimated' ({st['lw_est']}); CellCount = 9999 "
                f"({st['scc_9999']} weeks) flagged 'at_reporting_limit'. Flagged rows are "
                "kept and excluded from fitting by rule.",
                f"Condition is missing in {st['cond_missing']} week (no row).",
                "Calving day of each cow = PeriodFinish of its first milked week minus that "
                "week's DaysInMilk. The first milked week covers its last DaysInMilk days; "
                "a later week with DaysInMilk < 7 covers its first DaysInMilk days "
                f"({st['mid_partial']} such week(s) in this file); "
                "covariates cover the whole week. " + COW_TIME_NOTE],
        ))

    if want("nz_nine_cows"):
        emit(out, "nz_nine_cows", _nine_cows(source), dict(
            kind="individual_records",
            title="Nine cows, daily yield every 7 days, days 7-245",
            citation="File cows.txt in the public GitHub repository markbneal/Lactation (no "
            "publication cited; relation to the strain trial unknown).",
            where="repository file cows.txt (9 rows x 35 columns day7..day245, kg/d)",
            verified="no publication identified; the table is the repository file",
            licence="No licence is stated in the source repository; redistribution terms "
            "are unknown.",
            source_file="dairy/nz_nine_cows_weekly.txt",
            source_sha256=sha256_file(source / "dairy/nz_nine_cows_weekly.txt"),
            notes=["subject cow1..cow9 = data row 1..9 of the file.",
                   "Each value is taken as the daily yield of day d (column day<d>); the file "
                   "does not say whether it is a test-day yield or a weekly mean. "
                   + COW_TIME_NOTE],
        ))

    if want("bovi_test_day"):
        table, st = _bovi_test_day(source)
        emit(out, "bovi_test_day", table, dict(
            table="observations.csv.gz", kind="individual_records",
            title="Herd-recording test-day yields, 4327 lactations (Bovi-analytics "
            "lactation_curve_core test data)",
            citation="Bovi-analytics, lactation_curve_core (GitHub), test data file "
            "tests/lactationcurve/test_data/mr_test_file.csv (anonymised test-day records).",
            where="repository test data file mr_test_file.csv",
            verified="n/a (data file, no publication)",
            licence="MIT (Bovi-analytics/lactation_curve_core).",
            source_file="dairy/bovi_test_day_records.csv.gz",
            source_sha256=sha256_file(source / "dairy/bovi_test_day_records.csv.gz"),
            notes=[f"{st['n_source']} records, {st['lactations']} lactations (TestId; each "
                   "TestId has one parity and one birth date, so it is taken as one "
                   "lactation of one animal): subject = TestId, group = 'parity <k>'.",
                   "milk_yield_daily = MilkingYield (kg/d), the 24 h yield on day "
                   "DaysInMilk. " + COW_TIME_NOTE,
                   f"{st['duplicates']} records repeat an earlier record in every column "
                   f"(up to {st['max_copies']} copies): kept with flag 'duplicate' and "
                   "excluded from fitting by rule.",
                   "Not carried: BirthDate and TestDate (calendar dates; the model uses time "
                   "since calving)."],
        ))

    if want("bovi_one_cow_daily"):
        emit(out, "bovi_one_cow_daily", _bovi_one_cow(source), dict(
            kind="individual_records",
            title="One cow's daily milk yield, second lactation, days 1-430",
            citation="Bovi-analytics, lactation_curve_core (GitHub), test data file "
            "l2_anim2_herd654.csv.",
            where="repository test data file l2_anim2_herd654.csv",
            verified="n/a (data file, no publication)",
            licence="MIT (Bovi-analytics/lactation_curve_core).",
            source_file="dairy/bovi_daily_yield_one_cow.csv",
            source_sha256=sha256_file(source / "dairy/bovi_daily_yield_one_cow.csv"),
            notes=["milk_yield_daily = TestDayMilkYield (kg/d) on day DaysInMilk. "
                   + COW_TIME_NOTE],
        ))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source", type=Path, default=Path("/work/shared/data"))
    p.add_argument("--out", type=Path, default=ROOT / "data")
    p.add_argument("--only", nargs="*", help="build only these datasets")
    args = p.parse_args(argv)
    build(args.source, args.out, set(args.only) if args.only else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
