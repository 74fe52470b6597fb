"""The observation registry: every model output that a table, a fit or a benchmark reads,
declared once (name, unit, how it is read from a solved `Trajectory`).

Readers (`Observable.reader`):
- DAILY: a key of `observation.daily` (index d covers hours [24 d, 24 d + 24));
- SESSION: a key of `observation.per_session` at one removal session (feed, milking);
- SESSION_RATE: a per-session amount summed over the sessions in a window, per day;
- SESSION_SUM: a per-session amount summed over the sessions starting in a window (a
  test-weighed feed: one breast after the other are two sessions; a point time: the session
  starting nearest it);
- SESSION_POOLED: a concentration of the milk removed, chosen by the row's window as the
  yields are: a row shorter than a day is one milking (the session nearest its t_end_h,
  as SESSION); a row spanning a day or more (a test day, a weekly record) is the milk of
  the sessions starting in [t_start, t_end) pooled, i.e. their mean weighted by the
  per-session output `weight` (the yield: what a proportional composite sample measures);
- EVENT: a key of `observation.event_times` (hours after delivery);
- PARAM: a model parameter (no simulation).

`Observable.data` lists the dataset observables (lactojax.datasets.vocabulary) that the
output predicts: the fits' row mapping (lactojax.inference.problem) reads this table, so
adding an observable is one entry here (plus its reader key if it is new). `per_gland` names the output that predicts a row of this
observable naming a gland (a breast, a quarter: `datasets.schema.GLANDS`). `table` marks
the columns of `lactojax.tables.daily_table` ("core": guaranteed by the CLI, in this order;
"extra": after them); `gland_column` is the per-gland column name pattern of a (days,
glands) daily output.
"""

from __future__ import annotations

import dataclasses

import numpy as np

DAILY, SESSION, SESSION_RATE, EVENT, PARAM = "daily", "session", "session_rate", "event", "param"
SESSION_POOLED, SESSION_SUM = "session_pooled", "session_sum"
READERS = (DAILY, SESSION, SESSION_RATE, SESSION_POOLED, SESSION_SUM, EVENT, PARAM)
# readers computed from `observation.per_session` (one feature block)
SESSION_READERS = (SESSION, SESSION_RATE, SESSION_POOLED, SESSION_SUM)


@dataclasses.dataclass(frozen=True)
class Observable:
    name: str
    unit: str
    reader: str
    key: str = ""  # key of the reader's output (default: name)
    data: tuple[str, ...] = ()
    table: str = ""  # "core" | "extra" | "" (not a daily-table column)
    gland_column: str = ""  # e.g. "production_gland_{i}_ml"
    weight: str = ""  # SESSION_POOLED: the per-session output weighting the pooled mean
    per_gland: str = ""  # the output predicting a row that names a gland (module doc)

    @property
    def source_key(self) -> str:
        return self.key or self.name

    @property
    def weighted_key(self) -> str:
        """SESSION_POOLED: name of the per-session feature value x weight (the numerator
        of the pooled mean; `lactojax.inference.density` computes it)."""
        return f"{self.source_key}*{self.weight}" if self.weight else ""


