"""Datasets: every dataset loads, round-trips, has the right units and provenance; every
class of bad input gives a DatasetError naming file, row and column."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lactojax import likelihoods as lk
from lactojax.datasets import (
    DESIGNS,
    DatasetError,
    UnknownDatasetError,
    design_for,
    fit_table,
    list_datasets,
    load_dataset,
    read_observations,
    subject_names,
    to_arrays,
    write_dataset,
    write_observations,
)
from lactojax.datasets import units, vocabulary
from lactojax.datasets.design import MILKMAN_MILKING_CLOCK_H, day_window_h, milking_window_h
from lactojax.datasets.loader import table_bytes
from lactojax.datasets.provenance import read_provenance, sha256_file
from lactojax.datasets.registry import data_root
from lactojax.datasets.schema import COLUMN_NAMES

from table_files import set_cell as _set, write_table as _write  # shared CSV helpers

HUMAN = [
    "arthur1989", "casey1986", "chonnam1982", "cox1996", "dewey1991_darling",
    "dewey_lonnerdal1983", "hartmann_kulski1978", "kent1992", "kent1999", "kulski1981",
    "michaelsen1994", "noel1974", "saint1984", "sievertsen1980", "stolley1981",
    "weitzman1981",
]
DAIRY = ["bovi_one_cow_daily", "bovi_test_day", "milkman", "nz_nine_cows", "nz_strain_trial"]
ALL = sorted(HUMAN + DAIRY)
EXPECTED_ROWS = {
    "arthur1989": 7, "casey1986": 3, "chonnam1982": 8, "cox1996": 6,
    "dewey1991_darling": 3, "dewey_lonnerdal1983": 2, "hartmann_kulski1978": 6,
    "kent1992": 6, "kent1999": 2, "kulski1981": 1, "michaelsen1994": 3, "noel1974": 4,
    "saint1984": 4, "sievertsen1980": 1, "stolley1981": 6, "weitzman1981": 5,
    "bovi_one_cow_daily": 430, "bovi_test_day": 33346, "milkman": 674286,
    "nz_nine_cows": 315, "nz_strain_trial": 56141,
}
SHARED = Path("/work/shared/data/human/published_summaries.csv")


def row_of(ds, **match) -> pd.Series:
    """The single table row matching column values."""
    t = ds.table
    mask = np.ones(len(t), dtype=bool)
    for col, val in match.items():
        mask &= (t[col] == val).to_numpy()
    hits = t.loc[mask]
    assert len(hits) == 1, (match, len(hits))
    return hits.iloc[0]


# --- every dataset ---------------------------------------------------------------------

def test_registry_lists_every_dataset():
    assert list_datasets() == ALL
    assert set(DESIGNS) == set(ALL)


@pytest.mark.skipif(not SHARED.exists(), reason="reference files not present")
def test_every_reference_study_has_a_dataset():
    studies = pd.read_csv(SHARED)["study"].unique()
    names = {s.lower().replace("hartmannkulski", "hartmann_kulski")
             .replace("deweylonnerdal", "dewey_lonnerdal") for s in studies}
    assert names <= set(HUMAN)
    assert len(studies) == len(HUMAN)


@pytest.mark.parametrize("name", ALL)
def test_dataset_loads_with_provenance(name):
    ds = load_dataset(name)
    prov = ds.provenance
    assert len(ds.table) == EXPECTED_ROWS[name] == prov.rows
    assert list(ds.table.columns[: len(COLUMN_NAMES)]) == list(COLUMN_NAMES)
    # provenance: citation, licence, checksum of the table file
    for key in ("citation", "licence", "source_file", "source_sha256", "verified"):
        assert prov.get(key), key
    assert sha256_file(ds.table_path) == prov.sha256
    text = (ds.path / "PROVENANCE.md").read_text()
    for heading in ("## Source", "## Transcription notes", "## Licence", "## Table"):
        assert heading in text
    # header summary agrees with the table
    assert set(prov.observables) == set(ds.table["observable"])
    span = ds.time_span_h()
    if span is None:
        assert prov.get("t_min_h") == ""
    else:
        assert float(prov.get("t_min_h")) == span[0] and float(prov.get("t_max_h")) == span[1]
    # model units present for every numeric row
    numeric = ds.table["statistic"].isin(["value", "mean", "median"])
    assert ds.table.loc[numeric, "value_model"].notna().all()
    # exclusion report is complete
    rep = ds.exclusions
    assert rep.n_used + sum(e.count for e in rep.entries) == rep.n_total == len(ds.table)
    assert ds.used.sum() == rep.n_used


@pytest.mark.parametrize("name", ALL)
def test_dataset_round_trips(name, tmp_path):
    ds = load_dataset(name)
    if name == "milkman":
        # 674k rows: writing the loaded table must reproduce the committed file byte for
        # byte, so loading what was written gives back the same table (the full
        # write-and-reload below is exercised on the other 20 datasets)
        assert table_bytes(ds.table, ds.table_path) == ds.table_path.read_bytes()
        return
    out = write_dataset(ds, tmp_path / name)
    assert (out / ds.provenance.table).read_bytes() == ds.table_path.read_bytes()
    again = load_dataset(out)
    pd.testing.assert_frame_equal(again.table, ds.table)
    assert again.provenance.fields == ds.provenance.fields
    assert again.exclusions == ds.exclusions


def test_data_directory_is_small():
    total = sum(p.stat().st_size for p in data_root().rglob("*") if p.is_file())
    assert total < 12 * 2**20


# --- spot values against the sources -------------------------------------------------------

def test_saint1984_day5_intake_in_ml():
    ds = load_dataset("saint1984")
    r = row_of(ds, t_start_h=96.0)
    assert (r["value"], r["unit"], r["lower"], r["upper"], r["n"]) == (705.4, "g/24h", 452.5,
                                                                        876.0, 9)
    assert r["value_model"] == pytest.approx(683.527, abs=1e-3)  # 705.4 / 1.032
    assert r["unit_model"] == "mL/24h"
    assert r["lower_model"] == pytest.approx(452.5 / 1.032)


def test_human_unit_conversions():
    assert row_of(load_dataset("kent1992"), observable="milk_lactose", t_start_h=0.0
                  )["value_model"] == pytest.approx(76 * 0.3423)  # mmol/L -> g/L
    st_ = load_dataset("stolley1981")
    assert row_of(st_, observable="milk_sodium", t_start_h=0.0)["value_model"] == \
        pytest.approx(54.4 * 10 * 1.032 / 22.990)  # mg/100 g -> mmol/L
    assert row_of(st_, observable="milk_protein", t_start_h=0.0)["value_model"] == \
        pytest.approx(16.2024)
    r = row_of(load_dataset("chonnam1982"), observable="milk_sodium", t_start_h=0.0)
    assert (r["value"], r["unit"], r["value_model"], r["spread_model"]) == (20.8, "mEq/L",
                                                                            20.8, 4.47)
    r = row_of(load_dataset("cox1996"), observable="plasma_prolactin_basal", t_end_h=720.0)
    assert (r["unit"], r["value_model"], r["unit_model"]) == ("ug/L", 119.0, "ng/mL")
    r = row_of(load_dataset("cox1996"), observable="milk_production_24h", t_end_h=720.0)
    assert r["value_model"] == pytest.approx(708 / 1.032)
    assert r["spread_model"] == pytest.approx(54.7 / 1.032)  # SEM scales with the value
    r = row_of(load_dataset("sievertsen1980"), observable="prolactin_half_life")
    assert r["value_model"] == pytest.approx(37 / 60) and r["spread_model"] == \
        pytest.approx(10 / 60)
    r = row_of(load_dataset("dewey1991_darling"), observable="milk_intake_24h")
    assert (r["spread_type"], r["spread"], r["spread_model"]) == ("CV", 16.3, 16.3)
    r = row_of(load_dataset("hartmann_kulski1978"), observable="milk_chloride")
    assert (r["value"], r["spread_type"], r["spread"], r["n"]) == (11.93, "SEM", 0.53, 3)
    r = row_of(load_dataset("kulski1981"), observable="lactogenesis_II_onset")
    assert (r["statistic"], r["lower"], r["upper"]) == ("interval", 32.0, 40.0)
    assert np.isnan(r["t_start_h"])


def test_milkman_rows_match_source():
    ds = load_dataset("milkman")
    # source line 2: cow 916, lactation 1, morning, day 1
    # 916,1,1,1,6.041,4.96,4.09,4.34,191.0,RDM,...
    first = ds.table[ds.table["source_row"] == 1].set_index("observable")
    assert first.loc["milk_yield_per_milking", "value"] == 6.041
    assert first.loc["fat_pct", "value"] == 4.96
    assert first.loc["protein_pct", "value"] == 4.09
    assert first.loc["lactose_pct", "value"] == 4.34
    assert first.loc["somatic_cell_count", "value"] == 191.0
    assert set(first["subject"]) == {"916_1"} and set(first["group"]) == {"RDM"}
    assert set(first["t_start_h"]) == {2.5} and set(first["t_end_h"]) == {17.0}
    # source data row 80673: 916,1,2,1,7.297,5.67,4.16,4.35,237.0 (evening, day 1)
    pm = ds.table[ds.table["source_row"] == 80673].set_index("observable")
    assert pm.loc["milk_yield_per_milking", "value"] == 7.297
    assert pm.loc["somatic_cell_count", "value"] == 237.0
    assert (pm["t_start_h"].iloc[0], pm["t_end_h"].iloc[0]) == (17.0, 26.5)
    # source data row 28 (cow 916, day 29, morning) has no composition: yield only
    assert set(ds.table.loc[ds.table["source_row"] == 28, "observable"]) <= {
        "milk_yield_per_milking"}
    counts = ds.observable_counts()
    assert counts["milk_yield_per_milking"] == 160736
    assert counts["fat_pct"] == 128538
    assert len(ds.subjects()) == 288


def test_milkman_times_follow_design():
    ds = load_dataset("milkman")
    d = design_for("milkman")
    assert d.milking_clock_h == MILKMAN_MILKING_CLOCK_H == (5.0, 14.5)
    assert d.milkings_per_day == 2 and d.n_glands == 4
    y = ds.table[ds.table["observable"] == "milk_yield_per_milking"]
    ends = np.sort(y["t_end_h"].unique())
    # milking times are 24 d - 7 (05:00) or 24 d + 2.5 (14:30) hours after calving
    assert set(np.round(ends % 24, 6)) == {17.0, 2.5}
    for day in (1, 2, 150, 305):
        for k in (0, 1):
            start, end = milking_window_h(day, k, d.milking_clock_h)
            assert end in set(ends)
            assert ((y["t_end_h"] == end) & (y["t_start_h"] == start)).any()
    intervals = (y["t_end_h"] - y["t_start_h"]).round(6)
    assert set(intervals.unique()) == {14.5, 9.5}


def test_nz_trial_rows_match_source():
    ds = load_dataset("nz_strain_trial")
    # data row 10: cow 852, week ending 15/08/2003, DaysInMilk 3, MilkYield 60 -> 20 kg/d
    r = row_of(ds, source_row=10, observable="milk_yield_daily")
    assert r["value"] == pytest.approx(20.0) and r["flag"] == ""
    assert (r["t_start_h"], r["t_end_h"]) == day_window_h(1, 3) == (12.0, 84.0)
    # data row 11: next week, 7 days, 140 kg -> 20 kg/d; fat 4.750000477 %; SCC 55
    r = row_of(ds, source_row=11, observable="milk_yield_daily")
    assert r["value"] == pytest.approx(20.0)
    assert (r["t_start_h"], r["t_end_h"]) == day_window_h(4, 10)
    assert row_of(ds, source_row=11, observable="fat_pct")["value"] == 4.750000477
    assert row_of(ds, source_row=11, observable="somatic_cell_count")["value"] == 55.0
    assert row_of(ds, source_row=11, observable="body_weight")["value"] == 408.0
    # the same row's composition is flagged 'estimated' in the source for row 10
    assert row_of(ds, source_row=10, observable="fat_pct")["flag"] == "estimated"
    assert row_of(ds, source_row=3055, observable="somatic_cell_count")["flag"] == \
        "at_reporting_limit"


def test_bovi_and_nine_cows_rows_match_source():
    ds = load_dataset("bovi_test_day")
    r = ds.table.iloc[0]  # 26-8-2017,27,1,23.6,20-8-2019,3781
    assert (r["subject"], r["group"], r["value"], r["unit"]) == ("3781", "parity 1", 23.6,
                                                                  "kg/d")
    assert (r["t_start_h"], r["t_end_h"]) == day_window_h(27) == (636.0, 660.0)
    dup = ds.table[ds.table["source_row"] == 675].iloc[0]  # repeats data row 674
    assert dup["flag"] == "duplicate"
    assert ds.table[ds.table["source_row"] == 674].iloc[0]["flag"] == ""
    nine = load_dataset("nz_nine_cows")
    r = row_of(nine, subject="cow1", t_start_h=day_window_h(7)[0])
    assert r["value"] == 20.0
    r = row_of(nine, subject="cow9", t_start_h=day_window_h(245)[0])
    assert r["value"] == 13.0
    one = load_dataset("bovi_one_cow_daily")
    assert one.table.iloc[0]["value"] == 27.22689076


# --- exclusions ----------------------------------------------------------------------------

def _excluded(ds) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in ds.exclusions.entries:
        out[e.rule] = out.get(e.rule, 0) + e.count
    return out


def test_exclusion_counts_and_reasons():
    assert _excluded(load_dataset("milkman")) == {"non-positive": 7}
    assert _excluded(load_dataset("bovi_test_day")) == {"flag=duplicate": 841}
    nz = _excluded(load_dataset("nz_strain_trial"))
    assert nz["flag=at_reporting_limit"] == 4
    assert nz["flag=estimated"] == 7135
    assert nz["unmodelled"] == 10019 + 5869
    assert _excluded(load_dataset("weitzman1981")) == {"flag=unverified_source": 5}
    assert _excluded(load_dataset("noel1974")) == {"qualitative": 2}
    assert _excluded(load_dataset("arthur1989")) == {"qualitative": 1}
    assert _excluded(load_dataset("casey1986")) == {"unmodelled": 3}
    assert _excluded(load_dataset("kent1992")) == {"unmodelled": 4}
    reasons = str(load_dataset("kent1992").exclusions)
    assert "milk_calcium_total" in reasons and "no calcium state" in reasons


def test_include_flags_uses_flagged_rows():
    ds = load_dataset("weitzman1981")
    assert len(to_arrays(ds).value) == 0
    arrays = to_arrays(ds, include_flags=("unverified_source",))
    names = {vocabulary.OBSERVABLE_NAMES[c] for c in arrays.obs_code}
    assert names == {"plasma_oxytocin_peak_feed", "plasma_prolactin_basal"}  # modelled only


def test_qualitative_facts_are_kept():
    facts = load_dataset("hartmann_kulski1978").table
    q = facts[facts["statistic"] == "qualitative"]
    assert list(q["observable"]) == ["weaning_direction"]
    assert "lactose and K fell" in q["note"].iloc[0]
    arthur = load_dataset("arthur1989").table
    assert "transition_delay" in set(arthur["observable"])


# --- arrays --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_to_arrays_fields(name):
    ds = load_dataset(name)
    a = to_arrays(ds)
    m = ds.exclusions.n_used
    assert all(len(x) == m for x in a)
    assert a.obs_code.dtype == np.int32 and a.kind.dtype == np.int32
    assert a.gland.dtype == np.int32 and a.subject.dtype == np.int32
    for field in ("t_start_h", "t_end_h", "value", "scale", "sd", "n"):
        arr = getattr(a, field)
        assert arr.dtype == np.float64 and np.all(np.isfinite(arr)), field
    assert np.all(a.scale > 0) and np.all(a.t_end_h >= a.t_start_h)
    assert np.all(a.gland == -1)  # no dataset identifies glands
    if m:
        names = subject_names(ds)
        assert a.subject.min() >= 0 and a.subject.max() < len(names)
        # rows map back to the table
        obs = ds.table.loc[a.row, "observable"].to_numpy()
        assert [vocabulary.OBSERVABLE_NAMES[c] for c in a.obs_code] == list(obs)
        assert np.all(a.t_end_h <= design_for(name).horizon_h + 1e-9)
        ind = a.kind >= lk.IND_LOGNORMAL
        assert np.all(a.value[ind & (a.kind != lk.IND_STUDENT_T)] > 0)


def test_to_arrays_group_rows():
    ds = load_dataset("saint1984")
    ft = fit_table(ds)
    day1 = ft[ft["t_start_h"] == 0.0].iloc[0]
    assert day1["kind"] == lk.GROUP_APPROX
    from scipy.special import ndtri

    xi9 = 2 * ndtri((9 - 0.375) / (9 + 0.25))  # Wan et al. 2014
    assert day1["sd"] == pytest.approx((122.5 - 7.0) / 1.032 / xi9, rel=1e-3)
    assert day1["scale"] == pytest.approx(day1["sd"] / 3)
    late = ft[ft["t_start_h"] == 312.0].iloc[0]
    assert late["kind"] == lk.GROUP_MEAN
    assert late["scale"] == pytest.approx(167 / 1.032 / 3)
    # event times: mean +- SD / sqrt(n); window [0, horizon]
    ev = fit_table(load_dataset("arthur1989"))
    cs = ev[ev["observable"] == "citrate_transition_start"].iloc[0]
    assert (cs["kind"], cs["value"], cs["sd"], cs["n"]) == (lk.EVENT_TIME, 32.0, 9.0, 13.0)
    assert cs["scale"] == pytest.approx(9 / np.sqrt(13))
    assert (cs["t_start_h"], cs["t_end_h"]) == (0.0, 240.0)
    # a daily rate at a single time covers the preceding 24 h
    intake = ev[ev["observable"] == "milk_intake_24h"]
    assert sorted(zip(intake["t_start_h"], intake["t_end_h"])) == [(0.0, 24.0), (120.0, 144.0)]
    # no spread printed: default CV
    assert (intake["sd"] / intake["value"]).round(6).tolist() == [0.25, 0.25]
    # interval: uniform
    k = fit_table(load_dataset("kulski1981")).iloc[0]
    assert (k["value"], k["sd"]) == (36.0, pytest.approx(8 / np.sqrt(12)))
    # median without spread
    fat = fit_table(load_dataset("michaelsen1994"))
    fat = fat[fat["observable"] == "milk_fat"].iloc[0]
    assert fat["kind"] == lk.GROUP_APPROX and fat["value"] == 39.2


def test_designs_cover_data():
    for name in ALL:
        d = design_for(name)
        assert d.dataset == name
        if d.species == "human" and d.removal == "breastfeeding":
            assert d.n_glands == 2 and d.feeds_per_day_range == (8.0, 12.0)
            assert 8 <= d.feeds_per_day <= 12 and d.feed_duration_h > 0
        if d.species == "cow":
            assert d.n_glands == 4 and d.milkings_per_day == 2
            assert len(d.milking_clock_h) == 2
    with pytest.raises(KeyError):
        design_for("nope")


# --- vocabulary and units ---------------------------------------------------------------

CONTRACT = {
    "milk_intake_24h": "mL/24h", "milk_production_24h": "mL/24h",
    "milk_production_24h_per_gland": "mL/24h", "milk_removed_per_feed": "mL",
    "storage_capacity_per_gland": "mL", "milk_residual_24h": "mL/24h",
    "milk_sodium": "mmol/L", "milk_potassium": "mmol/L", "milk_chloride": "mmol/L",
    "milk_citrate": "mmol/L", "milk_lactose": "g/L", "milk_protein": "g/L",
    "milk_fat": "g/L", "plasma_prolactin_basal": "ng/mL",
    "plasma_prolactin_peak_feed": "ng/mL", "plasma_oxytocin_peak_feed": "pg/mL",
    "prolactin_suckling_fold_rise": "ratio", "citrate_transition_start": "h",
    "citrate_transition_end": "h", "lactose_transition_end": "h",
    "milk_coming_in_perceived": "h", "lactogenesis_II_onset": "h",
    "milk_yield_per_milking": "kg", "milk_yield_daily": "kg/d", "fat_pct": "%",
    "protein_pct": "%", "lactose_pct": "%", "somatic_cell_count": "1e3/mL",
}


def test_vocabulary_contract():
    for name, unit in CONTRACT.items():
        o = vocabulary.observable(name)
        assert o.model_unit == unit and o.modelled and not o.added, name
    for o in vocabulary.OBSERVABLES:
        if o.name not in CONTRACT:
            assert o.added and not o.modelled and o.unmodelled_reason, o.name
    # codes are indices, and the contract names come first (stable codes)
    assert vocabulary.OBSERVABLE_NAMES[: len(CONTRACT)] == tuple(CONTRACT)
    assert vocabulary.code("milk_intake_24h") == 0
    with pytest.raises(KeyError, match="close matches"):
        vocabulary.observable("milk_sodum")


def test_units_single_place():
    assert units.MILK_DENSITY_G_PER_ML == 1.032
    assert units.factor("milk_intake_24h", "g/24h") == pytest.approx(1 / 1.032)
    assert units.factor("milk_lactose", "g/100g") == pytest.approx(10.32)
    assert units.factor("somatic_cell_count", "cells/mL") == 1e-3
    assert units.grams_milk_to_ml(1032.0) == pytest.approx(1000.0)
    with pytest.raises(ValueError, match="not accepted"):
        units.factor("milk_sodium", "g/L")
    # the density constant appears in exactly one module of the datasets side
    pkg = Path(units.__file__).parent
    files = list(pkg.rglob("*.py")) + [pkg.parent / "likelihoods.py"]
    assert [p.name for p in files if "1.032" in p.read_text()] == ["units.py"]


# --- bad input -------------------------------------------------------------------------------

GOOD = """subject,group,t_start_h,t_end_h,gland,observable,statistic,value,unit,spread_type,spread,lower,upper,n,flag,source_row,note
,g1,0.0,24.0,,milk_intake_24h,mean,37.1,g/24h,range,,7.0,122.5,9,,1,day 1
,g1,96.0,120.0,,milk_intake_24h,mean,705.4,g/24h,SD,100.0,,,9,,2,day 5
,g1,0.0,120.0,,milk_sodium,mean,20.8,mEq/L,SD,4.47,,,92,,3,
,g1,,,,citrate_transition_start,mean,32.0,h,SD,9.0,,,13,,4,
cow1,herd,17.0,26.5,,milk_yield_per_milking,value,7.297,kg,,,,,1,,5,
cow1,herd,17.0,26.5,,fat_pct,value,5.67,%,,,,,1,,5,
"""




def _expect(path: Path, row, column: str, *fragments: str):
    with pytest.raises(DatasetError) as info:
        read_observations(path)
    err = info.value
    msg = str(err)
    assert str(path) in msg
    assert err.row == row, msg
    assert err.column == column or column in err.column, msg
    if row is None:
        assert "header (line 1)" in msg
    else:
        assert f"row {row} (line {row + 1})" in msg
    assert "expected" in msg
    for f in fragments:
        assert f in msg, (f, msg)
    return err


def test_good_table_loads(tmp_path):
    t = read_observations(_write(tmp_path, GOOD))
    assert len(t) == 6 and t["n"].dtype == "Int64"


def test_unknown_observable(tmp_path):
    p = _write(tmp_path, _set(GOOD, 3, "observable", "milk_sodum"))
    _expect(p, 3, "observable", "a known observable", "milk_sodium", "'milk_sodum'")


def test_wrong_unit(tmp_path):
    p = _write(tmp_path, _set(GOOD, 2, "unit", "L"))
    _expect(p, 2, "unit", "'g/24h'", "'mL/24h'", "milk_intake_24h", "found 'L'")


def test_missing_column(tmp_path):
    df = pd.read_csv(pd.io.common.StringIO(GOOD), dtype=str, keep_default_na=False)
    p = _write(tmp_path, df.drop(columns=["unit"]).to_csv(index=False))
    _expect(p, None, "unit", "a column named 'unit'")


def test_unknown_column(tmp_path):
    df = pd.read_csv(pd.io.common.StringIO(GOOD), dtype=str, keep_default_na=False)
    df["extra"] = "x"
    _expect(_write(tmp_path, df.to_csv(index=False)), None, "extra", "only the schema")


def test_negative_volume(tmp_path):
    p = _write(tmp_path, _set(GOOD, 2, "value", "-705.4"))
    _expect(p, 2, "value", "non-negative volume", "-705.4")


def test_negative_concentration(tmp_path):
    p = _write(tmp_path, _set(GOOD, 3, "value", "-1"))
    _expect(p, 3, "value", "non-negative value", "milk_sodium")


@pytest.mark.parametrize("text", ["NaN", "nan", "inf", "-Infinity"])
def test_nan_text(tmp_path, text):
    p = _write(tmp_path, _set(GOOD, 4, "value", text))
    _expect(p, 4, "value", "finite number")


def test_nan_in_gz_table(tmp_path):
    p = _write(tmp_path, _set(GOOD, 5, "value", "nan"), name="obs.csv.gz")
    _expect(p, 5, "value", "finite number", "'nan'")


def test_missing_required_value(tmp_path):
    p = _write(tmp_path, _set(GOOD, 5, "value", ""))
    _expect(p, 5, "value", "needs a value")


def test_duplicate_row(tmp_path):
    lines = GOOD.strip().split("\n")
    text = "\n".join(lines + [lines[3]]) + "\n"  # repeat data row 3 as row 7
    err = _expect(_write(tmp_path, text), 7, "observable", "repeats row 3 (line 4)")
    assert "subject" in err.column


def test_flagged_duplicate_allowed_and_checked(tmp_path):
    lines = GOOD.strip().split("\n")
    dup = lines[5].replace(",1,,5,", ",1,duplicate,5,")
    assert read_observations(_write(tmp_path, "\n".join(lines + [dup]) + "\n")).shape[0] == 7
    orphan = dup.replace("7.297", "7.3")
    _expect(_write(tmp_path, "\n".join(lines + [orphan]) + "\n", "b.csv"), 7, "flag",
            "repeats an unflagged row")


@pytest.mark.parametrize(
    "row,column,value,fragment",
    [
        (1, "value", "200", "within [lower, upper]"),
        (1, "upper", "1.0", ">= lower"),
        (2, "spread", "0", "positive number"),
        (2, "t_end_h", "90", ">= t_start_h"),
        (4, "t_start_h", "3", "empty cell"),
        (5, "t_start_h", "", "a time in hours"),
        (2, "statistic", "average", "one of"),
        (2, "spread_type", "SE", "one of"),
        (2, "flag", "maybe", "one of"),
        (2, "gland", "middle", "one of"),
        (2, "n", "2.5", "an integer"),
        (2, "n", "0", ">= 1"),
        (5, "n", "3", "1 or an empty cell"),
        (2, "value", "lots", "a number"),
        (5, "spread_type", "SD", "individual value"),
    ],
)
def test_other_bad_cells(tmp_path, row, column, value, fragment):
    _expect(_write(tmp_path, _set(GOOD, row, column, value)), row, column, fragment)


def test_bad_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        read_observations(tmp_path / "missing.csv")
    with pytest.raises(DatasetError, match="empty file"):
        read_observations(_write(tmp_path, ""))


def _copy_dataset(tmp_path: Path, name: str) -> Path:
    src = data_root() / name
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def test_checksum_mismatch_is_an_error(tmp_path):
    d = _copy_dataset(tmp_path, "saint1984")
    table = d / "observations.csv"
    table.write_text(table.read_text().replace("705.4", "705.5"))
    with pytest.raises(DatasetError, match="sha256") as info:
        load_dataset(d)
    assert "observations.csv" in str(info.value)
    # without the checksum the edited table still validates and loads
    assert row_of(load_dataset(d, verify_checksum=False), t_start_h=96.0)["value"] == 705.5


def test_row_count_mismatch_is_an_error(tmp_path):
    d = _copy_dataset(tmp_path, "saint1984")
    prov = d / "PROVENANCE.md"
    prov.write_text(prov.read_text().replace("rows: 4", "rows: 5"))
    with pytest.raises(DatasetError, match="5 data rows"):
        load_dataset(d)


def test_bad_row_in_dataset_names_file(tmp_path):
    d = _copy_dataset(tmp_path, "saint1984")
    table = d / "observations.csv"
    table.write_text(table.read_text().replace("g/24h", "L/24h", 1))
    with pytest.raises(DatasetError) as info:
        load_dataset(d, verify_checksum=False)
    assert re.search(r"saint1984/observations\.csv: row 1 \(line 2\), column 'unit'",
                     str(info.value))


def test_unknown_dataset():
    with pytest.raises(UnknownDatasetError, match="did you mean milkman"):
        load_dataset("milkmn")


def test_provenance_parsing(tmp_path):
    d = _copy_dataset(tmp_path, "kulski1981")
    prov = read_provenance(d / "PROVENANCE.md")
    assert prov.name == "kulski1981" and "Kulski JK" in prov.citation
    from lactojax.datasets import ProvenanceError

    text = (d / "PROVENANCE.md").read_text()
    (d / "PROVENANCE.md").write_text(text.replace("licence:", "licenze:", 1))
    with pytest.raises(ProvenanceError, match="'licence'"):
        load_dataset(d)


# --- property-based: valid tables round-trip; each corruption is named -----------------

_GROUP_OBS = ["milk_intake_24h", "milk_sodium", "milk_lactose", "plasma_prolactin_basal",
              "milk_production_24h_per_gland"]


@st.composite
def tables(draw):
    n_rows = draw(st.integers(1, 6))
    rows = []
    for i in range(n_rows):
        obs = draw(st.sampled_from(_GROUP_OBS))
        unit = draw(st.sampled_from(sorted(units.accepted_units(obs))))
        value = draw(st.floats(0.5, 1e4, allow_nan=False).map(lambda x: round(x, 3)))
        stype = draw(st.sampled_from(["", "SD", "SEM", "CV", "range"]))
        spread = lower = upper = ""
        if stype in ("SD", "SEM", "CV"):
            spread = repr(draw(st.floats(0.01, 100.0).map(lambda x: round(x, 3))))
        elif stype == "range":
            lower, upper = repr(round(value * 0.5, 3)), repr(round(value * 2.0, 3))
        n = draw(st.one_of(st.just(""), st.integers(2, 200).map(str)))
        rows.append(dict(subject="", group=f"g{i}", t_start_h=repr(float(24 * i)),
                         t_end_h=repr(float(24 * i + 24)), gland="", observable=obs,
                         statistic=draw(st.sampled_from(["mean", "median"])),
                         value=repr(value), unit=unit, spread_type=stype, spread=spread,
                         lower=lower, upper=upper, n=n, flag="", source_row=str(i + 1),
                         note=""))
    return pd.DataFrame(rows, columns=list(COLUMN_NAMES))


_settings = settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_settings
@given(df=tables())
def test_property_valid_tables_round_trip(tmp_path, df):
    p = tmp_path / "t.csv"
    df.to_csv(p, index=False)
    table = read_observations(p)
    q = tmp_path / "u.csv.gz"
    write_observations(table, q)
    pd.testing.assert_frame_equal(read_observations(q), table)
    # and their likelihood arrays are usable
    from lactojax.datasets.loader import with_model_units
    from lactojax.datasets.exclusions import fit_mask

    class _DS:
        name = "synthetic"

    ds = _DS()
    ds.table = with_model_units(table)
    ds.used = fit_mask(ds.table)[0]
    a = to_arrays(ds)
    assert len(a.value) == len(table)
    assert np.all(np.isfinite(a.scale)) and np.all(a.scale > 0)


@_settings
@given(df=tables(), data=st.data(),
       kind=st.sampled_from(["observable", "unit", "negative", "nan", "empty", "duplicate",
                             "column"]))
def test_property_corruption_is_named(tmp_path, df, data, kind):
    row = data.draw(st.integers(1, len(df)))
    bad = df.copy()
    column = {"observable": "observable", "unit": "unit", "negative": "value",
              "nan": "value", "empty": "value"}.get(kind)
    if kind == "observable":
        bad.loc[row - 1, "observable"] = "not_an_observable"
    elif kind == "unit":
        bad.loc[row - 1, "unit"] = "furlongs"
    elif kind == "negative":
        bad.loc[row - 1, "value"] = "-" + bad.loc[row - 1, "value"]
    elif kind == "nan":
        bad.loc[row - 1, "value"] = data.draw(st.sampled_from(["nan", "NaN", "inf"]))
    elif kind == "empty":
        bad.loc[row - 1, "value"] = ""
    elif kind == "duplicate":
        bad = pd.concat([bad.iloc[:row], bad.iloc[[row - 1]], bad.iloc[row:]],
                        ignore_index=True)
        column = "subject"
        row = row + 1  # the inserted copy repeats the row above it
    elif kind == "column":
        column = data.draw(st.sampled_from(list(COLUMN_NAMES)))
        bad = bad.drop(columns=[column])
        row = None
    p = tmp_path / "bad.csv"
    bad.to_csv(p, index=False)
    with pytest.raises(DatasetError) as info:
        read_observations(p)
    err = info.value
    assert err.row == row and column in err.column, str(err)
    assert str(p) in str(err) and "expected" in str(err)
