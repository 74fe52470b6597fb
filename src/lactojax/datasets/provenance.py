"""PROVENANCE.md files: where a dataset comes from, in words and in a machine-readable header.

Each `data/<name>/PROVENANCE.md` starts with a front-matter block of `key: value` lines
between two `---` lines, followed by Markdown prose (citation, where in the source the
numbers are, transcription notes, licence). The loader reads the header; the prose is for
reviewers. Required keys: see `REQUIRED_KEYS`. `sha256` is the SHA-256 of the table file's
bytes; the loader checks it so that an edited table cannot pass silently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_KEYS = (
    "name",
    "title",
    "species",
    "table",
    "sha256",
    "rows",
    "citation",
    "licence",
    "source_file",
)


class ProvenanceError(ValueError):
    """A PROVENANCE.md file is malformed (names the file, line and key)."""


@dataclass(frozen=True)
class Provenance:
    """The parsed header of a PROVENANCE.md (all values as written, plus typed helpers)."""

    path: Path
    fields: dict[str, str]
    body: str = field(repr=False, default="")

    def __getattr__(self, key: str) -> str:  # name, title, citation, ...
        fields = self.__dict__.get("fields", {})
        if key in fields:
            return fields[key]
        raise AttributeError(key)

    @property
    def rows(self) -> int:
        return int(self.fields["rows"])

    @property
    def observables(self) -> tuple[str, ...]:
        text = self.fields.get("observables", "")
        return tuple(x.strip() for x in text.split(",") if x.strip())

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


def sha256_file(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_provenance(text: str, path: str | Path) -> Provenance:
    """Parse PROVENANCE.md text (raises ProvenanceError naming file, line and key)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ProvenanceError(f"{path}: line 1: expected '---' opening the header block")
    fields: dict[str, str] = {}
    end = None
    for i, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            end = i
            break
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ProvenanceError(f"{path}: line {i}: expected 'key: value', found {line!r}")
        key = key.strip()
        if key in fields:
            raise ProvenanceError(f"{path}: line {i}: key {key!r} given twice")
        fields[key] = value.strip()
    if end is None:
        raise ProvenanceError(f"{path}: expected a closing '---' after the header block")
    for key in REQUIRED_KEYS:
        if not fields.get(key):
            raise ProvenanceError(f"{path}: header: expected a non-empty {key!r} entry")
    body = "\n".join(lines[end:])
    return Provenance(Path(path), fields, body)


def read_provenance(path: str | Path) -> Provenance:
    """Read and parse a PROVENANCE.md file."""
    path = Path(path)
    return parse_provenance(path.read_text(encoding="utf-8"), path)


def render_provenance(fields: dict[str, str], body: str) -> str:
    """PROVENANCE.md text from header fields (single-line values) and a Markdown body."""
    out = ["---"]
    for key, value in fields.items():
        value = str(value)
        if "\n" in value:
            raise ValueError(f"provenance field {key!r} must be a single line")
        out.append(f"{key}: {value}")
    out.append("---")
    return "\n".join(out) + "\n" + body.rstrip("\n") + "\n"
