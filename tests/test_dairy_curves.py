"""lactojax.dairy: lactation curves, their fits, 305-day metrics and daily yield records.

Hand-computed values are written out with their arithmetic; the synthetic herd is drawn
with a fixed seed. Fast (numpy/scipy only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lactojax.dairy import (
    MILKBOT,
    WILMINK,
    WOOD,
    daily_yield_records,
    fit_curve,
    fit_herd,
    lactation_metrics,
    wilmink,
)

# ---------------------------------------------------------------------------------------
# curves against hand-computed values


def test_wood_by_hand():
    # a t^b exp(-c t), a=20, b=0.2, c=0.004
    # t=1:   20 * 1 * exp(-0.004)                        = 20 * 0.996008 = 19.92016
    # t=50:  50^0.2 = exp(0.2 * 3.912023) = 2.186724; exp(-0.2) = 0.818731
    #        20 * 2.186724 * 0.818731                     = 35.80677
    # t=100: 100^0.2 = 2.511886; exp(-0.4) = 0.670320 -> 20 * 1.683768 = 33.67536
    y = WOOD([1.0, 50.0, 100.0], (20.0, 0.2, 0.004))
    np.testing.assert_allclose(y, [19.92016, 35.80677, 33.67536], rtol=1e-6)


def test_wilmink_by_hand():
    # a + b exp(-0.05 t) + c t, a=30, b=-10, c=-0.05
    # t=20:  30 - 10 exp(-1) - 1   = 29 - 3.678794 = 25.321206
    # t=100: 30 - 10 exp(-5) - 5   = 25 - 0.067379 = 24.932621
    y = WILMINK([20.0, 100.0], (30.0, -10.0, -0.05))
    np.testing.assert_allclose(y, [25.321206, 24.932621], rtol=1e-7)
    # k is an argument: k=0.1 at t=10 -> 30 - 10 exp(-1) - 0.5 = 25.821206
    assert wilmink(k=0.1)([10.0], (30.0, -10.0, -0.05))[0] == pytest.approx(25.821206, rel=1e-7)
    assert WILMINK.fixed == {"k": 0.05}


def test_milkbot_by_hand():
    # a (1 - exp((c - t)/b)/2) exp(-d t), a=40, b=20, c=0, d=0.002
    # t=20:  40 (1 - exp(-1)/2) exp(-0.04) = 40 * 0.816060 * 0.960789 = 31.36248
    # t=100: 40 (1 - exp(-5)/2) exp(-0.2)  = 40 * 0.996631 * 0.818731 = 32.63890
    y = MILKBOT([20.0, 100.0], (40.0, 20.0, 0.0, 0.002))
    np.testing.assert_allclose(y, [31.36248, 32.63890], rtol=1e-6)
    # at t = c the ramp term is 1/2: c=10, t=10 -> 40 * 0.5 * exp(-0.02) = 19.60397
    assert MILKBOT([10.0], (40.0, 20.0, 10.0, 0.002))[0] == pytest.approx(19.60397, rel=1e-6)


def test_curves_vectorise_over_t():
    t = np.arange(1.0, 306.0).reshape(5, 61)
    for curve in (WOOD, WILMINK, MILKBOT):
        assert curve(t, curve.start).shape == (5, 61)


# ---------------------------------------------------------------------------------------
# fits


@pytest.mark.parametrize("curve, truth", [
    (WOOD, (20.0, 0.2, 0.004)),
    (WILMINK, (30.0, -10.0, -0.05)),
    (MILKBOT, (40.0, 20.0, -2.0, 0.002)),
])
def test_least_squares_recovers_noiseless_curve(curve, truth):
    t = np.arange(1.0, 306.0)
    fit = fit_curve(curve, t, curve(t, truth))
    assert fit.success
    np.testing.assert_allclose(fit.params, truth, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fit.predict(t), curve(t, truth), rtol=1e-6)


def test_too_few_records_names_the_lactation():
    with pytest.raises(ValueError, match="cow_7.*fewer than the 4"):
        fit_curve(MILKBOT, [1.0, 2.0, 3.0], [10.0, 11.0, 12.0], label="lactation 'cow_7'")
    with pytest.raises(ValueError, match="'b'"):
        fit_herd(WOOD, {"a": (np.arange(1.0, 40.0), np.ones(39)), "b": ([5.0], [20.0])}, pooled=False)


def _synthetic_herd(seed=20240601, n_full=30, n_short=10, noise=3.0):
    """Wood herd with known population: log a ~ N(log 25, 0.15), b ~ N(0.2, 0.05),
    c ~ N(0.004, 0.001); daily yields with Gaussian noise (kg/d; milkman's pooled residual
    SD about its curves is about 3 kg/d)."""
    rng = np.random.default_rng(seed)
    n = n_full + n_short
    truth = np.column_stack([25.0 * np.exp(0.15 * rng.standard_normal(n)),
                             0.2 + 0.05 * rng.standard_normal(n),
                             0.004 + 0.001 * rng.standard_normal(n)])
    t = np.arange(1.0, 306.0)
    herd, short = {}, []
    for i, p in enumerate(truth):
        y = WOOD(t, p) + noise * rng.standard_normal(t.size)
        k = f"cow{i}"
        if i >= n_full:  # the first 60 days only
            herd[k] = (t[:60], y[:60])
            short.append(k)
        else:
            herd[k] = (t, y)
    return herd, short, dict(zip(herd, truth))


def test_pooled_prior_helps_lactations_with_60_days():
    herd, short, truth = _synthetic_herd()
    t = np.arange(1.0, 306.0)
    ls = fit_herd(WOOD, herd, pooled=False)
    pooled = fit_herd(WOOD, herd, pooled=True)

    def err(h, k):  # RMSE (kg/d) of the fitted curve against the true one over DIM 1-305
        return np.sqrt(np.mean((h.predict(k, t) - WOOD(t, truth[k])) ** 2))

    e_ls = np.array([err(ls, k) for k in short])
    e_pooled = np.array([err(pooled, k) for k in short])
    assert e_pooled.mean() < 0.75 * e_ls.mean()
    assert np.sum(e_pooled < e_ls) >= 6
    # and nearly as good as MAP fits under the true population prior
    true_prior = (np.array([np.log(25.0), 0.2, 0.004]), np.diag([0.15**2, 0.05**2, 0.001**2]))
    e_oracle = np.array([np.sqrt(np.mean((fit_curve(WOOD, *herd[k], prior=true_prior, sigma=3.0).predict(t)
                                          - WOOD(t, truth[k])) ** 2)) for k in short])
    assert e_pooled.mean() < 1.1 * e_oracle.mean()
    # the population was estimated close to the truth used to draw it
    mean = WOOD.from_theta(pooled.prior_mean)
    np.testing.assert_allclose(mean, [25.0, 0.2, 0.004], rtol=0.15)
    assert pooled.sigma == pytest.approx(3.0, rel=0.05)


def test_pooled_fit_accepts_a_lactation_with_one_record():
    herd, _, _ = _synthetic_herd(n_full=12, n_short=0)
    herd["new"] = (np.array([30.0]), np.array([30.0]))
    fit = fit_herd(WOOD, herd, pooled=True, n_iter=1)
    y = fit.predict("new", np.array([30.0, 200.0]))
    assert np.all(np.isfinite(y)) and 15.0 < y[1] < y[0] + 5.0


# ---------------------------------------------------------------------------------------
# metrics


def _hand_lactation():
    # 10 kg/d every day, a single peak of 30 kg/d on DIM 50, 15 kg/d on DIM 201-300
    y = np.full(305, 10.0)
    y[49] = 30.0
    y[200:300] = 15.0
    return y


def test_lactation_metrics_by_hand():
    m = lactation_metrics(_hand_lactation())
    assert m["yield_305_kg"] == pytest.approx(3570.0)  # 305*10 + 20 (peak) + 100*5
    assert m["peak_yield_kg_d"] == pytest.approx(30.0)
    assert m["peak_dim"] == 50
    assert m["persistency"] == pytest.approx(0.5)  # mean of DIM 201-300 (15) / peak (30)


def test_lactation_metrics_broadcast_over_leading_axes():
    y = _hand_lactation()
    batch = np.stack([np.stack([y, 2 * y, 3 * y])] * 2)  # (2 chains, 3 draws, 305)
    m = lactation_metrics(batch)
    for v in m.values():
        assert v.shape == (2, 3)
    np.testing.assert_allclose(m["yield_305_kg"][1], [3570.0, 7140.0, 10710.0])
    np.testing.assert_allclose(m["peak_yield_kg_d"][0], [30.0, 60.0, 90.0])
    np.testing.assert_array_equal(m["peak_dim"], 50)
    np.testing.assert_allclose(m["persistency"], 0.5)
    with pytest.raises(ValueError, match="305"):
        lactation_metrics(np.ones((3, 300)))


# ---------------------------------------------------------------------------------------
# records


def _row(subject, observable, t_start, t_end, value, unit):
    return dict(subject=subject, observable=observable, t_start_h=t_start, t_end_h=t_end,
                value=value, unit=unit, value_model=value, unit_model=unit)


def _tiny_table():
    m, d = "milk_yield_per_milking", "milk_yield_daily"
    rows = [
        # cow A, milked at 05:00 (24 d - 7 h) and 14:30 (24 d + 2.5 h)
        _row("A", m, 2.5, 17.0, 5.0, "kg"), _row("A", m, 17.0, 26.5, 3.0, "kg"),     # day 1: 8
        _row("A", m, 26.5, 41.0, 6.0, "kg"),                                          # day 2: 1 of 2
        _row("A", m, 50.5, 65.0, 6.0, "kg"), _row("A", m, 65.0, 74.5, 4.0, "kg"),     # day 3: 10
        _row("A", "fat_pct", 50.5, 65.0, 4.1, "%"),                                   # ignored
        # cow B: daily records of days 1 and 2, one weekly mean (not one day)
        _row("B", d, 12.0, 36.0, 20.0, "kg/d"), _row("B", d, 36.0, 60.0, 22.0, "kg/d"),
        _row("B", d, 60.0, 228.0, 21.0, "kg/d"),
    ]
    return pd.DataFrame(rows)


def test_daily_yield_records_sums_milkings_and_reports_drops():
    rec = daily_yield_records(_tiny_table())
    a, b = rec.by_subject["A"], rec.by_subject["B"]
    assert a["dim"].tolist() == [1, 3] and a["yield_kg_d"].tolist() == [8.0, 10.0]
    assert b["dim"].tolist() == [1, 2] and b["yield_kg_d"].tolist() == [20.0, 22.0]
    dropped = rec.dropped.set_index("subject")
    assert len(rec.dropped) == 2
    assert dropped.loc["A", "dim"] == 2 and dropped.loc["A", "n_milkings"] == 1
    assert dropped.loc["A", "expected"] == 2 and "fewer milkings" in dropped.loc["A", "reason"]
    assert "not one calendar day" in dropped.loc["B", "reason"]
    assert "2 days dropped" in rec.summary()


def test_daily_yield_records_units():
    table = _tiny_table()
    # without value_model: value converted from its unit (kg -> model unit kg, factor 1)
    rec = daily_yield_records(table.drop(columns=["value_model", "unit_model"]))
    assert rec.by_subject["A"]["yield_kg_d"].tolist() == [8.0, 10.0]
    # value_model must be in kg (per milking) / kg/d (daily)
    bad = table.copy()
    bad.loc[0, "unit_model"] = "mL"
    with pytest.raises(ValueError, match="'A'.*expected 'kg'"):
        daily_yield_records(bad)


def test_milkman_yields_are_kg():
    """The loaded milkman table keeps yields in kg (model unit kg, factor 1)."""
    from lactojax.datasets.units import factor

    assert factor("milk_yield_per_milking", "kg") == 1.0
    assert factor("milk_yield_daily", "kg/d") == 1.0


# ---------------------------------------------------------------------------------------
# the benchmark's 305-day total rule and lactojax reader (benchmarks/bench_dairy.py)


def _bench():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_dairy

    return bench_dairy


def test_forecast_total_rule_by_hand():
    bench = _bench()
    t = np.array([1.0, 2.0, 4.0, 100.0, 305.0])  # gaps filled by linear interpolation
    y = np.array([10.0, 10.0, 10.0, 10.0, 10.0])
    pred = np.full(305, 12.0)
    row = bench.forecast_row(t, y, pred)
    assert row["total_obs_kg"] == pytest.approx(3050.0)  # 305 * 10
    assert row["total_pred_kg"] == pytest.approx(3540.0)  # 60 * 10 observed + 245 * 12 predicted
    assert row["total_err_pct"] == pytest.approx(100.0 * 490.0 / 3050.0)
    assert row["rmse_forecast_kg_d"] == pytest.approx(2.0)  # DIM 100 and 305 only
    # a lactation recorded only to DIM 250 does not count for the total
    assert np.isnan(bench.forecast_row(t[:4], y[:4], pred)["total_err_pct"])


def test_read_lactojax_predictions(tmp_path):
    bench = _bench()
    days = np.arange(1, 306)
    pd.DataFrame({"subject": "milkman:916_1", "day": days, "observable": "milk_yield_daily",
                  "median": 20.0, "p05": 15.0, "p95": 25.0}).to_csv(tmp_path / "predictions.csv", index=False)
    preds = bench.read_lactojax(tmp_path)
    assert list(preds) == ["916_1"] and preds["916_1"].shape == (305,)
    pd.DataFrame({"subject": "milkman:1", "day": days[:200], "observable": "milk_yield_daily",
                  "median": 20.0, "p05": 15.0, "p95": 25.0}).to_csv(tmp_path / "predictions.csv", index=False)
    with pytest.raises(ValueError, match="milkman:1"):
        bench.read_lactojax(tmp_path)
