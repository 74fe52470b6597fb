"""Checkpoints of an unfinished fit, so a killed run (SIGKILL included) continues where it
stopped: `lactojax fit CONFIG --out DIR --resume`.

DIR/checkpoint/ holds
- fingerprint.json: what makes the draws (the resolved configuration, the rows fitted, the
  package versions). A resume with anything else is refused (`CheckpointError`), because it
  would splice two different fits.
- map.npz + map.json: the MAP optimum (`MapResult`), so a resumed run does not optimise
  again.
- <sampler>.npz: the sampler's whole state as the leaves of its pytree (for NUTS: positions,
  gradients, step size and mass matrix adaptation, RNG keys), the number of iterations done
  and everything collected so far (draws, sampler statistics, SVI losses).
Each file is written atomically (`lactojax.atomic`): a kill while writing keeps the previous
checkpoint. The samplers step one iteration at a time with the same compiled function
whether or not a checkpoint is written, so a resumed run ends with exactly the draws of an
uninterrupted run with the same seed. The directory is removed once the fit's outputs are
written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from lactojax.atomic import open_atomic, write_text

CHECKPOINT_DIR = "checkpoint"
FINGERPRINT = "fingerprint.json"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: written by another fit, or unreadable."""


def _json_default(o):
    return o.tolist() if isinstance(o, (np.generic, np.ndarray)) else str(o)


def fingerprint(config_toml: str, rows, versions: dict) -> dict:
    """What determines a fit's draws: sha256 of the resolved configuration and of the rows
    fitted (a DataFrame), and the versions of the packages that compute them."""
    rows_text = rows.to_csv(index=False) if rows is not None else ""
    return {"config_sha256": hashlib.sha256(config_toml.encode()).hexdigest(),
            "rows_sha256": hashlib.sha256(rows_text.encode()).hexdigest(),
            "versions": {k: versions.get(k) for k in ("lactojax", "jax", "jaxlib", "numpyro", "diffrax", "equinox")}}


_WHAT = {"config_sha256": "the resolved configuration (config file or command-line overrides)",
         "rows_sha256": "the data rows fitted", "versions": "the installed package versions"}


@dataclasses.dataclass
class Checkpoint:
    """The checkpoint directory of the fit written to `out_dir` (module doc)."""

    out_dir: Path
    fingerprint: dict

    def __post_init__(self):
        self.out_dir = Path(self.out_dir)

    @property
    def path(self) -> Path:
        return self.out_dir / CHECKPOINT_DIR

    def start(self) -> None:
        """Begin a new run: an empty checkpoint directory with this fit's fingerprint."""
        self.remove()
        self.path.mkdir(parents=True, exist_ok=True)
        write_text(self.path / FINGERPRINT, json.dumps({**self.fingerprint, "started": time.time()}, indent=1))

    def check(self) -> None:
        """Refuse to resume a checkpoint written by a different fit (names what differs)."""
        try:
            saved = json.loads((self.path / FINGERPRINT).read_text())
        except (OSError, ValueError) as err:
            raise CheckpointError(f"{self.path / FINGERPRINT}: unreadable ({err}); start over with --force") from None
        differ = [_WHAT[k] for k in _WHAT if saved.get(k) != self.fingerprint.get(k)]
        if differ:
            raise CheckpointError(f"{self.path} was written by a different fit: {' and '.join(differ)} changed since "
                                  "it was started. Resume with what it was started with, or start over with --force")

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def describe(self) -> str:
        """What the checkpoint holds, in words (for messages)."""
        done = []
        for f in sorted(self.path.glob("*.npz")):
            if f.stem != "map":
                try:
                    with np.load(f) as z:
                        n = int(z["iteration"])
                except (OSError, ValueError, KeyError):
                    n = "an unreadable number of"
                done.append(f"{n} {f.stem.upper()} {'steps' if f.stem == 'svi' else 'iterations'}")
        if done:
            return "checkpoint after " + ", ".join(done)
        return "checkpoint after the MAP" if (self.path / "map.npz").exists() else "checkpoint before the MAP finished"

    # --- the MAP optimum -----------------------------------------------------------------
    def save_map(self, result) -> None:
        arrays = {k: np.asarray(v) for k, v in dataclasses.asdict(result).items() if isinstance(v, np.ndarray)}
        rest = {k: v for k, v in dataclasses.asdict(result).items() if k not in arrays}
        with open_atomic(self.path / "map.npz", "wb") as fh:
            np.savez(fh, **arrays)
        write_text(self.path / "map.json", json.dumps(rest, default=_json_default))

    def load_map(self):
        from lactojax.inference.map import MapResult

        if not (self.path / "map.json").exists() or not (self.path / "map.npz").exists():
            return None
        with np.load(self.path / "map.npz") as z:
            arrays = {k: z[k] for k in z.files}
        return MapResult(**arrays, **json.loads((self.path / "map.json").read_text()))

    # --- a sampler's state ---------------------------------------------------------------
    def save_sampler(self, name: str, state, iteration: int, collected: dict[str, np.ndarray]) -> None:
        """Save a sampler state pytree after `iteration` iterations, with its collections."""
        leaves = jax.tree_util.tree_leaves(state)
        arrays = {f"leaf_{i}": np.asarray(leaf) for i, leaf in enumerate(leaves)}
        arrays.update({f"collected_{k}": np.asarray(v) for k, v in collected.items()})
        with open_atomic(self.path / f"{name}.npz", "wb") as fh:
            np.savez(fh, iteration=np.asarray(iteration), n_leaves=np.asarray(len(leaves)), **arrays)

    def load_sampler(self, name: str, like_state):
        """(state, iteration, collected) saved for `name`, with the structure of
        `like_state` (a freshly initialised state of the same sampler), or None."""
        path = self.path / f"{name}.npz"
        if not path.exists():
            return None
        leaves, treedef = jax.tree_util.tree_flatten(like_state)
        with np.load(path) as z:
            if int(z["n_leaves"]) != len(leaves):
                raise CheckpointError(f"{path}: the sampler state has {int(z['n_leaves'])} parts, this fit's has "
                                      f"{len(leaves)}; start over with --force")
            saved = [z[f"leaf_{i}"] for i in range(len(leaves))]
            collected = {k[len("collected_"):]: z[k] for k in z.files if k.startswith("collected_")}
            iteration = int(z["iteration"])
        for i, (old, new) in enumerate(zip(leaves, saved)):
            if np.shape(old) != new.shape or jnp.asarray(old).dtype != new.dtype:
                raise CheckpointError(f"{path}: part {i} of the sampler state is {new.dtype}{list(new.shape)}, this "
                                      f"fit's is {jnp.asarray(old).dtype}{list(np.shape(old))}; start over with --force")
        return jax.tree_util.tree_unflatten(treedef, [jnp.asarray(v) for v in saved]), iteration, collected


__all__ = ["CHECKPOINT_DIR", "Checkpoint", "CheckpointError", "fingerprint"]
