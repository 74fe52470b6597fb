"""Fast checks of priors and fit configurations (no ODE solves)."""

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest

from lactojax.inference.config import ConfigError, FitConfig, load_config
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
    assert cfg.fit.name == "cfg"
    assert cfg.nuts.chain_method == "vectorized"
    again = load_config(_write(tmp_path, cfg.to_toml()))
    for section in ("fit", "design", "parameters", "solver", "map", "nuts", "svi", "outputs"):
        assert getattr(again, section) == getattr(cfg, section)


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
        FitConfig.from_dict({"fit": {"datasets": ["nope"]}, "parameters": {"estimate": ["tj_tau_h"]}}, "x.toml")
    with pytest.raises(ConfigError, match="unknown parameter 'tj_tau'"):
        FitConfig.from_dict({"fit": {"datasets": ["saint1984"]}, "parameters": {"estimate": ["tj_tau"]}}, "x.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[fit\n"))


def test_cli_overrides(tmp_path):
    cfg = load_config(_write(tmp_path, BASE))
    c2 = cfg.with_overrides(method="svi", chains=3, draws=7, warmup=5)
    assert (c2.fit.method, c2.nuts.chains, c2.nuts.draws, c2.nuts.warmup) == ("svi", 3, 7, 5)
    with pytest.raises(ConfigError):
        cfg.with_overrides(chains=0)


def test_shipped_fit_configs_validate():
    from pathlib import Path

    paths = sorted((Path(__file__).resolve().parents[1] / "fits").glob("*.toml"))
    assert "human_default.toml" in [p.name for p in paths]
    for p in paths:
        load_config(p)


def test_the_default_fit_covers_the_first_year_with_a_between_study_discrepancy():
    """fits/human_default.toml (`make fit`): every row of its datasets inside 365 days, so
    the month-1 to month-12 rows are fitted; the parameters they inform are estimated; a
    pooled between-study discrepancy. fits/human_first_month.toml's rows are a subset."""
    from pathlib import Path

    from lactojax.inference.problem import problem_from_config

    fits = Path(__file__).resolve().parents[1] / "fits"
    cfg = load_config(fits / "human_default.toml")
    assert cfg.fit.horizon_days == 365 and cfg.heterogeneity.model == "pooled"
    default = problem_from_config(cfg)
    rows = default.rows
    later = rows[rows.t_end_h > 30 * 24]  # rows of months 1-12
    assert len(later) >= 20 and later.t_end_h.max() == 365 * 24
    assert {"cox1996", "dewey_lonnerdal1983", "michaelsen1994", "dewey1991_darling", "hartmann_kulski1978",
            "noel1974", "kent1999"} <= set(rows.dataset)
    assert {"prolactin_basal_decline_h", "prolactin_secretion_fold_late", "infant_stomach_mature_ml",
            "cell_proliferation_late_fraction"} <= set(cfg.parameters.estimate)
    # only rows no model output maps, and chonnam1982's windows that end after day 365, are left out
    assert default.excluded.reason.str.contains("beyond the fit horizon|no mapping").all()
    assert len(default.excluded) <= 3
    assert default.problem.discrepancy.labels == ("all",)
    assert default.problem.dim == len(cfg.parameters.estimate) + 1
    observable = problem_from_config(cfg.with_overrides(heterogeneity="observable")).problem.discrepancy
    assert set(observable.labels) == set(rows.observable)  # every row is a group mean or an event time
    month = problem_from_config(load_config(fits / "human_first_month.toml"))
    key = ["dataset", "observable", "t_start_h", "t_end_h"]
    assert set(map(tuple, month.rows[key].to_numpy().tolist())) < set(map(tuple, rows[key].to_numpy().tolist()))


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
    from lactojax.parameters import SPECIES_PRESETS, check_within_bounds, species_spec

    ps = PriorSet.from_table(["lactose_vmax_mmol_h", "storage_capacity_ml"], species="cow")
    cow = {n: v for n, (v, _) in SPECIES_PRESETS["cow"].items()}
    np.testing.assert_allclose(np.asarray(ps.u_to_theta(ps.m)),
                               [cow["lactose_vmax_mmol_h"], cow["storage_capacity_ml"]], rtol=1e-12)
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
    FitConfig.from_dict(cfg, "cow.toml")  # cow bounds accepted
    cfg["fit"]["species"] = "human"
    with pytest.raises(ConfigError, match=r"cow.toml.*storage_capacity_ml.*outside bounds"):
        FitConfig.from_dict(cfg, "cow.toml")


