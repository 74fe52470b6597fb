"""A tiny finished NUTS fit (fits/tiny_smoke.toml) shared by the CLI and notebook tests.

The fit is made once per test run and reused by every test module and xdist worker: it is
written under the run's shared temporary root, guarded by a lock file.
"""

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _shared_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # under pytest-xdist each worker has base/popen-gwN; their parent is shared
    return (base.parent if base.name.startswith("popen-gw") else base) / "lactojax_tiny_fit"


@pytest.fixture(scope="session")
def tiny_nuts_fit(tmp_path_factory):
    from lactojax.cli import main

    out = _shared_dir(tmp_path_factory)
    done = out / "summary.csv"
    lock = Path(str(out) + ".lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        fd = None
    if fd is not None:
        os.close(fd)
        rc = 1
        try:
            rc = main(["fit", str(ROOT / "fits" / "tiny_smoke.toml"), "--out", str(out), "--chains",
                       "2", "--draws", "15", "--warmup", "15", "--quiet"])
        finally:
            out.mkdir(parents=True, exist_ok=True)
            (out / "READY").write_text("ok" if rc == 0 else "failed")
        assert rc == 0
    else:
        deadline = time.time() + 3600
        while not (out / "READY").exists():
            assert time.time() < deadline, "timed out waiting for the shared tiny fit"
            time.sleep(2)
        assert (out / "READY").read_text() == "ok", "the shared tiny fit failed (see the other worker)"
    assert done.exists()
    return out
