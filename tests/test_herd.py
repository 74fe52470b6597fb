"""Herd (hierarchical) fits of dairy records: population levels, per-lactation milking
designs, held-out records for forecasting, subject covariates, the forecast tables and
the command-line options. Fast: nothing here solves the model."""

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from lactojax.datasets import load_dataset
from lactojax.datasets.schema import DatasetError
from lactojax.datasets.subjects import parity_class, read_subjects_file, subject_covariates
from lactojax.inference import density
from lactojax.inference.config import ConfigError, load_config
from lactojax.inference.forecast import FORECAST_OBSERVABLES, forecast_horizon_days, forecast_rows
from lactojax.inference.problem import (cow_inputs, dataset_cohort, hierarchical_problem, lactation_inputs,
                                       population_levels, until_day_h)
from lactojax.inference.runner import population_names
from lactojax.likelihoods import IND_LOGNORMAL, IND_STUDENT_T

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("lactose_vmax_mmol_h", "secreted_fat_g_l")
COVARIATES = pd.DataFrame({"subject": ["a", "b", "c", "d"], "breed": ["Jersey", "Holstein", "Jersey", "RDM"],
                           "parity": ["1", "2", "3+", "1"], "milkings_per_day": np.nan})


def test_population_levels_centres_and_offsets():
    centre, centres, design, offsets = population_levels(["a", "b", "c", "d"], COVARIATES, ("breed", "parity"))
    assert centres == ("breed=Holstein", "breed=Jersey", "breed=RDM")
    np.testing.assert_array_equal(centre, [1, 0, 1, 2])
    assert offsets == ("parity=2", "parity=3+")  # parity 1 is the reference
    np.testing.assert_array_equal(design, [[0, 0], [1, 0], [0, 1], [0, 0]])
    centre, centres, design, offsets = population_levels(["a", "b"], None, ())
    assert centres == ("all",) and design.shape == (2, 0) and offsets == ()
    with pytest.raises(ValueError, match="not a subject covariate"):
        population_levels(["a"], COVARIATES, ("herd",))


def _problem(levels=("breed", "parity")):
    inputs = cow_inputs(2)
    table = pd.DataFrame({"subject": list("abcd"), "observable": "milk_yield_daily", "t_start_h": 12.0,
                          "t_end_h": 36.0, "value": 20.0})
    return hierarchical_problem(table, {s: inputs for s in "abcd"}, NAMES, covariates=COVARIATES, levels=levels,
                                offset_scale=0.4)


def test_unpack_with_levels_matches_the_model_by_hand():
    data = _problem()
    p = data.problem
    k, c, o, s = 2, 3, 2, 4
    assert (p.n_centres, p.n_offsets, p.n_subjects) == (c, o, s) and p.dim == k * (c + 1 + o + s)
    rng = np.random.default_rng(1)
    mu, log_tau = rng.normal(size=(c, k)), rng.normal(size=k) - 1.0
    delta, eta = rng.normal(size=(o, k)), rng.normal(size=(s, k))
    x = jnp.asarray(np.concatenate([mu.ravel(), log_tau, delta.ravel(), eta.ravel()]))
    z, log_prior = density.unpack(p, x)
    tau = np.exp(log_tau)
    centre_of, design = [1, 0, 1, 2], np.array([[0, 0], [1, 0], [0, 1], [0, 0]])
    expect = mu[centre_of] + design @ delta + tau * eta
    np.testing.assert_allclose(np.asarray(z), expect, rtol=1e-12)
    scale, d_scale = 0.3, 0.4

    def normal(v, sd):
        return -0.5 * (v / sd) ** 2 - math.log(sd) - 0.5 * math.log(2 * math.pi)

    by_hand = (sum(float(p.prior.log_prob_z(jnp.asarray(m))) for m in mu)
               + np.sum(normal(tau, scale) + math.log(2.0) + log_tau)  # half-normal on tau, log-tau Jacobian
               + np.sum(normal(delta, d_scale)) + np.sum(normal(eta, 1.0)))
    np.testing.assert_allclose(float(log_prior), by_hand, rtol=1e-10)
    # embed puts every centre at z, no offsets, every subject at its centre
    x0 = density.embed(p, np.asarray(p.prior.nominal_z()))
    z0 = np.asarray(density.unpack(p, jnp.asarray(x0))[0])
    np.testing.assert_allclose(z0, np.broadcast_to(np.asarray(p.prior.nominal_z()), (s, k)))


