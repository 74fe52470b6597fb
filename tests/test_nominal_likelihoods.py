"""Issue 4: the likelihood of the NOMINAL model on every bundled dataset is finite, and so is
its gradient with respect to the model's parameters.

Human datasets: one fit problem over all of them with a 365-day horizon (one compilation),
through the same row -> prediction mapping and log-density that fitting uses. Dairy datasets:
one lactation from each, stacked into one cohort of the hierarchical model (one batched
solve), at the species' nominal parameters.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from lactojax.datasets import list_datasets
from lactojax.inference import density
from lactojax.inference.problem import design_inputs, group_problem, load_rows
from lactojax.inference.priors import PriorSet
from lactojax.parameters import Params
from lactojax.solver import SolverSettings

COW_DATASETS = ("milkman", "nz_strain_trial", "nz_nine_cows", "bovi_test_day", "bovi_one_cow_daily")
# parameters the gradient is taken with respect to: supply, appetite, timing, sealing,
# involution, prolactin response
HUMAN_PARAMS = ("lactose_vmax_mmol_h", "infant_stomach_week1_gain_ml", "progesterone_receptor_k_ng_ml",
                "tj_floor", "storage_capacity_ml", "cell_apoptosis_basal_per_h",
                "prolactin_secretion_fold_late")
COW_PARAMS = ("lactose_vmax_mmol_h", "cell_apoptosis_basal_per_h", "storage_capacity_ml")
HORIZON_DAYS = 365
COW_DAYS = 70


def _human_datasets() -> list[str]:
    return [n for n in list_datasets() if n not in COW_DATASETS]


@pytest.fixture(scope="module")
def human_problem():
    design = dict(feeds_per_day=10, feed_duration_min=15, n_glands=2, both_sides=True, night_feeds=True)
    return group_problem(
        load_rows(_human_datasets()), HUMAN_PARAMS, PriorSet.from_table(HUMAN_PARAMS), Params.nominal("human"),
        design_inputs(design, HORIZON_DAYS),
        SolverSettings(rtol=1e-4, atol=1e-4, max_steps=200_000, adjoint="forward", throw=False),
        label="nominal_all_human")


def test_nominal_human_likelihood_and_gradient_finite_on_every_dataset(human_problem):
    data = human_problem
    p = data.problem
    # every human dataset with fit rows contributes rows inside the horizon
    with_rows = sorted(set(load_rows(_human_datasets())["dataset"]))
    assert sorted(set(data.rows["dataset"])) == with_rows
    # what is left out is listed with a reason, never silently dropped
    assert data.excluded["reason"].str.len().gt(0).all()
    assert len(data.rows) + len(data.excluded) == len(load_rows(_human_datasets()))

    z = p.prior.nominal_z()
    np.testing.assert_allclose(np.asarray(p.prior.z_to_theta(z)),
                               [float(p.base[n]) for n in HUMAN_PARAMS], rtol=1e-9)
    terms_of = lambda z: density.loglik_terms(p, z)[0]  # noqa: E731
    # forward mode: the (rows x parameters) Jacobian and the terms in one compiled solve
    jac, terms = jax.jit(jax.jacfwd(lambda z: (terms_of(z), terms_of(z)), has_aux=True))(z)
    terms, jac = np.asarray(terms), np.asarray(jac)
    assert terms.shape == (len(data.rows),) and jac.shape == (len(data.rows), len(HUMAN_PARAMS))
    bad = data.rows.loc[~np.isfinite(terms), ["dataset", "observable", "t_start_h"]]
    assert bad.empty, f"non-finite log-likelihood terms:\n{bad}"
    bad = data.rows.loc[~np.all(np.isfinite(jac), axis=1), ["dataset", "observable", "t_start_h"]]
    assert bad.empty, f"non-finite gradients:\n{bad}"
    for name in with_rows:  # every dataset's likelihood depends on the parameters
        assert np.any(jac[(data.rows["dataset"] == name).to_numpy()] != 0), name
    assert np.isfinite(terms.sum() + float(p.prior.log_prob_z(z)))


@pytest.fixture(scope="module")
def cow_cohort():
    from lactojax.inference.problem import dataset_cow_inputs, dataset_records, hierarchical_problem

    tables, inputs = [], {}
    for name in COW_DATASETS:
        t = dataset_records(name)
        t = t[t["t_end_h"] <= COW_DAYS * 24.0]
        subject = t["subject"].value_counts().index[0]  # the lactation with most early records
        tables.append(t[t["subject"] == subject].assign(subject=f"{name}:{subject}"))
        inputs[f"{name}:{subject}"] = dataset_cow_inputs(name, COW_DAYS)
    table = pd.concat(tables, ignore_index=True)
    return hierarchical_problem(table, inputs, COW_PARAMS, species="cow"), len(table)


def test_nominal_cow_likelihood_and_gradient_finite_on_every_dataset(cow_cohort):
    data, n_records = cow_cohort
    p, used = data.problem, data.rows
    # one lactation per dairy dataset, each with records inside the horizon
    assert sorted(used["subject"].str.split(":").str[0].unique()) == sorted(COW_DATASETS)
    # rows not used (if any; weekly composition is now pooled by yield and fitted) carry a reason
    assert data.excluded["reason"].astype(str).str.len().gt(0).all()
    assert len(used) + len(data.excluded) == n_records
    z = jnp.tile(p.prior.nominal_z(), (p.n_subjects, 1))
    np.testing.assert_allclose(np.asarray(p.prior.z_to_theta(z[0])),
                               [float(Params.nominal("cow")[n]) for n in COW_PARAMS], rtol=1e-9)
    loglik = lambda z: jnp.sum(density.loglik_terms(p, z)[0])  # noqa: E731
    value, grad = jax.jit(jax.value_and_grad(loglik))(z)
    assert np.isfinite(float(value))
    grad = np.asarray(grad)
    assert grad.shape == (p.n_subjects, len(COW_PARAMS))
    assert np.all(np.isfinite(grad))
    # each lactation's records inform its own parameters
    assert np.all(np.abs(grad).sum(axis=1) > 0)
