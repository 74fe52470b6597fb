"""Hierarchical population model: smoke run on model-generated records of two cows, and
a hierarchical fit of two milkman lactations end to end (fits/tiny_herd_smoke.toml)."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from lactojax.inference import density
from lactojax.inference.nuts import run_nuts
from lactojax.inference.problem import cow_inputs, hierarchical_problem

# ~2 min of compilation on 2 CPU cores: part of `make test-slow`.
pytestmark = [pytest.mark.xdist_group("hierarchical"), pytest.mark.slow]

DAYS = 4
NAMES = ("lactose_vmax_mmol_h", "secreted_fat_g_l")


def _table(inputs):
    starts = np.asarray(inputs.feeds.start_h)
    starts = starts[starts < inputs.horizon_h]
    rows = []
    for cow in ("cow_a", "cow_b"):
        for t in starts[1:]:
            rows.append(dict(subject=cow, observable="milk_yield_per_milking", t_start_h=t - 12, t_end_h=t, value=1.0))
            rows.append(dict(subject=cow, observable="fat_pct", t_start_h=t - 12, t_end_h=t, value=1.0))
        rows.append(dict(subject=cow, observable="milk_yield_daily", t_start_h=36.0, t_end_h=60.0, value=1.0))
    return pd.DataFrame(rows)


def _x_of_subjects(problem, theta):
    """x = (mu, log tau, eta) that puts the subjects exactly at theta (S, k)."""
    z = np.asarray(problem.prior.theta_to_z(jnp.asarray(theta)))
    mu, tau = z.mean(0), np.maximum(z.std(0), 1e-3)
    return np.concatenate([mu, np.log(tau), ((z - mu) / tau).ravel()])


def test_hierarchical_smoke():
    inputs = cow_inputs(DAYS)
    table = _table(inputs)
    data = hierarchical_problem(table, {"cow_a": inputs, "cow_b": inputs}, NAMES, species="cow")
    p = data.problem
    assert p.n_subjects == 2 and p.dim == 2 * (2 + 2)
    assert len(data.rows) == len(table) and data.excluded.empty  # every record maps to a session
    truth = np.array([[240.0, 40.0], [290.0, 46.0]])
    x = _x_of_subjects(p, truth)
    np.testing.assert_allclose(np.asarray(p.prior.z_to_theta(density.unpack(p, jnp.asarray(x))[0])), truth,
                               rtol=1e-9)
    pred, ok, _ = jax.jit(density.predict)(p, density.unpack(p, jnp.asarray(x))[0])
    assert bool(ok)
    yields = np.asarray(pred)[((data.rows["subject"] == "cow_a") &
                               (data.rows["observable"] == "milk_yield_per_milking")).to_numpy()]
    assert np.all(yields > 1.0)  # kg per milking of a cow
    values = density.simulate_values(p, x, np.random.default_rng(0))
    syn = data.with_values(values).problem
    init = density.embed(p, np.asarray(p.prior.nominal_z()))
    res = run_nuts(lambda y: -density.log_density(syn, y), init, chains=1, warmup=8, draws=8, seed=0,
                   max_tree_depth=3, dense_mass=False, progress_bar=False)
    theta = density.posterior_variables(syn, res.z)
    assert theta["lactose_vmax_mmol_h"].shape == (1, 8, 2)  # (chain, draw, subject)
    assert set(theta) == {f"{q}{n}" for q in ("", "mu_", "tau_") for n in NAMES}
    for v in theta.values():
        assert np.all(np.isfinite(v))
    assert np.all((theta["lactose_vmax_mmol_h"] >= 1.0) & (theta["lactose_vmax_mmol_h"] <= 40.0 * 1000))
    # the log-density of the synthetic data is finite at the truth and the guard holds
    v, g = jax.value_and_grad(density.log_density, argnums=1)(syn, jnp.asarray(x))
    assert np.isfinite(float(v)) and np.all(np.isfinite(np.asarray(g)))


def test_hierarchical_fit_through_the_cli(tmp_path, capsys):
    """`lactojax fit fits/tiny_herd_smoke.toml`: the same outputs as a group fit, with the
    population (mu_, tau_) and subject-level parameters named in the InferenceData."""
    import json
    from pathlib import Path

    import arviz as az

    from lactojax.cli import main

    config = Path(__file__).resolve().parents[1] / "fits" / "tiny_herd_smoke.toml"
    out = tmp_path / "herd"
    assert main(["fit", str(config), "--out", str(out), "--quiet"]) == 0
    for name in ("posterior.nc", "summary.csv", "ppc.png", "config.toml", "provenance.json",
                 "diagnostics.json", "data_rows.csv", "excluded_rows.csv"):
        assert (out / name).stat().st_size > 0, name
    idata = az.from_netcdf(out / "posterior.nc")
    post = idata.posterior
    assert post["mu_lactose_vmax_mmol_h"].shape == (1, 8) and post["tau_secreted_fat_g_l"].shape == (1, 8)
    assert post["lactose_vmax_mmol_h"].dims == ("chain", "draw", "subject")
    assert post.sizes["subject"] == 2 and all(str(v).startswith("milkman:") for v in post["subject"].values)
    s = pd.read_csv(out / "summary.csv")
    fitted_noise = [f"sigma_{o}" for o in ("milk_yield_per_milking", "fat_pct", "protein_pct", "lactose_pct",
                                           "somatic_cell_count")]  # noise = "fitted", vocabulary order
    assert list(s["parameter"]) == ["mu_lactose_vmax_mmol_h", "mu_secreted_fat_g_l",
                                    "tau_lactose_vmax_mmol_h", "tau_secreted_fat_g_l", *fitted_noise]
    assert np.all(np.isfinite(s["mean"])) and np.all(s.set_index("parameter").loc[fitted_noise, "mean"] > 0)
    assert post["sigma_fat_pct"].dims == ("chain", "draw")
    diag = json.loads((out / "diagnostics.json").read_text())
    assert diag["method"] == "nuts" and diag["model"] == "hierarchical" and "divergences" in diag
    rows = pd.read_csv(out / "data_rows.csv")
    assert set(rows["observable"]) >= {"milk_yield_per_milking", "fat_pct"}
    # heavy_tails = ["milk_yield_per_milking"]: its records alone are log-Student-t
    kinds = rows.groupby("observable")["kind_name"].agg(set)
    assert kinds["milk_yield_per_milking"] == {"individual_log_student_t"}
    assert kinds["fat_pct"] == {"individual_student_t"}
    assert idata.log_likelihood["y"].shape == (1, 8, len(rows))
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    assert pd.read_csv(out / "excluded_rows.csv")["reason"].str.len().gt(0).all()
    # herd outputs: every lactation over days in milk 1-305, and its lactation summaries
    pred = pd.read_csv(out / "predictions.csv")
    assert list(pred.columns) == ["subject", "day", "observable", "unit", "median", "p05", "p95"]
    assert pred["day"].min() == 1 and pred["day"].max() == 305
    assert set(pred["observable"]) == {"milk_yield_daily", "fat_pct", "protein_pct", "lactose_pct",
                                       "somatic_cell_count"}
    assert len(pred) == 2 * 305 * 5 and np.all((pred["p05"] <= pred["median"]) & (pred["median"] <= pred["p95"]))
    lact = pd.read_csv(out / "lactations.csv")
    assert len(lact) == 2
    for name in ("yield_305_kg", "peak_yield_kg_d", "peak_dim", "persistency"):
        lo, mid, hi = (lact[f"{name}_{q}"] for q in ("p05", "median", "p95"))
        assert np.all(np.isfinite(mid)) and np.all((lo <= mid) & (mid <= hi)), name
    assert diag["forecast"]["days"] == 305 and diag["forecast"]["failed_draws"] == 0
    # the posterior of a herd drives `simulate --posterior` in dairy units; another species is refused
    bands = tmp_path / "bands.csv"
    assert main(["simulate", "--species", "cow", "--days", "2", "--draws", "4", "--posterior",
                 str(out / "posterior.nc"), "--out", str(bands)]) == 0
    b = pd.read_csv(bands)
    assert list(b["dim"]) == [0, 1] and {"yield_kg_per_day_median", "scc_k_per_ml_p95"} <= set(b.columns)
    assert main(["simulate", "--days", "2", "--posterior", str(out / "posterior.nc"), "--out", str(bands)]) == 2
    assert "use --species cow" in capsys.readouterr().err
