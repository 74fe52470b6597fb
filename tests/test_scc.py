"""Somatic cell count (SCC) as a fitted observable of dairy records: which model output
each SCC row reads (one milking, or a test-day / weekly window pooled by yield), its
log-scale likelihood, zero counts excluded by rule with their reason, and the log-density
gradient of a herd problem with SCC rows."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import scipy.stats

from lactojax import likelihoods as lk
from lactojax import observables as ob
from lactojax import observation as obs
from lactojax.datasets.vocabulary import code, default_noise_sigma
from lactojax.inference import density
from lactojax.inference.problem import (OBSERVABLE_MAP, SESSION_KEYS, cow_inputs, dataset_cohort,
                                       feature_offsets, hierarchical_problem)

DAYS = 2
SCC = "somatic_cell_count"


def _block(inputs, key):
    """Start of a per-session feature block in one subject's feature vector."""
    n = inputs.feeds.start_h.shape[-1]
    return feature_offsets(DAYS, n)[ob.SESSION] + SESSION_KEYS.index(key) * n


def test_registry_maps_scc_once():
    o = ob.BY_DATA_NAME[SCC]
    assert sum(SCC in r.data for r in ob.REGISTRY) == 1
    assert (o.reader, o.source_key, o.weight) == (ob.SESSION_POOLED, "somatic_cell_count_k_ml", "yield_kg")
    assert OBSERVABLE_MAP[SCC] == (ob.SESSION_POOLED, o.name)
    assert {"somatic_cell_count_k_ml", "yield_kg", o.weighted_key} <= set(SESSION_KEYS)


def test_scc_rows_map_to_one_milking_or_a_pooled_window():
    inputs = cow_inputs(DAYS)  # milkings at 05:00 and 14:30, calving at 12:00: t = 2.5, 17, 26.5, 41 h
    starts = np.asarray(inputs.feeds.start_h)
    o = ob.BY_DATA_NAME[SCC]
    rows = pd.DataFrame([
        dict(subject="c", observable=SCC, t_start_h=2.5, t_end_h=17.0, value=100.0),  # one milking
        dict(subject="c", observable="fat_pct", t_start_h=2.5, t_end_h=17.0, value=4.0),
        dict(subject="c", observable=SCC, t_start_h=12.0, t_end_h=36.0, value=100.0),  # a test day
        dict(subject="c", observable=SCC, t_start_h=2.5, t_end_h=22.0, value=100.0),  # no milking at 22 h
        dict(subject="c", observable=SCC, t_start_h=30.0, t_end_h=60.0, value=100.0),  # beyond 48 h
    ])
    data = hierarchical_problem(rows, {"c": inputs}, ["lactose_vmax_mmol_h"], species="cow")
    r = data.problem.rows
    index, weight = np.asarray(r.index), np.asarray(r.weight)
    den_index, den_weight = np.asarray(r.den_index), np.asarray(r.den_weight)
    assert list(data.rows["observable"]) == [SCC, "fat_pct", SCC]
    j = int(np.flatnonzero(starts == 17.0)[0])
    # per milking: the session at the record's end, the same one as the fat % of that milking
    assert index[0, 0] == _block(inputs, o.source_key) + j and weight[0, 0] == 1.0
    assert index[1, 0] == _block(inputs, "fat_pct") + j
    assert not np.any(den_weight[:2])
    # the test day [12, 36) h holds the milkings at 17 and 26.5 h: sum(c y) / sum(y)
    m = np.flatnonzero((starts >= 12.0) & (starts < 36.0))
    assert list(starts[m]) == [17.0, 26.5]
    k = m.size
    assert list(index[2, :k]) == list(_block(inputs, o.weighted_key) + m) and np.all(weight[2, :k] == 1.0)
    assert list(den_index[2, :k]) == list(_block(inputs, "yield_kg") + m) and np.all(den_weight[2, :k] == 1.0)
    assert not np.any(weight[2, k:]) and not np.any(den_weight[2, k:])
    assert list(data.excluded["reason"]) == [f"{SCC}: no milking session within 1 h of the record",
                                             f"window beyond the fit horizon ({24 * DAYS:g} h)"]


