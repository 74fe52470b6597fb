"""Write herd_testdays.csv: a SYNTHETIC test-day table (the README's example).

Not real cows (ids SYN101-SYN103): 3 cows x 8 test days about 5 weeks apart,
generated with a fixed seed: milk from a Wood lactation curve (a t^b exp(-c t), kg/d)
with random noise; fat % and protein % that fall as yield rises, as in herds; SCC
(x1000 cells/mL) log-normal, higher in older cows. The layout is
DHI-like: CowID, Lact, CalvingDate, TestDate (ISO dates), DIM, Milk (kg/24 h), Fat and
Protein (%), SCC (x1000 cells/mL), Breed. One fat cell is left empty on purpose (an
unanalysed sample): the importer writes no fat row for it and counts it.

Run from the repository root:  python examples/testday/make_example.py
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
OUT = Path(__file__).with_name("herd_testdays.csv")

COWS = (  # cow id, parity, calving date, breed, Wood a, b, c (t in days)
    ("SYN101", 1, date(2023, 2, 14), "Holstein", 17.0, 0.20, 0.0040),
    ("SYN102", 2, date(2023, 3, 2), "Holstein", 21.0, 0.21, 0.0048),
    ("SYN103", 3, date(2023, 1, 20), "Jersey", 14.0, 0.19, 0.0045),
)


def main() -> None:
    rng = np.random.default_rng(SEED)
    rows = []
    for cow, parity, calving, breed, a, b, c in COWS:
        first_test = int(rng.integers(5, 30))
        for k in range(8):
            dim = first_test + 35 * k + int(rng.integers(-3, 4))
            milk = a * dim**b * np.exp(-c * dim) * np.exp(rng.normal(0.0, 0.05))
            peak = a * (b / c) ** b * np.exp(-b)
            fat = (3.6 if breed == "Holstein" else 4.8) + 0.9 * (1 - milk / peak) \
                + rng.normal(0.0, 0.15)
            protein = (3.1 if breed == "Holstein" else 3.7) + 0.5 * (1 - milk / peak) \
                + rng.normal(0.0, 0.06)
            scc = float(np.exp(rng.normal(np.log(80.0 + 20 * parity), 0.5)))
            rows.append({
                "CowID": cow, "Lact": parity, "CalvingDate": calving.isoformat(),
                "TestDate": (calving + timedelta(days=dim)).isoformat(), "DIM": dim,
                "Milk": round(milk, 1), "Fat": round(fat, 2), "Protein": round(protein, 2),
                "SCC": int(round(scc)), "Breed": breed,
            })
    table = pd.DataFrame(rows)
    table["Fat"] = table["Fat"].astype(object)
    table.loc[10, "Fat"] = ""  # an unanalysed fat sample: no fat row for this test day
    table.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(table)} synthetic test-day records)")


if __name__ == "__main__":
    main()
