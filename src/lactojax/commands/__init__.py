"""CLI sub-commands; each module defines `register(subparsers)` (see `lactojax.cli`)."""

from __future__ import annotations

import os


def posterior_file(value: str, option: str = "--posterior") -> str:
    """A fit's posterior.nc from `value`: the file itself or the fit's output directory.
    Raises UserInputError naming the option when the path does not exist or a directory
    has none."""
    from lactojax.cli import UserInputError

    if not os.path.exists(value):
        raise UserInputError(f"{option} {value!r}: no such file or directory")
    if os.path.isdir(value):
        path = os.path.join(value, "posterior.nc")
        if not os.path.isfile(path):
            raise UserInputError(f"{option} {value!r}: a directory without a posterior.nc (expected the posterior.nc "
                                 "of a `lactojax fit`, or its output directory)")
        return path
    return value
