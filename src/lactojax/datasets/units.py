"""Unit conversion to the model's units: the one place where source units are handled.

Every accepted (observable, unit) pair maps to a multiplicative factor: value in model
units = value in source unit x factor. Spreads that carry units (SD, SEM, range and IQR
bounds) use the same factor; a CV (in %) is unitless and is not converted.

Constants:
- MILK_DENSITY_G_PER_ML = 1.032 g/mL: human and bovine whole milk density, used to turn
  grams (or kg) of milk into mL, and "per 100 g of milk" into "per litre" (bovine whole
  milk ~1.027-1.033 g/mL at 20 degC, Walstra, Wouters & Geurts 2006, Dairy Science and
  Technology, 2nd ed., ch. 1). The one definition
  of the density: the model's dairy outputs (`lactojax.observation.per_session`, the dairy
  tables of `lactojax.dairy.tables`) convert with `milk_ml_to_kg` and `g_per_l_to_pct` below.
- G_PER_L_PER_PCT = 10 x density: g/L of milk per 1 % (w/w, g per 100 g of milk).
- Molar masses (g/mol): Na 22.990, K 39.098, Cl 35.453, Ca 40.078 (IUPAC standard
  atomic weights), anhydrous lactose C12H22O11 342.30, citrate anion C6H5O7 189.10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lactojax.datasets.vocabulary import OBSERVABLES, VOCABULARY

MILK_DENSITY_G_PER_ML = 1.032
G_PER_L_PER_PCT = 10.0 * MILK_DENSITY_G_PER_ML  # 1 g/100 g of milk = 10 x density g/L

MOLAR_MASS_G_PER_MOL = {
    "sodium": 22.990,
    "potassium": 39.098,
    "chloride": 35.453,
    "calcium": 40.078,
    "lactose": 342.30,
    "citrate": 189.10,
}

_RHO = MILK_DENSITY_G_PER_ML

# Accepted source units per model unit (for observables with no molar-mass dependence).
_VOLUME_24H = {"mL/24h": 1.0, "g/24h": 1.0 / _RHO, "kg/24h": 1000.0 / _RHO}
_VOLUME = {"mL": 1.0, "g": 1.0 / _RHO}
_PER_KG = {"mL/kg/24h": 1.0, "g/kg/24h": 1.0 / _RHO}
_MASS_CONC = {  # g/L
    "g/L": 1.0,
    "g/100mL": 10.0,
    "g/100g": G_PER_L_PER_PCT,  # g per 100 g of milk -> g per litre of milk
    "g/kg": _RHO,
}
_TIME_H = {"h": 1.0, "min": 1.0 / 60.0, "d": 24.0}


def _molar(substance: str) -> dict[str, float]:
    """Accepted units for a substance reported in mmol/L (or by mass)."""
    m = MOLAR_MASS_G_PER_MOL[substance]
    units = {
        "mmol/L": 1.0,
        "mM": 1.0,
        "mg/L": 1.0 / m,
        "mg/100mL": 10.0 / m,
        "mg/100g": 10.0 * _RHO / m,
    }
    if substance in ("sodium", "potassium", "chloride"):
        units["mEq/L"] = 1.0  # monovalent ions: 1 mEq = 1 mmol
    return units


def _lactose_units() -> dict[str, float]:
    units = dict(_MASS_CONC)
    per_mmol = MOLAR_MASS_G_PER_MOL["lactose"] / 1000.0  # g per mmol
    units["mmol/L"] = per_mmol
    units["mM"] = per_mmol
    return units


_BY_OBSERVABLE: dict[str, dict[str, float]] = {
    "milk_sodium": _molar("sodium"),
    "milk_potassium": _molar("potassium"),
    "milk_chloride": _molar("chloride"),
    "milk_citrate": _molar("citrate"),
    "milk_citrate_diffusible": _molar("citrate"),
    "milk_calcium_total": _molar("calcium"),
    "milk_lactose": _lactose_units(),
    "milk_protein": dict(_MASS_CONC),
    "milk_fat": dict(_MASS_CONC),
    "milk_intake_24h_per_kg": dict(_PER_KG),
    "prolactin_half_life": dict(_TIME_H),
}

_BY_MODEL_UNIT: dict[str, dict[str, float]] = {
    "mL/24h": _VOLUME_24H,
    "mL": _VOLUME,
    "ng/mL": {"ng/mL": 1.0, "ug/L": 1.0},
    "pg/mL": {"pg/mL": 1.0, "ng/L": 1.0},
    "ratio": {"ratio": 1.0},
    "h": _TIME_H,
    "kg": {"kg": 1.0},
    "kg/d": {"kg/d": 1.0},
    "%": {"%": 1.0},
    "1e3/mL": {"1e3/mL": 1.0, "cells/mL": 1e-3},
    "score_1_10": {"score_1_10": 1.0},
    "": {"": 1.0},
}


def accepted_units(name: str) -> dict[str, float]:
    """Accepted source units of observable `name`, each with its factor to model units."""
    obs = VOCABULARY[name]
    if name in _BY_OBSERVABLE:
        return dict(_BY_OBSERVABLE[name])
    return dict(_BY_MODEL_UNIT[obs.model_unit])


# Every vocabulary entry must have its model unit among its accepted units, factor 1.
for _o in OBSERVABLES:
    assert accepted_units(_o.name).get(_o.model_unit) == 1.0, _o.name

# Flat lookup table used by the loader: (observable, unit) -> factor.
FACTORS: dict[tuple[str, str], float] = {
    (o.name, u): f for o in OBSERVABLES for u, f in accepted_units(o.name).items()
}


def factor(name: str, unit: str) -> float:
    """Multiplicative factor from `unit` to the model unit of observable `name`."""
    try:
        return FACTORS[(name, unit)]
    except KeyError:
        raise ValueError(
            f"unit {unit!r} not accepted for {name!r}; expected one of "
            f"{sorted(accepted_units(name))}"
        ) from None


def grams_milk_to_ml(grams: float | np.ndarray) -> float | np.ndarray:
    """Mass of milk (g) to volume (mL), using MILK_DENSITY_G_PER_ML."""
    return grams / MILK_DENSITY_G_PER_ML


def milk_ml_to_kg(ml):
    """Volume of milk (mL) to mass (kg), using MILK_DENSITY_G_PER_ML (dairy yields are
    weighed). Plain arithmetic: numpy and JAX arrays alike."""
    return ml * MILK_DENSITY_G_PER_ML / 1000.0


def g_per_l_to_pct(g_per_l):
    """Concentration in g per litre of milk to % w/w (g per 100 g of milk), the dairy
    convention for fat, protein and lactose. Plain arithmetic: numpy and JAX arrays alike."""
    return g_per_l / G_PER_L_PER_PCT


def factors_for(observables: pd.Series, units: pd.Series) -> np.ndarray:
    """Vectorised `factor` for two aligned columns (NaN where the pair is not accepted)."""
    keys = pd.MultiIndex.from_arrays([observables.to_numpy(), units.to_numpy()])
    table = pd.Series(FACTORS)
    return table.reindex(keys).to_numpy(dtype=np.float64)
