"""Shared by the import tests: sample paths, cached parses, and the authority list."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

from improvement.importer import parse_file
from improvement.models import Authority
from improvement.reference import load_authorities

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "importer" / "samples"
KNOWSLEY_TEXT = ROOT / "improvement" / "data" / "knowsley-ilacs-2021.txt"


def sample_path(name: str) -> Path:
    """A sample report, kept in the repository."""
    path = KNOWSLEY_TEXT if name == "knowsley.txt" else SAMPLES / name
    assert path.is_file(), f"sample {path} not found"
    return path


@cache
def _parsed(path: str) -> dict:
    return parse_file(path).to_dict()


def parsed(name: str) -> dict:
    """The parsed sample as a fresh dict (cached: parsing a PDF takes seconds)."""
    return copy.deepcopy(_parsed(str(sample_path(name))))


_AUTHORITY_ROWS: list[dict] = []


def load_authority_list() -> None:
    """Load every authority with reference.load_authorities(); later calls copy the first result.

    The loader validates and upserts row by row (about a second); a bulk copy of what it made
    keeps each test fast while testing against the real list.
    """
    if not _AUTHORITY_ROWS:
        load_authorities()
        _AUTHORITY_ROWS.extend(
            Authority.objects.values("name", "ons_code", "la_code", "region", "authority_type")
        )
        return
    Authority.objects.bulk_create(
        [Authority(**row) for row in _AUTHORITY_ROWS], ignore_conflicts=True
    )
