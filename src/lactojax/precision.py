"""Process-wide JAX settings that lactojax needs, switched on only when asked.

Importing lactojax changes no global JAX state. The model is stiff and spans hours to
months, so its solves need float64: an application (the `lactojax` CLI, the test suite,
the benchmarks, a notebook) calls `enable_x64()` once at start-up, before it creates any
array. Library entry points that need float64 call `require_x64(...)`, which raises
`Float64Error` instead of letting a float32 solve fail or drift silently.
"""

from __future__ import annotations

import os

import jax

DEFAULT_CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "lactojax", "jax")


class Float64Error(RuntimeError):
    """A lactojax call that needs float64 ran with `jax_enable_x64` off."""


def enable_x64() -> None:
    """Switch JAX to float64 for this process (`jax.config.update("jax_enable_x64", True)`).

    Call it before creating arrays: arrays made earlier stay float32.
    """
    jax.config.update("jax_enable_x64", True)


def x64_enabled() -> bool:
    """Whether float64 is on here (also inside a `jax.enable_x64(True)` context)."""
    return bool(jax.config.jax_enable_x64)


def require_x64(what: str) -> None:
    """Raise `Float64Error` naming `what` unless float64 is on. Cheap: one config read.

    Call it in a public function's Python wrapper, before tracing.
    """
    if not jax.config.jax_enable_x64:
        raise Float64Error(
            f"{what} needs float64: call lactojax.enable_x64() "
            "(or jax.config.update('jax_enable_x64', True)) before creating arrays"
        )


def enable_compilation_cache(path: str | os.PathLike | None = None) -> str:
    """Turn on JAX's persistent compilation cache and return its directory.

    `path`, else `$JAX_COMPILATION_CACHE_DIR` (which JAX reads itself at start-up; the
    Makefile exports it), else `~/.cache/lactojax/jax`. Repeated runs then skip XLA
    compilation. Called by the CLI, never at import.
    """
    if path is None:
        path = os.environ.get("JAX_COMPILATION_CACHE_DIR") or DEFAULT_CACHE_DIR
    path = os.fspath(path)
    jax.config.update("jax_compilation_cache_dir", path)
    return path
