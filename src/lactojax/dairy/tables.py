"""Dairy units for a simulated cow or goat: the daily values a milk recorder reports.

The model's daily outputs (`lactojax.observation.daily`, in the registry's units: mL/d,
g/L) are shown to dairy users as:
- `dim`: days in milk, the whole days since calving at the start of the row's day (0 = the
  day of calving; the same index as the human table's `day`);
- `yield_kg_per_day`: milk removed (milked) over the day, all glands, kg/d; per gland
  `yield_<part>_<i>_kg_per_day`, where the part is "quarter" (cow) or "half" (goat);
- `fat_pct`, `protein_pct`, `lactose_pct`: % w/w (g per 100 g of milk) of the daily values
  of the human table (fat: of the milk removed over the day; protein and lactose: daily mean
  of the stored milk);
- `scc_k_per_ml`: somatic cell count, 1e3 cells/mL, of the milk removed over the day: the
  registry's `somatic_cell_count` observable (each milking's composite of all glands,
  pooled over the day's milkings by yield, as a test-day sample measures it).

Conversions are the registry's (`lactojax.datasets.units.milk_ml_to_kg`, `g_per_l_to_pct`;
milk density 1.032 g/mL), the ones `observation.per_session` uses, so a cow scenario's
metrics in kg or % equal the columns of its daily table.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lactojax.observables import OBSERVABLES, REGISTRY, table_columns

DAIRY_SPECIES = ("cow", "goat")
UDDER_PART = {"cow": "quarter", "goat": "half"}  # what dairy records call one gland

# (column, unit, meaning) of the dairy table's leading columns, in order
DAIRY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("dim", "d", "days in milk (0 = the day of calving)"),
    ("yield_kg_per_day", "kg/d", "milk removed (milked) over the day, all glands"),
    ("fat_pct", "%", "fat of the milk removed over the day, g per 100 g of milk"),
    ("protein_pct", "%", "protein, daily mean of the stored milk, g per 100 g"),
    ("lactose_pct", "%", "lactose, daily mean of the stored milk, g per 100 g"),
    ("scc_k_per_ml", "1e3 cells/mL", "somatic cell count of the day's milk (milkings pooled by yield)"),
)
# registry columns the dairy table shows in dairy units instead, or drops (no infant intake;
# the model's secretion is in the human table, yield is what is weighed)
_REPLACED = ("milk_intake_ml", "milk_removed_ml", "production_ml", "milk_fat_g_l", "milk_protein_g_l",
             "milk_lactose_g_l", "somatic_cell_count_k_ml")
# the other registry columns follow in their own units (named in the column)
KEPT_COLUMNS = tuple(c for c in table_columns() if c not in _REPLACED)
# per-gland registry outputs kept, "gland" in the column name read as the udder part
_KEPT_GLAND = ("fullness_max", "gland_sodium_mmol_l")
_SCC = OBSERVABLES["somatic_cell_count_removed_k_ml"]  # SESSION_POOLED: value, weight keys


def is_dairy(species: str) -> bool:
    return species in DAIRY_SPECIES


def udder_part(species: str) -> str:
    """What one gland is called in the species' records ("quarter", "half")."""
    return UDDER_PART.get(species, "gland")


def pooled_per_day(sessions: Mapping, n_days: int, value_key: str, weight_key: str) -> np.ndarray:
    """Per day, the mean of a per-session value weighted by a per-session weight over the
    sessions starting in [24 d, 24 d + 24) (NaN on a day without one): the registry's
    SESSION_POOLED rule for a one-day window."""
    start = np.asarray(sessions["start_h"], dtype=float)
    keep = np.asarray(sessions["valid"], dtype=bool) & (start >= 0.0) & (start < 24.0 * n_days)
    day = np.floor(start[keep] / 24.0).astype(int)
    value = np.asarray(sessions[value_key], dtype=float)[keep]
    weight = np.asarray(sessions[weight_key], dtype=float)[keep]
    num = np.bincount(day, weights=value * weight, minlength=n_days)
    den = np.bincount(day, weights=weight, minlength=n_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def dairy_daily(daily: Mapping, sessions: Mapping) -> dict[str, np.ndarray]:
    """Dairy outputs of one trajectory from `observation.daily` and `observation.per_session`
    (numpy or JAX arrays): dim (D,), yield_kg_per_day (D,), yield_gland_kg_per_day (D, G),
    fat_pct, protein_pct, lactose_pct (D,, %) and scc_k_per_ml (D,, 1e3 cells/mL)."""
    # imported here: `lactojax simulate --help` reads DAIRY_COLUMNS without loading pandas
    from lactojax.datasets.units import g_per_l_to_pct, milk_ml_to_kg

    n_days = int(np.shape(daily["day"])[0])
    return {
        "dim": np.asarray(daily["day"]).astype(int),
        "yield_kg_per_day": milk_ml_to_kg(np.asarray(daily["milk_removed_ml"], dtype=float)),
        "yield_gland_kg_per_day": milk_ml_to_kg(np.asarray(daily["removed_gland_ml"], dtype=float)),
        "fat_pct": g_per_l_to_pct(np.asarray(daily["milk_fat_g_l"], dtype=float)),
        "protein_pct": g_per_l_to_pct(np.asarray(daily["milk_protein_g_l"], dtype=float)),
        "lactose_pct": g_per_l_to_pct(np.asarray(daily["milk_lactose_g_l"], dtype=float)),
        "scc_k_per_ml": pooled_per_day(sessions, n_days, _SCC.source_key, _SCC.weight),
    }


def dairy_columns(daily: Mapping, sessions: Mapping, species: str = "cow") -> dict[str, np.ndarray]:
    """The dairy table's columns, in order: `DAIRY_COLUMNS`, then `KEPT_COLUMNS` (registry
    units), then per gland `yield_<part>_<i>_kg_per_day`, `fullness_max_<part>_<i>`,
    `sodium_<part>_<i>_mmol_l` (part: `udder_part(species)`)."""
    d = dairy_daily(daily, sessions)
    cols = {name: d[name] for name, _, _ in DAIRY_COLUMNS}
    cols.update({k: np.asarray(daily[k]) for k in KEPT_COLUMNS})
    part = udder_part(species)
    per_gland = [o for o in REGISTRY if o.name in _KEPT_GLAND]
    for i in range(d["yield_gland_kg_per_day"].shape[-1]):
        cols[f"yield_{part}_{i}_kg_per_day"] = d["yield_gland_kg_per_day"][:, i]
        for o in per_gland:
            cols[o.gland_column.replace("gland", part).format(i=i)] = np.asarray(daily[o.name])[:, i]
    return cols


def columns_help(species: str = "cow") -> str:
    """One line per dairy column with its unit (for --help and docs)."""
    part = udder_part(species)
    lines = [f"{name} ({unit}): {meaning}" for name, unit, meaning in DAIRY_COLUMNS]
    lines.append(f"yield_{part}_<i>_kg_per_day (kg/d): milk removed from {part} i")
    return "; ".join(lines)


__all__ = ["DAIRY_COLUMNS", "DAIRY_SPECIES", "KEPT_COLUMNS", "UDDER_PART", "columns_help", "dairy_columns",
           "dairy_daily", "is_dairy", "pooled_per_day", "udder_part"]
