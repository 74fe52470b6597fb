"""Evidence for the model changes proposed in docs/physiology.md ("Known model defects").

Runs the affected scenarios through the normal scenario pipeline with a candidate fix applied
*in this process only* (parameter overrides, or for type 1 diabetes a monkeypatched vector
field). Nothing in the core is changed.

    .venv/bin/python scripts/scenario_defect_evidence.py t1d        # lag 60 and 66 h, tau bound
    .venv/bin/python scripts/scenario_defect_evidence.py cabergoline # potency 3, 4, 5
    .venv/bin/python scripts/scenario_defect_evidence.py cow         # cow preset variants
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys


def _with_params(name: str, overrides: dict):
    from lactojax.scenarios import get
    from lactojax.scenarios.core import Setup

    base = get(name)

    def build():
        st = base.build()
        return Setup(st.days, tuple(dataclasses.replace(a, params=a.params.replace(**overrides)) for a in st.arms))

    return dataclasses.replace(base, build=build)


def _patch_t1d_refractory(lag_h: float, width_h: float = 6.0) -> None:
    """Proposed T1D mechanism: secretory activation refractory until ~lag_h. The effective
    progesterone-receptor occupancy (the brake on STAT5, the tight junctions and colostral
    protein) becomes 1 - (1 - occupancy) * (1 - type1_diabetes * sigmoid((lag_h - t) / width_h))."""
    import jax.numpy as jnp

    import lactojax.dynamics.signalling as sg
    import lactojax.dynamics.vector_field as vf
    import lactojax.simulate as sim

    occ, field = sg.progesterone_receptor_occupancy, vf.vector_field

    def patched(t, state, args):
        _, inputs = args
        refractory = inputs.profile.type1_diabetes / (1.0 + jnp.exp((t - lag_h) / width_h))
        brake = lambda p, p4: 1.0 - (1.0 - occ(p, p4)) * (1.0 - refractory)
        vf.progesterone_receptor_occupancy = brake
        sg.progesterone_receptor_occupancy = brake
        return field(t, state, args)

    sim.vector_field = patched


def run_one(spec: dict) -> None:
    from lactojax.scenarios import get, run_many

    if spec.get("t1d_lag_h") is not None:
        _patch_t1d_refractory(spec["t1d_lag_h"])
    scenario = _with_params(spec["scenario"], spec.get("overrides", {})) if spec.get("overrides") else get(spec["scenario"])
    res = run_many([scenario])[scenario.name]
    print(f"== {spec['label']}")
    for c, x, ok in res.checks():
        print(f"   [{'pass' if ok else 'FAIL'}] {c.describe()}: {x:.4g}")
    others = {k: round(v, 3) for k, v in res.metrics.items() if k not in {c.metric for c in scenario.criteria}}
    print(f"   other: {others}", flush=True)


CASES = {
    "t1d": [
        dict(label="T1D nominal", scenario="type1_diabetes"),
        dict(label="T1D, type1_diabetes_extra_tau_h = 150 (upper bound)", scenario="type1_diabetes",
             overrides={"type1_diabetes_extra_tau_h": 150.0}),
        dict(label="T1D, proposed refractoriness, lag 60 h", scenario="type1_diabetes", t1d_lag_h=60.0),
        dict(label="T1D, proposed refractoriness, lag 66 h", scenario="type1_diabetes", t1d_lag_h=66.0),
        dict(label="normal mother with the T1D patch (must be unchanged)", scenario="normal", t1d_lag_h=60.0),
    ],
    "cabergoline": [
        dict(label=f"dopamine_agonist_potency = {v:g}", scenario="dopamine_drugs",
             overrides={"dopamine_agonist_potency": v}) for v in (3.0, 4.0, 5.0)
    ],
    "cow": [
        dict(label="cow preset (nominal)", scenario="cow_half_udder"),
        dict(label="cow, stasis_fill_half = 1.5", scenario="cow_half_udder", overrides={"stasis_fill_half": 1.5}),
        dict(label="cow, fil_half_fill = 1.5", scenario="cow_half_udder", overrides={"fil_half_fill": 1.5}),
        dict(label="cow, proposed preset: pump_rate 30, storage 15000, proliferation 0.001, vmax 130",
             scenario="cow_half_udder",
             overrides={"pump_rate_per_h": 30.0, "storage_capacity_ml": 15000.0,
                        "cell_proliferation_per_h": 0.001, "lactose_vmax_mmol_h": 130.0}),
    ],
}


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--one":
        run_one(json.loads(argv[1]))
        return 0
    if len(argv) != 1 or argv[0] not in CASES:
        print(__doc__)
        return 2
    for spec in CASES[argv[0]]:  # one process per case: patches and jit caches stay separate
        subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