_O = Observable
REGISTRY: tuple[Observable, ...] = (
    # daily, in the order of the daily table's columns
    _O("milk_intake_ml", "mL/d", DAILY, data=("milk_intake_24h",), table="core"),
    _O("milk_sodium_mmol_l", "mmol/L", DAILY, data=("milk_sodium",), table="core", per_gland="gland_sodium_mmol_l"),
    _O("milk_lactose_g_l", "g/L", DAILY, data=("milk_lactose",), table="core"),
    _O("milk_protein_g_l", "g/L", DAILY, data=("milk_protein",), table="core"),
    _O("milk_fat_g_l", "g/L", DAILY, data=("milk_fat",), table="core"),
    _O("prolactin_basal_ng_ml", "ng/mL", DAILY, data=("plasma_prolactin_basal",), table="core"),
    _O("milk_removed_ml", "mL/d", DAILY, table="extra"),
    _O("production_ml", "mL/d", DAILY, data=("milk_production_24h",), table="extra", per_gland="production_gland_ml"),
    _O("milk_potassium_mmol_l", "mmol/L", DAILY, data=("milk_potassium",), table="extra"),
    _O("milk_chloride_mmol_l", "mmol/L", DAILY, data=("milk_chloride",), table="extra"),
    _O("milk_citrate_mmol_l", "mmol/L", DAILY, data=("milk_citrate",), table="extra"),
    _O("milk_na_k_ratio", "1", DAILY, table="extra"),
    _O("prolactin_peak_ng_ml", "ng/mL", DAILY, data=("plasma_prolactin_peak_feed",), table="extra"),
    _O("oxytocin_peak_pg_ml", "pg/mL", DAILY, data=("plasma_oxytocin_peak_feed",), table="extra"),
    _O("progesterone_ng_ml", "ng/mL", DAILY, table="extra"),
    _O("fever_max_c", "degC", DAILY, table="extra"),
    _O("somatic_cell_count_k_ml", "1e3 cells/mL", DAILY, table="extra"),
    _O("production_per_gland_ml", "mL/d", DAILY, data=("milk_production_24h_per_gland",),
       per_gland="production_gland_ml"),
    _O("prolactin_fold_rise", "1", DAILY, data=("prolactin_suckling_fold_rise",)),
    _O("production_gland_ml", "mL/d", DAILY, gland_column="production_gland_{i}_ml"),
    _O("removed_gland_ml", "mL/d", DAILY, gland_column="removed_gland_{i}_ml"),
    _O("fullness_max", "1", DAILY, gland_column="fullness_max_gland_{i}"),
    _O("gland_sodium_mmol_l", "mmol/L", DAILY, gland_column="sodium_gland_{i}_mmol_l"),
    # per removal session (dairy conventions: kg, % w/w)
    _O("yield_kg", "kg", SESSION, data=("milk_yield_per_milking",)),
    _O("yield_kg_per_day", "kg/d", SESSION_RATE, key="yield_kg", data=("milk_yield_daily",)),
    # composition of the milk removed: one milking, or a test day / week pooled by yield
    # (a proportional composite sample, as milk recording takes; ICAR guidelines section 2)
    _O("fat_pct", "%", SESSION_POOLED, data=("fat_pct",), weight="yield_kg"),
    _O("protein_pct", "%", SESSION_POOLED, data=("protein_pct",), weight="yield_kg"),
    _O("lactose_pct", "%", SESSION_POOLED, data=("lactose_pct",), weight="yield_kg"),
    # SCC of the milk removed (composite over the glands milked; pooled over the sessions of
    # a test-day or weekly record by yield). Log-scale likelihood: dairy recording analyses
    # log SCC (somatic cell score = log2(SCC / 100) + 3, SCC in 1e3/mL; Ali & Shook 1980,
    # J Dairy Sci 63:487), lactojax.datasets.vocabulary
    _O("somatic_cell_count_removed_k_ml", "1e3 cells/mL", SESSION_POOLED, key="somatic_cell_count_k_ml",
       data=("somatic_cell_count",), weight="yield_kg"),
    # milk removed at a feed (test weighing: the infant's weight change, or a pumped volume),
    # all glands or one (per breast)
    _O("removed_per_feed_ml", "mL", SESSION_SUM, key="removed_ml", data=("milk_removed_per_feed",),
       per_gland="removed_per_feed_gland_ml"),
    _O("removed_per_feed_gland_ml", "mL", SESSION_SUM, key="removed_gland_ml"),
    # lactogenesis II event times
    _O("lactogenesis_II_onset", "h", EVENT, data=("lactogenesis_II_onset",)),
    _O("milk_coming_in_perceived", "h", EVENT, data=("milk_coming_in_perceived",)),
    _O("lactose_transition_end", "h", EVENT, data=("lactose_transition_end",)),
    _O("citrate_transition_start", "h", EVENT, data=("citrate_transition_start",)),
    _O("citrate_transition_end", "h", EVENT, data=("citrate_transition_end",)),
    _O("sodium_below_20", "h", EVENT),
    # parameters observed directly
    _O("storage_capacity_ml", "mL", PARAM, data=("storage_capacity_per_gland",)),
)
OBSERVABLES: dict[str, Observable] = {o.name: o for o in REGISTRY}
# dataset observable -> the model output predicting it
BY_DATA_NAME: dict[str, Observable] = {d: o for o in REGISTRY for d in o.data}


def fitted(reader: str) -> tuple[Observable, ...]:
    """The outputs of one reader that predict some dataset observable (fit features)."""
    return tuple(o for o in REGISTRY if o.reader == reader and o.data)


def table_columns() -> tuple[str, ...]:
    """Scalar daily-table columns after `day`: the core ones, then the extra ones."""
    return tuple(o.name for t in ("core", "extra") for o in REGISTRY if o.table == t)


def daily_columns(d: dict) -> dict[str, np.ndarray]:
    """The columns of the daily table (without `day`) from an `observation.daily` dict;
    leading batch axes (e.g. posterior draws) are kept, per-gland outputs are split."""
    cols = {k: np.asarray(d[k]) for k in table_columns()}
    per_gland = [o for o in REGISTRY if o.gland_column]
    for i in range(np.shape(d[per_gland[0].name])[-1]):
        for o in per_gland:
            cols[o.gland_column.format(i=i)] = np.asarray(d[o.name])[..., i]
    return cols


assert all((o.reader == SESSION_POOLED) == bool(o.weight) for o in REGISTRY), "SESSION_POOLED needs a weight"
assert all(o.per_gland in OBSERVABLES and (OBSERVABLES[o.per_gland].reader in SESSION_READERS)
           == (o.reader in SESSION_READERS) for o in REGISTRY if o.per_gland), "per_gland: an output of the same kind"

__all__ = ["BY_DATA_NAME", "DAILY", "EVENT", "OBSERVABLES", "Observable", "PARAM", "READERS", "REGISTRY",
           "SESSION", "SESSION_POOLED", "SESSION_RATE", "SESSION_READERS", "SESSION_SUM", "daily_columns", "fitted",
           "table_columns"]
