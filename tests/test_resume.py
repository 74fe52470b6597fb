"""Resumable fits: a fit killed with SIGKILL continues from its checkpoint with
`lactojax fit --resume` and ends with exactly the draws of an uninterrupted run; a finished
output directory is never overwritten without --force. Samplers on a cheap Gaussian
potential are checked at the library level (NUTS and SVI), the CLI on a tiny fit."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fit_fixtures import tiny_nuts_fit  # noqa: F401  (session fixture)
from lactojax.inference.checkpoint import Checkpoint, CheckpointError, fingerprint

ROOT = Path(__file__).resolve().parents[1]
COV = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 0.5]])


class Killed(Exception):
    """Stands in for a kill in the in-process sampler tests."""


def _potential():
    import jax.numpy as jnp

    prec = jnp.asarray(np.linalg.inv(COV))
    return lambda z: 0.5 * z @ prec @ z


def _stop_after(checkpoint: Checkpoint, saves: int):
    """Make `checkpoint` raise Killed after its `saves`-th sampler save (written first)."""
    real, count = checkpoint.save_sampler, [0]

    def save(*args, **kwargs):
        real(*args, **kwargs)
        count[0] += 1
        if count[0] == saves:
            raise Killed

    checkpoint.save_sampler = save


# stopped in warmup (6 of 8 iterations; the pooled step size is set after the resume) or
# in sampling (12 = 8 + 4: the pooled step size and the first draws come from the checkpoint)
@pytest.mark.parametrize(("adapt_mass_matrix", "saves", "at"), [(False, 2, 6), (False, 4, 12), (True, 4, 12)])
def test_nuts_resumed_in_warmup_or_sampling_gives_the_same_draws(tmp_path, adapt_mass_matrix, saves, at):
    from lactojax.inference.nuts import run_nuts

    kw = dict(chains=3, warmup=8, draws=12, seed=5, max_tree_depth=3, inverse_mass_matrix=COV,
              adapt_mass_matrix=adapt_mass_matrix, progress_bar=False)
    init = np.random.default_rng(1).normal(size=(3, 3))
    full = run_nuts(_potential(), init, **kw)
    ck = Checkpoint(tmp_path, {"test": 1})
    ck.start()
    _stop_after(ck, saves)
    with pytest.raises(Killed):
        run_nuts(_potential(), init, checkpoint=ck, checkpoint_every=3, **kw)
    resumed = run_nuts(_potential(), init, checkpoint=Checkpoint(tmp_path, {"test": 1}), checkpoint_every=3, **kw)
    assert resumed.resumed_at == at
    np.testing.assert_array_equal(resumed.z, full.z)
    for name in full.stats:
        np.testing.assert_array_equal(resumed.stats[name], full.stats[name])
    np.testing.assert_array_equal(resumed.warmup_step_sizes, full.warmup_step_sizes)


def test_finished_sampling_is_kept_for_a_kill_after_it(tmp_path):
    """The last iteration is checkpointed too: a fit killed after sampling (predictive,
    forecast, writing) resumes without sampling again."""
    from lactojax.inference.nuts import run_nuts

    kw = dict(chains=2, warmup=4, draws=6, seed=1, max_tree_depth=2, progress_bar=False)
    ck = Checkpoint(tmp_path, {"test": 1})
    ck.start()
    first = run_nuts(_potential(), np.zeros((2, 3)), checkpoint=ck, checkpoint_every=4, **kw)
    again = run_nuts(_potential(), np.zeros((2, 3)), checkpoint=ck, checkpoint_every=4, **kw)
    assert first.resumed_at == 0 and again.resumed_at == 10
    np.testing.assert_array_equal(again.z, first.z)
    np.testing.assert_array_equal(again.stats["step_size"], first.stats["step_size"])


def test_svi_resumed_gives_the_same_guide(tmp_path):
    from lactojax.inference.svi import run_svi

    def log_density(z):
        return -_potential()(z)

    kw = dict(steps=40, draws=50, seed=3, progress_bar=False)
    full = run_svi(log_density, np.ones(3), **kw)
    ck = Checkpoint(tmp_path, {"test": 1})
    ck.start()
    _stop_after(ck, 2)
    with pytest.raises(Killed):
        run_svi(log_density, np.ones(3), checkpoint=ck, checkpoint_every=10, **kw)
    resumed = run_svi(log_density, np.ones(3), checkpoint=ck, checkpoint_every=10, **kw)
    assert resumed.resumed_at == 20
    np.testing.assert_array_equal(resumed.losses, full.losses)
    np.testing.assert_array_equal(resumed.z, full.z)


def test_a_checkpoint_of_another_fit_is_refused(tmp_path):
    import pandas as pd

    rows = pd.DataFrame({"value": [1.0, 2.0]})
    versions = {"lactojax": "0.1.0", "jax": "0.10.2"}
    Checkpoint(tmp_path, fingerprint("[fit]\nseed = 0\n", rows, versions)).start()
    Checkpoint(tmp_path, fingerprint("[fit]\nseed = 0\n", rows, versions)).check()  # the same fit: fine
    with pytest.raises(CheckpointError, match="resolved configuration"):
        Checkpoint(tmp_path, fingerprint("[fit]\nseed = 1\n", rows, versions)).check()
    with pytest.raises(CheckpointError, match="data rows"):
        Checkpoint(tmp_path, fingerprint("[fit]\nseed = 0\n", rows.iloc[:1], versions)).check()


# --- the command line, on the tiny fit every CLI test shares ------------------------------
# tests/fit_fixtures.py: fits/tiny_smoke.toml with these options, checkpoints every 10 of
# its 30 NUTS iterations (the default checkpoint_every)
FIT_ARGS = ["--chains", "2", "--draws", "15", "--warmup", "15", "--quiet"]
CONFIG = str(ROOT / "fits" / "tiny_smoke.toml")


def _posterior(out: Path):
    import arviz as az

    idata = az.from_netcdf(str(out / "posterior.nc"))
    return {f"{g}/{v}": np.asarray(idata[g][v]) for g in ("posterior", "sample_stats", "posterior_predictive")
            for v in idata[g].data_vars}


# slow (~100 s, a second fit in a subprocess): the default suite keeps resuming itself (NUTS
# in warmup and in sampling, SVI, a finished run, another fit's checkpoint refused, above)
@pytest.mark.slow
@pytest.mark.xdist_group("inference_cli")  # the worker that makes the shared tiny fit
@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_fit_killed_with_sigkill_resumes_to_the_same_draws(tmp_path, capsys, tiny_nuts_fit):  # noqa: F811
    from lactojax.cli import main

    full, killed = tiny_nuts_fit, tmp_path / "killed"
    assert not (full / "checkpoint").exists()  # removed once the outputs are written
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-m", "lactojax.cli", "fit", CONFIG, "--out", str(killed), *FIT_ARGS],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    state = killed / "checkpoint" / "nuts.npz"
    try:
        deadline = time.time() + 900
        while not state.exists():  # killed right after its first NUTS checkpoint (10 of 30 iterations)
            assert proc.poll() is None, f"the fit ended before it could be killed: {proc.stderr.read()}"
            assert time.time() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "posterior.nc").exists()

    # without --resume or --force the unfinished fit is not started over
    assert main(["fit", CONFIG, "--out", str(killed), *FIT_ARGS]) == 2
    err = capsys.readouterr().err
    assert str(killed) in err and "unfinished" in err and "--resume" in err and "NUTS iterations" in err
    # a different configuration cannot resume it
    assert main(["fit", CONFIG, "--out", str(killed), "--resume", *FIT_ARGS[:4], "--warmup", "14", "--quiet"]) == 2
    assert "different fit" in capsys.readouterr().err

    assert main(["fit", CONFIG, "--out", str(killed), "--resume", *FIT_ARGS]) == 0
    diag = json.loads((killed / "diagnostics.json").read_text())
    assert 10 <= diag["resumed_at_iteration"] < 30
    a, b = _posterior(full), _posterior(killed)
    assert a.keys() == b.keys() and "posterior/lactose_vmax_mmol_h" in a
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert not (killed / "checkpoint").exists()

    # a finished directory: refused without --force, a no-op with --resume
    before = (full / "posterior.nc").stat().st_mtime_ns
    assert main(["fit", CONFIG, "--out", str(full), *FIT_ARGS]) == 2
    assert "already holds a finished fit" in capsys.readouterr().err
    assert main(["fit", CONFIG, "--out", str(full), "--resume", *FIT_ARGS]) == 0
    assert main(["fit", CONFIG, "--out", str(full), "--resume", "--force", *FIT_ARGS]) == 2
    assert (full / "posterior.nc").stat().st_mtime_ns == before


@pytest.mark.slow
def test_herd_fit_interrupted_resumes_to_the_same_draws(tmp_path, capsys, monkeypatch):
    """The hierarchical model goes through the same runner: a herd fit stopped by Ctrl-C
    after its first checkpoint resumes to the uninterrupted draws (~2.5 min: herd compiles)."""
    from lactojax.cli import main
    from lactojax.inference.checkpoint import Checkpoint as Ck

    text = (ROOT / "fits" / "tiny_herd_smoke.toml").read_text().replace("[nuts]\n", "[nuts]\ncheckpoint_every = 3\n")
    cfg = tmp_path / "herd.toml"
    cfg.write_text(text.replace("#:schema ./fit_config.schema.json\n", ""))
    full, stopped = tmp_path / "full", tmp_path / "stopped"
    assert main(["fit", str(cfg), "--out", str(full), "--quiet"]) == 0

    real = Ck.save_sampler

    def save_then_interrupt(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Ck, "save_sampler", save_then_interrupt)
    assert main(["fit", str(cfg), "--out", str(stopped), "--quiet"]) == 130
    assert "--resume" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["fit", str(cfg), "--out", str(stopped), "--resume", "--quiet"]) == 0
    assert json.loads((stopped / "diagnostics.json").read_text())["resumed_at_iteration"] == 3
    a, b = _posterior(full), _posterior(stopped)
    assert a.keys() == b.keys() and "posterior/mu_lactose_vmax_mmol_h" in a
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    for name in ("predictions.csv", "lactations.csv"):
        assert (full / name).read_text() == (stopped / name).read_text()
