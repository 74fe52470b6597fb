"""The `lactojax` command line: one sub-command per module in `lactojax.commands`.

Each module in that package defines `register(subparsers)`, which adds its parser and
sets `func=<callable(args) -> int>`. Adding a command never touches this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from lactojax import commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lactojax",
        description="Differentiable mechanistic model of lactation with Bayesian fitting.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(subparsers)
    return parser


class UserInputError(Exception):
    """Bad input from the user: printed as one clear message, exit status 2."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserInputError as err:
        print(f"lactojax {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