def test_posterior_variables_and_summary_names_with_levels():
    data = _problem()
    x = np.random.default_rng(0).normal(size=(2, 3, data.problem.dim))
    v = density.posterior_variables(data.problem, x)
    assert v["mu_lactose_vmax_mmol_h"].shape == (2, 3, 3)  # (chain, draw, centre)
    assert v["delta_secreted_fat_g_l"].shape == (2, 3, 2)  # (chain, draw, level)
    assert v["tau_secreted_fat_g_l"].shape == (2, 3) and v["secreted_fat_g_l"].shape == (2, 3, 4)
    names, units = population_names(data)
    assert names[:3] == [f"mu_lactose_vmax_mmol_h[breed={b}]" for b in ("Holstein", "Jersey", "RDM")]
    assert "delta_secreted_fat_g_l[parity=3+]" in names and "tau_lactose_vmax_mmol_h" in names
    assert len(names) == len(units) == 2 * (3 + 1 + 2)
    # without levels: the names of earlier fits
    plain = _problem(levels=())
    assert population_names(plain)[0] == ["mu_lactose_vmax_mmol_h", "mu_secreted_fat_g_l",
                                          "tau_lactose_vmax_mmol_h", "tau_secreted_fat_g_l"]
    assert density.posterior_variables(plain.problem, np.zeros((1, plain.problem.dim)))[
        "mu_secreted_fat_g_l"].shape == (1,)


def test_lactation_inputs_follow_recorded_milkings_and_frequency():
    days = 3
    plan = np.asarray(lactation_inputs("milkman", days).feeds.start_h)
    np.testing.assert_allclose(plan, np.asarray(cow_inputs(days).feeds.start_h))  # the dataset design
    # a record at a scheduled milking adds nothing; one between milkings adds a milking
    same = np.asarray(lactation_inputs("milkman", days, record_times_h=[plan[1], plan[2] + 0.3]).feeds.start_h)
    np.testing.assert_allclose(same, plan)
    extra = np.asarray(lactation_inputs("milkman", days, record_times_h=[plan[1] + 5.0]).feeds.start_h)
    assert extra.size == plan.size + 1 and np.any(np.isclose(extra, plan[1] + 5.0))
    # three milkings a day, evenly spaced from the design's first clock time (05:00)
    thrice = np.asarray(lactation_inputs("milkman", days, milkings_per_day=3.0).feeds.start_h)
    np.testing.assert_allclose(np.diff(thrice), 8.0)
    assert np.isclose((thrice[0] + 12.0) % 8.0, 5.0 % 8.0)  # calving at 12:00


def test_until_day_holds_out_later_records_with_a_reason():
    table, inputs = dataset_cohort(["milkman"], 8, subjects=["916_1"], until_day=3)
    assert list(inputs) == ["milkman:916_1"]
    late = table["t_end_h"] > until_day_h(3)
    assert until_day_h(3) == 24 * 3 + 12
    assert late.any() and (table.loc[late, "reason"].str.startswith("held out")).all()
    assert (table.loc[~late, "reason"] == "").sum() > 0
    with pytest.raises(ValueError, match="no usable record"):
        dataset_cohort(["milkman"], 8, subjects=["916_1", "no_such_cow"])


def test_fit_observables_keep_only_those_rows_and_list_the_others_with_a_reason(tmp_path):
    """[fit] observables: a yield-only herd fit uses the yield rows alone; every other row is
    in the excluded table with the reason, and a yield row excluded for its own reason keeps it."""
    from lactojax.inference.adapter import problem_from_config

    base = load_config(ROOT / "fits" / "tiny_herd_smoke.toml")
    full = problem_from_config(base)
    cfg = base.replace(fit=base.fit.replace(observables=("milk_yield_per_milking",)))
    data = problem_from_config(cfg)
    assert set(data.rows["observable"]) == {"milk_yield_per_milking"}
    assert len(data.rows) == int((full.rows["observable"] == "milk_yield_per_milking").sum())
    assert len(data.rows) + len(data.excluded) == len(full.rows) + len(full.excluded)  # nothing dropped
    other = data.excluded["reason"].str.startswith("observable not fitted ([fit] observables")
    assert set(data.excluded.loc[other, "observable"]) == set(full.rows["observable"]) - {"milk_yield_per_milking"}
    mine = lambda t: t.loc[t["observable"] == "milk_yield_per_milking", "reason"].tolist()  # noqa: E731
    assert mine(data.excluded) == mine(full.excluded) and not other[data.excluded["observable"] == "milk_yield_per_milking"].any()
    path = tmp_path / "yield.toml"
    path.write_text((ROOT / "fits" / "tiny_herd_smoke.toml").read_text().replace(
        'model = "hierarchical"', 'model = "hierarchical"\nobservables = ["milk_yeild_daily"]'))
    with pytest.raises(ConfigError, match=r"unknown observable 'milk_yeild_daily'.*milk_yield_daily") as err:
        load_config(path)
    assert str(path) in str(err.value) and "fit.observables" in str(err.value)


