"""Where datasets live and which exist.

A dataset is a directory `data/<name>/` holding `PROVENANCE.md` and the table it names
(`observations.csv` or `observations.csv.gz`). The data root is the repository's `data/`
directory, or `$LACTOJAX_DATA_DIR` when set (e.g. for an installed, non-editable package).
"""

from __future__ import annotations

import os
from pathlib import Path

PROVENANCE_FILE = "PROVENANCE.md"
ENV_DATA_DIR = "LACTOJAX_DATA_DIR"


class UnknownDatasetError(KeyError):
    """No dataset of that name (the message lists close matches)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def data_root() -> Path:
    """The directory holding one sub-directory per dataset."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env)
    # src/lactojax/datasets/registry.py -> repository root is three levels above src/.
    return Path(__file__).resolve().parents[3] / "data"


def list_datasets(root: str | Path | None = None) -> list[str]:
    """Names of all datasets (directories with a PROVENANCE.md), sorted."""
    root = Path(root) if root is not None else data_root()
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{PROVENANCE_FILE}"))


def dataset_dir(name: str | Path, root: str | Path | None = None) -> Path:
    """Directory of dataset `name`; a path to a dataset directory is returned as is."""
    candidate = Path(name)
    if candidate.is_dir() and (candidate / PROVENANCE_FILE).is_file():
        return candidate
    root = Path(root) if root is not None else data_root()
    path = root / str(name)
    if (path / PROVENANCE_FILE).is_file():
        return path
    import difflib

    names = list_datasets(root)
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownDatasetError(
        f"unknown dataset {str(name)!r} (no {PROVENANCE_FILE} under {root}){hint} "
        f"Known datasets: {', '.join(names) or 'none'}"
    )
