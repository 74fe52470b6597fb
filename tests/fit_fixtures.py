"""A tiny finished NUTS fit (fits/tiny_smoke.toml) shared by the CLI and notebook tests.

Session-scoped: the tests that use it are in one xdist group ("inference_cli"), so the fit
(and its compilation) happens once per test run.
"""

import pytest


@pytest.fixture(scope="session")
def tiny_nuts_fit(tmp_path_factory):
    from lactojax.cli import main

    from pathlib import Path

    config = Path(__file__).resolve().parents[1] / "fits" / "tiny_smoke.toml"
    out = tmp_path_factory.mktemp("fit") / "tiny"
    rc = main(["fit", str(config), "--out", str(out), "--chains", "2", "--draws", "15",
               "--warmup", "15", "--quiet"])
    assert rc == 0
    return out
