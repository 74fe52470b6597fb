"""Fast checks of priors and fit configurations (no ODE solves)."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest

from lactojax.inference.config import ConfigError, apply_overrides, load_config, to_toml, validate
from lactojax.inference.priors import PriorSet
from lactojax.inference.problem import OBSERVABLE_MAP, row_days
from lactojax.parameters import PARAMETER_TABLE, PARAMETERS

NAMES = ["lactose_vmax_mmol_h", "tj_floor", "prolactin_night_gain", "progesterone_brake_strength",
         "cell_apoptosis_basal_per_h"]


def test_prior_matches_numpyro_truncated_normal():
    ps = PriorSet.from_table(NAMES)
    u = ps.sample_u(jax.random.PRNGKey(0), (50,))
    ref = sum(
        dist.TruncatedNormal(ps.m[i], ps.s[i], low=ps.a[i], high=ps.b[i]).log_prob(u[:, i])
        for i in range(len(NAMES))
    )
    np.testing.assert_allclose(ps.log_prob_u(u), ref, rtol=1e-10, atol=1e-10)


def test_prior_centre_and_families_follow_the_table():
    ps = PriorSet.from_table(NAMES)
    theta = np.asarray(ps.u_to_theta(ps.m))
    np.testing.assert_allclose(theta, [PARAMETERS[n].nominal for n in NAMES], rtol=1e-12)
    assert ps.family == tuple(PARAMETERS[n].prior[0] for n in NAMES)


def test_every_table_parameter_has_a_usable_prior():
    ps = PriorSet.from_table([s.name for s in PARAMETER_TABLE])
    z = ps.nominal_z()
    assert np.isfinite(float(ps.log_prob_z(z)))


@pytest.mark.parametrize("zval", [-40.0, -5.0, 0.0, 5.0, 40.0])
def test_unconstrained_values_map_inside_bounds(zval):
    ps = PriorSet.from_table(NAMES)
    theta = np.asarray(ps.z_to_theta(jnp.full(len(NAMES), zval)))
    for n, t in zip(NAMES, theta):
        assert PARAMETERS[n].lower <= t <= PARAMETERS[n].upper
    assert not np.isnan(float(ps.log_prob_z(jnp.full(len(NAMES), zval))))


def test_z_theta_round_trip_and_jacobian():
    ps = PriorSet.from_table(NAMES)
    z = ps.sample_z(jax.random.PRNGKey(1), (20,))
    np.testing.assert_allclose(ps.theta_to_z(ps.z_to_theta(z)), z, atol=1e-8)
    # log p(z) integrates the u-density: compare with a numerical Jacobian for one coordinate
    z0 = z[0]
    du = jax.jacfwd(lambda x: ps.z_to_u(x)[0])(z0)
    np.testing.assert_allclose(np.log(np.diag(du)), ps.z_to_u(z0)[1], rtol=1e-8)


def test_prior_overrides():
    ps = PriorSet.from_table(["lactose_vmax_mmol_h"], {"lactose_vmax_mmol_h": {"loc": 20.0, "scale": 0.1}})
    assert float(ps.s[0]) == 0.1
    np.testing.assert_allclose(float(jnp.exp(ps.m[0])), 20.0)


def test_row_days():
    assert row_days(0, 24) == [0]
    assert row_days(48, 72) == [2]
    assert row_days(312, 672) == list(range(13, 28))
    assert row_days(720, 720) == [29]  # a point time: the 24 h ending at t
    assert row_days(0, 168) == list(range(7))
    assert row_days(10, 20) == [0]  # shorter than a day: the day it overlaps


def test_observable_map_names_exist_in_vocabulary():
    from lactojax.datasets.vocabulary import VOCABULARY

    assert set(OBSERVABLE_MAP) <= set(VOCABULARY)


def _write(tmp_path, text):
    p = tmp_path / "cfg.toml"
    p.write_text(text)
    return p


BASE = """
[fit]
datasets = ["saint1984"]
horizon_days = 3
[parameters]
estimate = ["lactose_vmax_mmol_h"]
"""


def test_config_defaults_and_round_trip(tmp_path):
    cfg = load_config(_write(tmp_path, BASE))
    assert cfg["fit"]["name"] == "cfg"
    assert cfg["nuts"]["chain_method"] == "vectorized"
    again = load_config(_write(tmp_path, to_toml(cfg)))
    for section in ("fit", "design", "parameters", "solver", "map", "nuts", "svi", "outputs"):
        assert again[section] == cfg[section]


@pytest.mark.parametrize(
    "extra, key",
    [
        ("[design]\nbogus = 1\n", "design.bogus"),
        ("[nuts]\nchains = 0\n", "nuts.chains"),
        ("[nuts]\nchain_method = 'threads'\n", "nuts.chain_method"),
        ("[solver]\ngradient = 'sideways'\n", "solver.gradient"),
        ("[parameters.fixed]\nstorage_capacity_ml = 5000.0\n", "parameters.fixed.storage_capacity_ml"),
        ("[parameters.fixed]\nlactose_vmax_mmol_h = 10.0\n", "parameters.fixed.lactose_vmax_mmol_h"),
        ("[parameters.prior]\ntj_tau_h = {scale = 0.1}\n", "parameters.prior.tj_tau_h"),
        ("[svi]\nguide = 'flow'\n", "svi.guide"),
        ("[weird]\nx = 1\n", "weird"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path, extra, key):
    path = _write(tmp_path, BASE + extra)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_config_unknown_dataset_and_parameter(tmp_path):
    with pytest.raises(ConfigError, match="unknown dataset 'nope'"):
        validate({"fit": {"datasets": ["nope"]}, "parameters": {"estimate": ["tj_tau_h"]}}, "x.toml")
    with pytest.raises(ConfigError, match="unknown parameter 'tj_tau'"):
        validate({"fit": {"datasets": ["saint1984"]}, "parameters": {"estimate": ["tj_tau"]}}, "x.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[fit\n"))


def test_cli_overrides(tmp_path):
    cfg = load_config(_write(tmp_path, BASE))
    c2 = apply_overrides(cfg, method="svi", chains=3, draws=7, warmup=5)
    assert (c2["fit"]["method"], c2["nuts"]["chains"], c2["nuts"]["draws"], c2["nuts"]["warmup"]) == ("svi", 3, 7, 5)
    with pytest.raises(ConfigError):
        apply_overrides(cfg, chains=0)


def test_shipped_fit_configs_validate():
    from pathlib import Path

    paths = sorted((Path(__file__).resolve().parents[1] / "fits").glob("*.toml"))
    assert "human_default.toml" in [p.name for p in paths]
    for p in paths:
        load_config(p)


def test_first_month_config_adds_the_established_lactation_rows_to_the_default_fit():
    """fits/human_first_month.toml: the default fit's rows plus those inside 31 days
    (1-month intake and production, later sodium/potassium, 1-month prolactin)."""
    from pathlib import Path

    from lactojax.inference.problem import problem_from_config

    fits = Path(__file__).resolve().parents[1] / "fits"
    default = problem_from_config(load_config(fits / "human_default.toml"))
    month = problem_from_config(load_config(fits / "human_first_month.toml"))
    key = ["dataset", "observable", "t_start_h", "t_end_h"]
    d_rows = set(map(tuple, default.rows[key].to_numpy().tolist()))
    m_rows = set(map(tuple, month.rows[key].to_numpy().tolist()))
    assert d_rows < m_rows
    added = month.rows[[tuple(r) not in d_rows for r in month.rows[key].to_numpy().tolist()]]
    assert {"cox1996", "dewey_lonnerdal1983", "chonnam1982", "saint1984"} <= set(added.dataset)
    assert added.t_end_h.max() == 720.0 and added.t_start_h.min() >= 120.0
    # what is still beyond the horizon is listed, with the reason
    assert month.excluded.reason.str.contains("beyond the fit horizon|no mapping").all()
    assert len(month.rows) + len(month.excluded) == len(default.rows) + len(default.excluded)


def test_old_fit_base_values_follow_the_current_parameter_table():
    """A posterior made before a parameter was added still loads (nominal value, warning);
    one naming a parameter the table no longer has is an error naming it."""
    from lactojax.inference.predictive import _complete_base
    from lactojax.parameters import Params

    cow = Params.nominal("cow")
    base = {k: float(v) for k, v in cow.values.items()}
    dropped = NAMES[0]
    old = {k: v for k, v in base.items() if k != dropped}
    with pytest.warns(UserWarning, match=dropped):
        completed = _complete_base(old, "cow", "old/posterior.nc")
    assert completed == base
    with pytest.raises(ValueError, match="old/posterior.nc.*'no_such_parameter'"):
        _complete_base({**base, "no_such_parameter": 1.0}, "cow", "old/posterior.nc")


def test_species_bounds_drive_priors_and_checks():
    """A cow quarter's capacity and secretion lie far outside the human table bounds: the
    cow preset carries its own bounds, used by priors, clipping and bounds checks."""
    from lactojax.parameters import check_within_bounds, species_spec

    ps = PriorSet.from_table(["lactose_vmax_mmol_h", "storage_capacity_ml"], species="cow")
    np.testing.assert_allclose(np.asarray(ps.u_to_theta(ps.m)), [130.0, 15000.0], rtol=1e-12)
    cow_storage = species_spec("storage_capacity_ml", "cow")
    assert ps.bounds_of(1) == (cow_storage.lower, cow_storage.upper)
    assert cow_storage.upper > 10 * PARAMETERS["storage_capacity_ml"].upper
    assert ps.bounds_of(0) == (20.0, 400.0)
    lower, upper = np.array([ps.bounds_of(i) for i in range(ps.k)]).T
    theta = np.asarray(ps.z_to_theta(jnp.array([[-30.0, -30.0], [30.0, 30.0]])))
    assert np.all(theta[0] >= lower) and np.all(theta[1] <= upper)
    check_within_bounds({"storage_capacity_ml": 15000.0}, "cow")
    with pytest.raises(ValueError, match="storage_capacity_ml=15000"):
        check_within_bounds({"storage_capacity_ml": 15000.0}, "human")
    cfg = {"fit": {"species": "cow", "datasets": ["milkman"]},
           "parameters": {"estimate": ["lactose_vmax_mmol_h"], "fixed": {"storage_capacity_ml": 15000.0}}}
    validate(cfg, "cow.toml")  # cow bounds accepted
    cfg["fit"]["species"] = "human"
    with pytest.raises(ConfigError, match=r"cow.toml.*storage_capacity_ml.*outside bounds"):
        validate(cfg, "cow.toml")