def test_composite_cell_count_is_weighted_by_the_milk_each_gland_gave():
    scc = jnp.array([[100.0, 300.0, 30.0, 30.0], [100.0, 300.0, 30.0, 30.0]])
    removed = jnp.array([[1.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    stored = jnp.array([[5.0, 5.0, 5.0, 5.0], [1.0, 1.0, 2.0, 0.0]])
    out = np.asarray(obs.composite_cell_count(scc, removed, stored))
    # (100 x 1 + 300 x 3) / 4; nothing removed: by stored volume (0 mL counts as MIN_VOLUME_ML)
    v0 = obs.MIN_VOLUME_ML
    np.testing.assert_allclose(out, [250.0, (100 + 300 + 60 + 30 * v0) / (4 + v0)], rtol=1e-12)


def test_scc_log_student_t_likelihood_matches_scipy():
    sigma = default_noise_sigma()
    c = code(SCC)
    assert sigma[c] == 0.5
    values, preds = np.array([237.0, 11651.0, 25.0]), np.array([30.0, 400.0, 60.0])

    class Rows:
        kind = jnp.full(3, lk.IND_LOG_STUDENT_T)
        value = jnp.asarray(values)
        scale = jnp.ones(3)
        sd = jnp.zeros(3)
        obs_code = jnp.full(3, c)

    terms = np.asarray(lk.dataset_loglik_terms(jnp.asarray(preds), Rows, lk.NoiseModel(jnp.asarray(sigma))))
    # log y ~ t_4(log pred, 0.5), as a density in y (Jacobian 1/y)
    expected = scipy.stats.t.logpdf(np.log(values), df=4.0, loc=np.log(preds), scale=0.5) - np.log(values)
    np.testing.assert_allclose(terms, expected, rtol=1e-10)
    # a non-positive prediction of a log-scale row scores -inf, never NaN
    bad = np.asarray(lk.dataset_loglik_terms(jnp.asarray([0.0, 400.0, 60.0]), Rows,
                                             lk.NoiseModel(jnp.asarray(sigma))))
    assert bad[0] == -np.inf and np.all(np.isfinite(bad[1:]))


def test_zero_scc_is_excluded_by_rule_with_its_reason():
    # milkman lactation 836_2 has an SCC of 0 at the evening milking of day 41 (986.5 h)
    table, inputs = dataset_cohort(["milkman"], 42, subjects=["836_2"])
    data = hierarchical_problem(table, inputs, ["lactose_vmax_mmol_h"], species="cow")
    zero = data.excluded[(data.excluded["observable"] == SCC) & (data.excluded["value"] <= 0)]
    assert len(zero) == 1 and zero["t_end_h"].iloc[0] == 986.5
    assert zero["reason"].iloc[0] == (f"[non-positive] {SCC}: value <= 0 in the source; its log-scale "
                                      "likelihood is undefined")
    assert len(data.rows) + len(data.excluded) == len(table)  # nothing dropped unlisted
    assert np.all(data.rows["value"] > 0) and (data.rows["observable"] == SCC).sum() > 0


def test_milkman_subset_and_the_herd_config_include_scc_rows():
    from pathlib import Path

    from lactojax.inference.adapter import problem_from_config
    from lactojax.inference.config import load_config

    table, inputs = dataset_cohort(["milkman"], DAYS, max_subjects=2)
    data = hierarchical_problem(table, inputs, ["lactose_vmax_mmol_h"], species="cow")
    scc = data.rows[data.rows["observable"] == SCC].sort_values("t_end_h")
    # the first lactation (916_1) has SCC at the milkings of 17, 26.5 and 41 h
    first = scc[scc["subject"] == "milkman:916_1"]
    assert list(first["t_end_h"]) == [17.0, 26.5, 41.0] and list(first["value"]) == [191.0, 237.0, 42.0]
    assert np.all(scc["kind"] == lk.IND_LOG_STUDENT_T)
    config = Path(__file__).resolve().parents[1] / "fits" / "tiny_herd_smoke.toml"
    rows = problem_from_config(load_config(config)).rows
    assert (rows["observable"] == SCC).sum() > 0


@pytest.fixture(scope="module")
def scc_problem():
    """One cow over 2 days: SCC at two milkings and over a test day, and yields."""
    inputs = cow_inputs(DAYS)
    rows = pd.DataFrame([
        dict(subject="c", observable=SCC, t_start_h=2.5, t_end_h=17.0, value=191.0),
        dict(subject="c", observable=SCC, t_start_h=17.0, t_end_h=26.5, value=237.0),
        dict(subject="c", observable=SCC, t_start_h=12.0, t_end_h=36.0, value=120.0),
        dict(subject="c", observable="milk_yield_per_milking", t_start_h=2.5, t_end_h=17.0, value=6.0),
        dict(subject="c", observable="milk_yield_per_milking", t_start_h=17.0, t_end_h=26.5, value=7.3),
    ])
    names = ["somatic_cell_shedding_k_ml_h", "lactose_vmax_mmol_h"]
    data = hierarchical_problem(rows, {"c": inputs}, names, species="cow")
    assert data.excluded.empty
    return data, inputs


def test_scc_predictions_are_the_milkings_and_the_yield_weighted_test_day(scc_problem):
    from lactojax.simulate import simulate

    data, inputs = scc_problem
    p = data.problem
    z = jnp.asarray(p.prior.nominal_z())[None]
    pred, ok, _ = jax.jit(density.predict)(p, z)
    assert bool(ok)
    params = p.base.with_vector(p.names, p.prior.z_to_theta(z[0]))
    per = obs.per_session(simulate(params, inputs, p.settings), params, inputs)
    starts = np.asarray(inputs.feeds.start_h)
    c, y = np.asarray(per["somatic_cell_count_k_ml"]), np.asarray(per["yield_kg"])
    at = lambda t: int(np.flatnonzero(starts == t)[0])  # noqa: E731
    m = [at(17.0), at(26.5)]
    expected = [c[at(17.0)], c[at(26.5)], np.sum(c[m] * y[m]) / np.sum(y[m]), y[at(17.0)], y[at(26.5)]]
    np.testing.assert_allclose(np.asarray(pred), expected, rtol=1e-8)
    assert np.all(np.asarray(pred) > 0)


def test_log_density_gradient_with_scc_rows_matches_finite_differences(scc_problem):
    data, _ = scc_problem
    p = data.problem
    x = jnp.asarray(density.embed(p, np.asarray(p.prior.nominal_z()) + 0.1))
    f = jax.jit(lambda x: density.value_and_grad(p, x))
    value, grad = f(x)
    grad = np.asarray(grad)
    assert np.isfinite(float(value)) and np.all(np.isfinite(grad))
    terms = np.asarray(jax.jit(lambda x: density.loglik_terms(p, density.unpack(p, x)[0])[0])(x))  # eager: slower
    assert np.all(np.isfinite(terms))
    h = 1e-5
    for j in range(p.k):  # mu of each parameter: central differences
        e = np.zeros(p.dim)
        e[j] = h
        fd = (float(f(x + e)[0]) - float(f(x - e)[0])) / (2 * h)
        np.testing.assert_allclose(grad[j], fd, rtol=1e-4, atol=1e-6)
    # the SCC rows inform the basal count: its gradient is not zero
    assert abs(grad[p.names.index("somatic_cell_shedding_k_ml_h")]) > 1e-3