# --------------------------------------------------------------------------------------
# FitConfig: typed sections, declarations in one place, schema, reference
# --------------------------------------------------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "fits").glob("*.toml"))


def test_solver_defaults_are_solver_settings_except_the_named_overrides():
    """The fit's solver defaults are SolverSettings() except FIT_SOLVER_OVERRIDES (one
    documented place); each [solver] key's default is FIT_SOLVER_DEFAULTS' value."""
    import dataclasses

    from lactojax.inference import config as C
    from lactojax.solver import ADJOINT_NAMES, SOLVER_NAMES, SolverSettings

    base = SolverSettings()
    differ = {f.name for f in dataclasses.fields(SolverSettings)
              if getattr(base, f.name) != getattr(C.FIT_SOLVER_DEFAULTS, f.name)}
    assert differ == set(C.FIT_SOLVER_OVERRIDES)
    assert C.SolverSection().settings() == C.FIT_SOLVER_DEFAULTS
    # every key maps to the SolverSettings field of the same concept
    s = C.SolverSection(solver="kvaerno5", rtol=1e-5, atol=1e-7, max_steps=300, gradient="forward",
                        save_every_h=0.5, checkpoints=200).settings()
    assert (s.solver, s.rtol, s.atol, s.max_steps, s.adjoint, s.save_every_h, s.checkpoints, s.throw) == \
        ("kvaerno5", 1e-5, 1e-7, 300, "forward", 0.5, 200, False)
    assert C.SolverSection(gradient="reverse").settings().adjoint == "recursive_checkpoint"
    assert C.SolverSection(checkpoints=0).settings().checkpoints is None
    # a cow's unset grid keys take the cow's grid; keys set in the file win
    cow = C.SolverSection().settings("cow")
    assert cow == C.FIT_SOLVER_DEFAULTS.replace(**SolverSettings.for_species("cow").__dict__ | {
        k: getattr(C.FIT_SOLVER_DEFAULTS, k) for k in C.FIT_SOLVER_OVERRIDES})
    assert (cow.session_steps, cow.startup_step_growth) == (3, 0.05)
    assert C.SolverSection(session_steps=4).settings("cow").session_steps == 4
    assert C.SolverSection().settings("human") == C.FIT_SOLVER_DEFAULTS
    # solver and adjoint names come from solver.py
    import typing

    assert typing.get_args(C.SolverSection.model_fields["solver"].annotation) == SOLVER_NAMES
    assert set(C.GRADIENT_ADJOINT.values()) <= set(ADJOINT_NAMES)


def test_hierarchical_defaults_match_the_model():
    import inspect

    from lactojax.inference.config import HierarchicalSection
    from lactojax.inference.problem import hierarchical_problem

    default = inspect.signature(hierarchical_problem).parameters["tau_scale"].default
    h = HierarchicalSection()
    assert (h.tau_scale, h.max_subjects, h.subjects) == (default, None, ())


