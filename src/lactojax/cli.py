"""The `lactojax` command line: one sub-command per module in `lactojax.commands`.

Each module in that package defines `register(subparsers)`, which adds its parser and
sets `func=<callable(args) -> int>`. Adding a command never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from lactojax import commands
from lactojax.precision import enable_compilation_cache, enable_x64


def package_version() -> str:
    """The installed package's version (its metadata); from a source tree that is not
    installed (PYTHONPATH=src), the version in pyproject.toml; "unknown" if neither."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lactojax")
    except PackageNotFoundError:
        pass
    import tomllib
    from pathlib import Path

    try:
        with open(Path(__file__).resolve().parents[2] / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lactojax",
        description="Differentiable mechanistic model of lactation with Bayesian fitting.",
    )
    parser.add_argument("--version", action="version", version=f"lactojax {package_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


class UserInputError(Exception):
    """Bad input from the user: printed as one clear message, exit status 2."""


def _configure_process(command: str) -> None:
    """Process-wide settings of a `lactojax` run, made here and never at import.

    - float64 (the model is stiff and spans hours to months) and JAX's persistent
      compilation cache (`$JAX_COMPILATION_CACHE_DIR`, else ~/.cache/lactojax/jax).
    - `fit` only: `EQX_ON_ERROR=nan`. equinox reads this variable once, when it is first
      imported, and diffrax offers no per-call switch for its own runtime checks (the
      `saveat.ts` / `dt0` checks ignore `throw=False`): under the default `raise` each
      check is a host callback in the compiled log-density gradient, and JAX never writes
      executables with host callbacks to the persistent cache. The fit's log-density
      already maps any failed solve to -inf, so NaN from a check ends in the same guard.
      Only set when equinox is not yet imported (a fresh `lactojax fit` process): when
      `main` is called in a process that already uses equinox the setting could not take
      effect, so it is left alone. No command module imports equinox at import time.
    """
    if command == "fit" and "equinox" not in sys.modules:
        os.environ.setdefault("EQX_ON_ERROR", "nan")
    enable_x64()
    enable_compilation_cache()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_process(args.command)
    try:
        return int(args.func(args) or 0)
    except UserInputError as err:
        print(f"lactojax {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    # `python -m lactojax.cli`: run the imported module's main, so that UserInputError
    # raised by commands (which import lactojax.cli) is the class caught there.
    from lactojax.cli import main as _main

    sys.exit(_main())
