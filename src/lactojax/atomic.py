"""Atomic file output: every file lactojax writes goes to a temporary name in the same
directory and is renamed over the target (`os.replace`, atomic on POSIX and Windows), so a
run killed while writing leaves either the old file or the new one, never half of one.

    with atomic_path("out/posterior.nc") as tmp:   # write anything to the path `tmp`
        idata.to_netcdf(tmp)
    write_text("out/summary.csv", text)
    with open_atomic("out/x.json") as fh: json.dump(obj, fh)

The temporary name is `.<name>.tmp-<pid>-<n><suffix>` (the suffix kept so writers that pick
a format by extension, e.g. matplotlib, still do). A temporary left by a killed process is
never read as output; `remove_stale_temporaries(dir)` deletes those of processes no longer
running.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

_COUNTER = itertools.count()
_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)-\d+")


def temporary_name(path: str | os.PathLike) -> Path:
    """The temporary sibling of `path` this process writes before renaming."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{next(_COUNTER)}{path.suffix}")


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a read-only descriptor
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path`, on an exception it
    is removed and `path` is untouched."""
    path = Path(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp} for {path}")
        if fsync:
            _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def open_atomic(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8", **kwargs):
    """`open` for writing, atomically (`mode` "w" or "wb")."""
    if mode not in ("w", "wb"):
        raise ValueError(f"open_atomic writes whole files: mode 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=None if "b" in mode else encoding, **kwargs) as fh:
            yield fh


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    with open_atomic(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with open_atomic(path, "wb") as fh:
        fh.write(data)


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete the temporaries in `directory` left by processes that are no longer running
    (a killed run); return them."""
    removed = []
    directory = Path(directory)
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        m = _TEMP.match(entry.name)
        if m and int(m["pid"]) != os.getpid() and not _pid_running(int(m["pid"])):
            with contextlib.suppress(OSError):
                entry.unlink()
                removed.append(entry)
    return removed




def save_figure(fig, path: str | os.PathLike, **kwargs) -> None:
    """`fig.savefig(path, **kwargs)`, atomically (the format from the suffix of `path`)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=kwargs.pop("format", None) or Path(path).suffix.lstrip(".") or None, **kwargs)


def write_csv(frame, path: str | os.PathLike, **kwargs) -> None:
    """`frame.to_csv(path, **kwargs)` (a pandas DataFrame), atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **kwargs)


__all__ = ["atomic_path", "open_atomic", "remove_stale_temporaries", "save_figure", "temporary_name", "write_bytes",
           "write_csv", "write_text"]
