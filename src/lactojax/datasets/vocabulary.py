"""The observable vocabulary: every name a dataset row may use, with its model unit.

An observable's *code* is its index in `OBSERVABLES`; codes are stable as long as new
names are only appended (tests pin the first entries). `modelled=False` marks
observables the model does not predict: rows using them are loaded and validated like
any other, and fitting reports them as excluded with a count and the reason given here.

Model units (the units `lactojax.datasets.units` converts to):
time in hours since delivery/calving; volumes mL (mL/24 h for daily volumes);
milk concentrations mmol/L (ions, citrate, calcium) or g/L (lactose, protein, fat);
prolactin ng/mL; oxytocin pg/mL; cow yields kg (per milking) or kg/d; cow composition
% (w/w); somatic cell count 1e3 cells/mL; event times h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Kinds of observable (drive validation and the likelihood chosen for a row).
VOLUME = "volume"  # mL or mL/24h, non-negative
CONCENTRATION = "concentration"  # mmol/L or g/L in milk
HORMONE = "hormone"  # plasma hormone concentration
RATIO = "ratio"  # dimensionless fold change
EVENT_TIME = "event_time"  # time (h) at which something happens; value is the time
COW_YIELD = "cow_yield"  # kg per milking or kg/d
COW_COMPOSITION = "cow_composition"  # % w/w
CELL_COUNT = "cell_count"  # 1e3 cells/mL
COVARIATE = "covariate"  # subject covariate (body weight, condition score)
PARAMETER = "parameter"  # a published parameter value (prior information)
QUALITATIVE = "qualitative"  # a documented qualitative fact, no number

KINDS = (
    VOLUME,
    CONCENTRATION,
    HORMONE,
    RATIO,
    EVENT_TIME,
    COW_YIELD,
    COW_COMPOSITION,
    CELL_COUNT,
    COVARIATE,
    PARAMETER,
    QUALITATIVE,
)

# Likelihood families for individual observations (statistic == "value").
LOGNORMAL = "lognormal"
STUDENT_T = "student_t"
LOG_STUDENT_T = "log_student_t"


@dataclass(frozen=True)
class Observable:
    """One name in the vocabulary.

    name: canonical name used in the tidy tables and by the model's observation module.
    model_unit: the unit every value is converted to on load.
    kind: one of `KINDS`.
    description: what is measured, in words.
    modelled: whether the model predicts it (False: loaded, reported as excluded).
    unmodelled_reason: why not (shown in exclusion reports).
    nonnegative: negative values are rejected on load.
    time_indexed: rows need t_start_h/t_end_h (False for event times and parameters,
        whose number is itself the time or has no time).
    default_cv: between-subject coefficient of variation (fraction) used when a group
        summary prints no usable spread (see docs/datasets.md, "Likelihoods").
    individual_likelihood: family for individual observations (LOGNORMAL,
        STUDENT_T or LOG_STUDENT_T).
    noise_sigma: default measurement-noise scale for individual observations: SD of
        log(value) for LOGNORMAL and LOG_STUDENT_T, scale in model units for STUDENT_T.
    added: True for names added to the contract vocabulary by the datasets work.
    """

    name: str
    model_unit: str
    kind: str
    description: str
    modelled: bool = True
    unmodelled_reason: str = ""
    nonnegative: bool = True
    time_indexed: bool = True
    default_cv: float = 0.25
    individual_likelihood: str = LOGNORMAL
    noise_sigma: float = 0.1
    added: bool = False


_NOT_PREDICTED = "not in the model's observation set"

OBSERVABLES: tuple[Observable, ...] = (
    # --- human: volumes (mL, mL/24h) ---------------------------------------------
    Observable("milk_intake_24h", "mL/24h", VOLUME,
               "milk consumed by the infant over 24 h (test-weighing), mean over the window"),
    Observable("milk_production_24h", "mL/24h", VOLUME,
               "milk produced by both breasts over 24 h"),
    Observable("milk_production_24h_per_gland", "mL/24h", VOLUME,
               "milk produced by one breast over 24 h"),
    Observable("milk_removed_per_feed", "mL", VOLUME, "milk removed at one feed"),
    Observable("storage_capacity_per_gland", "mL", VOLUME,
               "storage capacity of one breast (maximum volume available)"),
    Observable("milk_residual_24h", "mL/24h", VOLUME,
               "milk left in the breasts after feeds, over 24 h"),
    # --- human: milk composition ---------------------------------------------------
    Observable("milk_sodium", "mmol/L", CONCENTRATION, "milk sodium concentration"),
    Observable("milk_potassium", "mmol/L", CONCENTRATION, "milk potassium concentration"),
    Observable("milk_chloride", "mmol/L", CONCENTRATION, "milk chloride concentration"),
    Observable("milk_citrate", "mmol/L", CONCENTRATION, "milk total citrate concentration"),
    Observable("milk_lactose", "g/L", CONCENTRATION, "milk lactose concentration"),
    Observable("milk_protein", "g/L", CONCENTRATION, "milk total protein concentration"),
    Observable("milk_fat", "g/L", CONCENTRATION, "milk fat concentration"),
    # --- human: hormones -----------------------------------------------------------
    Observable("plasma_prolactin_basal", "ng/mL", HORMONE,
               "plasma prolactin before a feed (basal)", default_cv=0.5),
    Observable("plasma_prolactin_peak_feed", "ng/mL", HORMONE,
               "peak plasma prolactin during/after a breastfeed", default_cv=0.5),
    Observable("plasma_oxytocin_peak_feed", "pg/mL", HORMONE,
               "peak plasma oxytocin during a breastfeed", default_cv=0.5),
    Observable("prolactin_suckling_fold_rise", "ratio", RATIO,
               "plasma prolactin at the end of a feed divided by the pre-feed value",
               default_cv=0.5),
    # --- human: event times (h after delivery) ---------------------------------------
    Observable("citrate_transition_start", "h", EVENT_TIME,
               "time at which milk citrate starts its lactogenesis-II rise", time_indexed=False),
    Observable("citrate_transition_end", "h", EVENT_TIME,
               "time at which milk citrate reaches its plateau", time_indexed=False),
    Observable("lactose_transition_end", "h", EVENT_TIME,
               "time at which milk lactose reaches its plateau", time_indexed=False),
    Observable("milk_coming_in_perceived", "h", EVENT_TIME,
               "time the mother perceives her milk 'coming in' (breast fullness)",
               time_indexed=False),
    Observable("lactogenesis_II_onset", "h", EVENT_TIME,
               "onset of copious milk secretion (lactogenesis II)", time_indexed=False),
    # --- cows: individual records --------------------------------------------------
    Observable("milk_yield_per_milking", "kg", COW_YIELD,
               "milk weighed at one milking (milk secreted since the previous milking)",
               individual_likelihood=LOGNORMAL, noise_sigma=0.15),
    Observable("milk_yield_daily", "kg/d", COW_YIELD,
               "mean daily milk yield over the window (24 h test day or weekly mean)",
               individual_likelihood=LOGNORMAL, noise_sigma=0.10),
    Observable("fat_pct", "%", COW_COMPOSITION, "milk fat, % w/w",
               individual_likelihood=STUDENT_T, noise_sigma=0.30),
    Observable("protein_pct", "%", COW_COMPOSITION, "milk true/crude protein, % w/w",
               individual_likelihood=STUDENT_T, noise_sigma=0.10),
    Observable("lactose_pct", "%", COW_COMPOSITION, "milk lactose, % w/w",
               individual_likelihood=STUDENT_T, noise_sigma=0.10),
    # log scale: SCC is log-normal in herds, analysed as log2 (somatic cell score; Ali &
    # Shook 1980, J Dairy Sci 63:487). noise_sigma: SD of ln SCC between a record and the
    # model; counting alone has CV 11-30 % (repeatability / reproducibility between
    # laboratories; Faust & Timms 1995, J Dairy Sci 78:546), and milking-to-milking
    # variation adds more (reasoning: 0.5, wide; Student-t df 4 tails for spikes)
    Observable("somatic_cell_count", "1e3/mL", CELL_COUNT,
               "somatic cells per mL of milk (thousands)",
               individual_likelihood=LOG_STUDENT_T, noise_sigma=0.5, default_cv=1.0),
    # --- additions (not in the original contract; see docs/datasets.md) --------------
    Observable("milk_intake_24h_per_kg", "mL/kg/24h", VOLUME,
               "24 h milk intake per kg infant body weight", modelled=False,
               unmodelled_reason="per-kg basis: converting to mL/24h needs the infants' "
               "body weights, which the source abstract does not give", added=True),
    Observable("milk_extractable_24h", "mL/24h", VOLUME,
               "milk that can be extracted over 24 h (intake plus residual)", modelled=False,
               unmodelled_reason=_NOT_PREDICTED + " (use milk_intake_24h + milk_residual_24h)",
               added=True),
    Observable("milk_citrate_diffusible", "mmol/L", CONCENTRATION,
               "diffusible (ultrafiltrable) citrate in milk", modelled=False,
               unmodelled_reason="diffusible fraction only; the model predicts total citrate",
               added=True),
    Observable("milk_calcium_total", "mmol/L", CONCENTRATION, "total calcium in milk",
               modelled=False, unmodelled_reason="the model has no calcium state", added=True),
    Observable("plasma_oxytocin_basal", "pg/mL", HORMONE, "plasma oxytocin before a feed",
               modelled=False, unmodelled_reason=_NOT_PREDICTED, default_cv=0.5, added=True),
    Observable("plasma_oxytocin_feed_2min", "pg/mL", HORMONE,
               "plasma oxytocin 2 min after the start of suckling", modelled=False,
               unmodelled_reason=_NOT_PREDICTED, default_cv=0.5, added=True),
    Observable("plasma_prolactin_feed_10min", "ng/mL", HORMONE,
               "plasma prolactin 10 min after the start of suckling (not necessarily the peak)",
               modelled=False, unmodelled_reason=_NOT_PREDICTED, default_cv=0.5, added=True),
    Observable("prolactin_half_life", "h", PARAMETER,
               "plasma prolactin elimination half-life", modelled=False, time_indexed=False,
               unmodelled_reason="a pharmacokinetic parameter (prior information for the "
               "prolactin clearance rate), not an observation", added=True),
    Observable("body_weight", "kg", COVARIATE, "cow live weight", modelled=False,
               unmodelled_reason="cow covariate; the model has no body-weight state",
               added=True),
    Observable("body_condition_score", "score_1_10", COVARIATE,
               "cow body condition score, New Zealand 1-10 scale", modelled=False,
               unmodelled_reason="cow covariate; the model has no body-condition state",
               added=True),
    # qualitative facts (for scenario tests; never likelihood rows)
    Observable("transition_delay", "h", QUALITATIVE,
               "lactogenesis-II marker transitions delayed relative to a reference group",
               modelled=False, time_indexed=False, added=True,
               unmodelled_reason="qualitative fact"),
    Observable("weaning_direction", "", QUALITATIVE,
               "direction of composition changes after weaning", modelled=False,
               time_indexed=False, added=True, unmodelled_reason="qualitative fact"),
    Observable("prolactin_response_breast_pump", "", QUALITATIVE,
               "prolactin response when a breast pump replaces the infant", modelled=False,
               time_indexed=False, added=True, unmodelled_reason="qualitative fact"),
    Observable("prolactin_response_contact_no_nursing", "", QUALITATIVE,
               "prolactin response to infant contact without nursing", modelled=False,
               time_indexed=False, added=True, unmodelled_reason="qualitative fact"),
)

VOCABULARY: dict[str, Observable] = {o.name: o for o in OBSERVABLES}
OBSERVABLE_NAMES: tuple[str, ...] = tuple(o.name for o in OBSERVABLES)
CODES: dict[str, int] = {name: i for i, name in enumerate(OBSERVABLE_NAMES)}

assert len(VOCABULARY) == len(OBSERVABLES), "duplicate observable name"
assert all(o.kind in KINDS for o in OBSERVABLES)


def observable(name: str) -> Observable:
    """The vocabulary entry for `name` (KeyError naming close matches if unknown)."""
    try:
        return VOCABULARY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, OBSERVABLE_NAMES, n=3)
        raise KeyError(f"unknown observable {name!r}; close matches: {close}") from None


def code(name: str) -> int:
    """Integer code of an observable (its index in `OBSERVABLES`)."""
    return CODES[observable(name).name]


def observable_property(names, attr: str) -> np.ndarray:
    """`getattr(VOCABULARY[name], attr)` for every name of an array-like (fast for long
    columns: each distinct name is looked up once). Unknown names raise KeyError."""
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(names, dtype=object))
    looked_up = [getattr(VOCABULARY[u], attr) for u in uniques]
    if not looked_up:
        return np.array([], dtype=object)
    return np.asarray(looked_up)[codes]


def default_noise_sigma() -> np.ndarray:
    """Default per-observable measurement-noise scales, indexed by observable code.

    These are starting values (or prior centres) for fitted noise parameters, not
    estimates: 15% (log scale) for single-milking yields, 10% for daily yields, 0.3 /
    0.1 / 0.1 percentage points for fat / protein / lactose %, 0.5 on the log scale for
    somatic cell count. See docs/datasets.md.
    """
    return np.array([o.noise_sigma for o in OBSERVABLES], dtype=np.float64)