def test_subject_covariates_of_the_bundled_herds(tmp_path):
    milkman = subject_covariates(load_dataset("milkman"))
    assert len(milkman) == 288
    assert milkman["breed"].value_counts().to_dict() == {"Holstein": 104, "RDM": 96, "Jersey": 88}
    assert milkman.set_index("subject").loc["801_2", "parity"] == "2"
    bovi = subject_covariates(load_dataset("bovi_test_day"))
    assert set(bovi["parity"]) == {"1", "2", "3+"} and set(bovi["breed"]) == {"unrecorded"}
    assert set(subject_covariates(load_dataset("nz_strain_trial"))["breed"]) == {"NZH", "NZL", "OSH"}
    assert [parity_class(v) for v in (1, "2", 3, 7.0, "", None, 0)] == ["1", "2", "3+", "3+", "unrecorded",
                                                                       "unrecorded", "unrecorded"]
    bad = tmp_path / "subjects.csv"
    bad.write_text("subject,breed,parity,milkings_per_day\nc1,Jersey,1,2\nc1,Jersey,2,2\n")
    with pytest.raises(DatasetError, match=r"row 2 .*column 'subject'"):
        read_subjects_file(bad)
    bad.write_text("subject,breed,parity,milkings_per_day\nc1,Jersey,1,twice\n")
    with pytest.raises(DatasetError, match=r"row 1 .*milkings_per_day"):
        read_subjects_file(bad)
    bad.write_text("subject,breed\nc1,Jersey\n")
    with pytest.raises(DatasetError, match="parity"):
        read_subjects_file(bad)


def test_forecast_rows_cover_every_day_in_milk():
    rows = forecast_rows(["a", "b"], 305)
    assert len(rows) == 2 * 305 * len(FORECAST_OBSERVABLES)
    day305 = rows[(rows["day"] == 305)].iloc[0]
    assert (day305["t_start_h"], day305["t_end_h"]) == (24 * 305 - 12, 24 * 305 + 12)
    assert forecast_horizon_days(305) * 24 >= 24 * 305 + 12


def test_herd_options_need_a_herd_config_and_valid_values(tmp_path, capsys):
    from lactojax.cli import main

    assert main(["fit", "fits/tiny_smoke.toml", "--until-day", "60", "--out", str(tmp_path)]) == 2
    assert "fit.model = \"hierarchical\"" in capsys.readouterr().err
    assert main(["fit", "fits/tiny_herd_smoke.toml", "--until-day", "-5", "--out", str(tmp_path)]) == 2
    assert "until_day" in capsys.readouterr().err
    cfg = load_config("fits/tiny_herd_smoke.toml").with_overrides(subjects=["916_1"], until_day=30)
    assert cfg.hierarchical.subjects == ("916_1",) and cfg.hierarchical.until_day == 30
    assert cfg.hierarchical.max_subjects is None  # an explicit list replaces the file's cap
    with pytest.raises(ConfigError, match="init_from_map"):
        load_config("fits/tiny_herd_smoke.toml").replace(
            map=load_config("fits/tiny_herd_smoke.toml").map.replace(hessian=False),
            nuts=load_config("fits/tiny_herd_smoke.toml").nuts.replace(init_from_map=True))
    for name in ("dairy_milkman_cpu", "dairy_milkman", "dairy_nz_strain_trial", "dairy_bovi_test_day",
                 "dairy_milkman_map"):
        assert load_config(f"fits/{name}.toml").fit.model == "hierarchical"


def test_observation_noise_draws_from_each_rows_likelihood():
    data = _problem(levels=())
    p = data.problem
    n = 40000
    kinds = jnp.asarray(np.array([IND_LOGNORMAL, IND_STUDENT_T, IND_LOGNORMAL, IND_STUDENT_T]))
    p = p.__class__(**{**{f: getattr(p, f) for f in p.__dataclass_fields__},
                       "rows": p.rows.__class__(**{**{f: getattr(p.rows, f) for f in p.rows.__dataclass_fields__},
                                                   "kind": kinds})})
    pred = np.full((n, 4), 20.0)
    draws = density.observation_noise(p, pred, np.random.default_rng(0))
    sigma = np.asarray(p.noise.sigma)[np.asarray(p.rows.obs_code)]
    np.testing.assert_allclose(np.median(np.log(draws[:, 0] / 20.0)), 0.0, atol=0.02 * sigma[0] + 1e-3)
    np.testing.assert_allclose(np.std(np.log(draws[:, 0] / 20.0)), sigma[0], rtol=0.03)
    t = (draws[:, 1] - 20.0) / sigma[1]
    df = float(p.noise.df)
    # Student-t: heavier tails than a normal with the same scale (kurtosis > 3)
    assert np.mean(np.abs(t) > 3.0) > 2 * 0.0027 and abs(np.median(t)) < 0.05
    if df > 2:
        np.testing.assert_allclose(np.var(t), df / (df - 2), rtol=0.25)
    assert jax.numpy.all(jnp.isfinite(draws))


def test_map_without_hessian_reports_the_optimum_alone():
    """map.hessian = false (herds): no Newton polishing, zero covariance, and the Laplace
    draws of method = map are the optimum itself."""
    from lactojax.inference.map import find_map

    def vg(z):  # log-density of a normal centred at (1, -2), batched
        z = np.atleast_2d(z)
        return -0.5 * np.sum((z - [1.0, -2.0]) ** 2, -1), -(z - [1.0, -2.0])

    res = find_map(vg, np.zeros((2, 2)), steps=300, learning_rate=0.1, hessian=False)
    np.testing.assert_allclose(res.z, [1.0, -2.0], atol=1e-2)
    assert not np.any(res.cov) and not res.hessian_pd
    draws = res.laplace_draws(jax.random.PRNGKey(0), 5)
    assert draws.shape == (5, 2) and np.all(draws == res.z)
