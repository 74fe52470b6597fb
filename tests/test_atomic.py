"""Atomic outputs (lactojax.atomic): a process killed (SIGKILL) while writing leaves the old
file whole and readable; the temporary it left is recognised and removed afterwards."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from lactojax import atomic

WRITER = textwrap.dedent("""
    import sys, time
    from lactojax.atomic import open_atomic
    with open_atomic(sys.argv[1]) as fh:
        fh.write("half,written\\n")
        fh.flush()
        print("writing", flush=True)
        while True:  # a slow writer: the parent kills it here
            fh.write("1,2\\n" * 1000)
            fh.flush()
            time.sleep(0.01)
""")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_during_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "summary.csv"
    old = pd.DataFrame({"parameter": ["a", "b"], "mean": [1.5, 2.5]})
    atomic.write_csv(old, target, index=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.abspath("src"), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "writing"
        temps = [p for p in tmp_path.iterdir() if p.name.startswith(".summary.csv.tmp-")]
        assert len(temps) == 1 and temps[0].stat().st_size > 0  # the new file is being written beside it
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    pd.testing.assert_frame_equal(pd.read_csv(target), old)  # the old file, whole
    removed = atomic.remove_stale_temporaries(tmp_path)
    assert [p.name for p in removed] == [temps[0].name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]


def test_an_error_while_writing_keeps_the_old_file(tmp_path):
    target = tmp_path / "notes.txt"
    atomic.write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic.open_atomic(target) as fh:
            fh.write("new, unfinished")
            raise RuntimeError("stop")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no temporary left


def test_replaces_the_file_and_keeps_the_format(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    png = tmp_path / "plot.png"
    atomic.save_figure(fig, png, dpi=20)
    plt.close(fig)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    gz = tmp_path / "table.csv.gz"
    frame = pd.DataFrame({"x": np.arange(3)})
    atomic.write_csv(frame, gz, index=False, compression="infer")
    assert gz.read_bytes()[:2] == b"\x1f\x8b"  # gzip, chosen from the final name's suffix
    pd.testing.assert_frame_equal(pd.read_csv(gz), frame)
    atomic.write_text(gz.with_name("a.txt"), "one")
    atomic.write_text(gz.with_name("a.txt"), "two")
    assert gz.with_name("a.txt").read_text() == "two"


def test_live_temporaries_are_kept(tmp_path):
    mine = atomic.temporary_name(tmp_path / "x.csv")  # this (running) process's temporary
    mine.write_text("in progress")
    assert atomic.remove_stale_temporaries(tmp_path) == []
    assert mine.exists()


def test_nothing_written_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic.atomic_path(tmp_path / "y.nc"):
            pass
    assert not (tmp_path / "y.nc").exists()