@pytest.mark.parametrize(
    "extra, expected",
    [
        # unknown key, with a suggestion
        ("[nuts]\nchians = 2\n", ["[nuts.chians]", "unknown key", "did you mean 'chains'"]),
        ("[nut]\nchains = 2\n", ["[nut]", "unknown section", "did you mean 'nuts'"]),
        ("[parameters.prior.lactose_vmax_mmol_h]\nsclae = 0.1\n",
         ["[parameters.prior.lactose_vmax_mmol_h.sclae]", "did you mean 'scale'"]),
        # wrong type
        ("[nuts]\nchains = 'four'\n", ["[nuts.chains]", "expected an integer, got 'four'"]),
        ("[nuts]\ndense_mass = 1\n", ["[nuts.dense_mass]", "expected true or false, got 1"]),
        ("[map]\nstarts = true\n", ["[map.starts]", "expected an integer, got True"]),
        ("[design]\nfeeds_per_day = '10'\n", ["[design.feeds_per_day]", "expected a number"]),
        # out of range
        ("[nuts]\nwarmup = -3\n", ["[nuts.warmup] expected an integer >= 0, got -3"]),
        ("[nuts]\ntarget_accept = 1.0\n", ["[nuts.target_accept]", "> 0 and < 1, got 1.0"]),
        ("[hierarchical]\ntau_scale = 0\n", ["[hierarchical.tau_scale]", "> 0"]),
        ("[solver]\ncheckpoints = 6000\nmax_steps = 5000\n", ["[solver.checkpoints]", "max_steps"]),
        ("[hierarchical]\nsubjects = ['a', 'b', 'c']\nmax_subjects = 2\n", ["[hierarchical.subjects]", "max_subjects"]),
        ("[hierarchical]\nsubjects = ['a', 'a']\n", ["[hierarchical.subjects]", "twice"]),
        ("[design]\nfeeds_per_day = 12\nfeed_duration_min = 61\n", ["[design]", "does not fit"]),
        # unknown parameter
        ("[parameters.fixed]\nbogus_param = 1.0\n", ["[parameters.fixed.bogus_param]", "unknown parameter"]),
        # bad enum, with a suggestion
        ("[solver]\nsolver = 'tsit'\n", ["[solver.solver]", "did you mean 'tsit5'"]),
        ("[svi]\nguide = 'flow'\n", ["[svi.guide]", "'flow'"]),
    ],
)
def test_errors_name_file_dotted_key_and_what_was_expected(tmp_path, extra, expected):
    path = _write(tmp_path, BASE + extra)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ")
    for part in expected:
        assert part in msg, (part, msg)


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[fit]\ndatasets = ["saint1984"]\nhorizon_days = 3\nmethod = "nut"\n'
         '[parameters]\nestimate = ["lactose_vmax_mmol_h"]\n', ["[fit.method]", "did you mean 'nuts'"]),
        ('[fit]\ndatasets = ["saint1985"]\n[parameters]\nestimate = ["lactose_vmax_mmol_h"]\n',
         ["[fit.datasets]", "unknown dataset 'saint1985'", "did you mean 'saint1984'"]),
        ('[fit]\ndatasets = ["saint1984"]\nmodel = "herd"\n[parameters]\nestimate = ["lactose_vmax_mmol_h"]\n',
         ["[fit.model]", "'herd'"]),
        ('[fit]\ndatasets = ["saint1984"]\nhorizon_days = 2.5\n[parameters]\nestimate = ["lactose_vmax_mmol_h"]\n',
         ["[fit.horizon_days]", "whole number"]),
        ('[fit]\ndatasets = ["saint1984"]\n[parameters]\nestimate = ["lactose_vmax_mmol"]\n',
         ["[parameters.estimate]", "unknown parameter 'lactose_vmax_mmol'", "did you mean 'lactose_vmax_mmol_h'"]),
        ('[fit]\ndatasets = []\n[parameters]\nestimate = ["lactose_vmax_mmol_h"]\n', ["[fit.datasets]", "required"]),
        ('[parameters]\nestimate = ["lactose_vmax_mmol_h"]\n', ["[fit]", "missing section"]),
    ],
)
def test_fit_and_parameter_errors(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ")
    for part in expected:
        assert part in msg, (part, msg)


FULL = BASE + """
[parameters.fixed]
storage_capacity_ml = 150.0
[parameters.prior]
lactose_vmax_mmol_h = {loc = 20.0, scale = 0.1}
[solver]
gradient = "forward"
checkpoints = 100
[hierarchical]
tau_scale = 0.5
max_subjects = 3
subjects = ["a", "b"]
"""


def test_round_trip_of_the_resolved_configuration(tmp_path):
    cfg = load_config(_write(tmp_path, FULL))
    text = cfg.to_toml()
    p = tmp_path / "again.toml"
    p.write_text(text)
    again = load_config(p)
    assert again == cfg and again is not cfg
    assert again.parameters.prior["lactose_vmax_mmol_h"].scale == 0.1
    assert dict(again.parameters.fixed) == {"storage_capacity_ml": 150.0}
    assert again.hierarchical.subjects == ("a", "b") and again.hierarchical.max_subjects == 3
    # resolved: every declared key with a value appears in the text
    import tomllib

    raw = tomllib.loads(text)
    for name, sec in FitConfig.sections().items():
        assert set(raw[name]) == {k for k in sec.keys() if getattr(getattr(cfg, name), k) is not None}
    # to_dict: plain nested dicts with the same structure
    d = cfg.to_dict()
    assert d["parameters"]["prior"] == {"lactose_vmax_mmol_h": {"loc": 20.0, "scale": 0.1}}
    assert d["fit"]["datasets"] == ["saint1984"] and d["solver"]["gradient"] == "forward"
    __import__("json").dumps(d)
    # a different value is a different configuration
    assert cfg.replace(nuts=cfg.nuts.replace(chains=5)) != cfg


def test_config_is_frozen_and_changes_are_validated(tmp_path):
    import dataclasses

    cfg = load_config(_write(tmp_path, BASE))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.nuts.chains = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.fit = None
    with pytest.raises(TypeError):
        cfg.parameters.fixed["storage_capacity_ml"] = 1.0
    with pytest.raises(ConfigError, match=r"\[nuts.chains\]"):
        cfg.nuts.replace(chains=0)
    with pytest.raises(ConfigError, match=r"--warmup: \[nuts.warmup\]"):
        cfg.with_overrides(warmup=-1)
    with pytest.raises(ConfigError, match=r"--method: \[fit.method\]"):
        cfg.with_overrides(method="hmc")
    # bounds depend on the species: checked when the sections meet
    with pytest.raises(ConfigError, match=r"parameters.fixed.storage_capacity_ml.*outside bounds"):
        cfg.replace(parameters=cfg.parameters.replace(fixed={"storage_capacity_ml": 15000.0}))
    assert hash(cfg) == hash(load_config(_write(tmp_path, BASE)))


def test_committed_schema_is_up_to_date():
    from lactojax.commands.config import schema_text

    assert (ROOT / "fits" / "fit_config.schema.json").read_text() == schema_text(), \
        "run `lactojax config schema` to regenerate fits/fit_config.schema.json"


def test_schema_follows_the_declarations():
    schema = FitConfig.json_schema()
    assert set(schema["properties"]) == set(FitConfig.sections())
    for name, sec in FitConfig.sections().items():
        props = schema["properties"][name]["properties"]
        assert list(props) == list(sec.keys())
        for key, f in sec.model_fields.items():
            assert props[key]["description"] == f.description
            if not f.is_required() and f.default is not None:
                assert "default" in props[key]
    nuts = schema["properties"]["nuts"]["properties"]
    assert nuts["warmup"] == {"type": "integer", "description": nuts["warmup"]["description"],
                              "minimum": 0, "default": 150}
    assert schema["properties"]["solver"]["properties"]["gradient"]["enum"] == ["reverse", "forward"]


def test_shipped_configs_validate_against_the_schema_and_point_to_it():
    import json
    import tomllib

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((ROOT / "fits" / "fit_config.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    assert SHIPPED
    for p in SHIPPED:
        assert p.read_text().splitlines()[0] == "#:schema ./fit_config.schema.json", p.name
        jsonschema.validate(tomllib.loads(p.read_text()), schema)
        load_config(p)
    # the schema is not vacuous: it rejects what load_config rejects
    raw = tomllib.loads((ROOT / "fits" / "tiny_smoke.toml").read_text())
    for bad in ({"nuts": {**raw["nuts"], "chians": 2}}, {"nuts": {**raw["nuts"], "warmup": -3}},
                {"solver": {**raw["solver"], "gradient": "sideways"}}, {"fit": {**raw["fit"], "datasets": ["nope"]}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**raw, **bad}, schema)


def test_docs_reference_is_generated_from_the_declarations():
    from lactojax.commands.config import REFERENCE_BEGIN, REFERENCE_END
    from lactojax.commands.config import markdown_reference

    doc = (ROOT / "docs" / "fitting.md").read_text()
    block = doc.split(REFERENCE_BEGIN, 1)[1].split(REFERENCE_END, 1)[0]
    assert block.strip() == markdown_reference().strip(), \
        "run `lactojax config reference --docs docs/fitting.md`"
    for name, sec in FitConfig.json_schema()["properties"].items():
        assert f"[{name}]" in doc
        for key in sec["properties"]:
            assert f"`{key}`" in doc, f"[{name}] {key} missing from docs/fitting.md"


def test_config_command(tmp_path, capsys):
    from lactojax.cli import main
    from lactojax.commands.config import schema_text

    out = tmp_path / "schema.json"
    assert main(["config", "schema", "--out", str(out)]) == 0
    assert out.read_text() == schema_text()
    capsys.readouterr()
    assert main(["config", "show", str(ROOT / "fits" / "tiny_smoke.toml")]) == 0
    shown = capsys.readouterr().out
    assert 'name = "tiny_smoke"' in shown and "[hierarchical]" in shown
    bad = _write(tmp_path, BASE + "[nuts]\nchians = 2\n")
    assert main(["config", "show", str(bad)]) == 2
    assert "did you mean 'chains'" in capsys.readouterr().err
