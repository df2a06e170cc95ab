"""Matching authority names printed in reports to the ONS local authority names.

Reports print names in many styles ("Knowsley Council", "London Borough of Havering",
"Portsmouth City", "Devon County Council", "Dorset Local Area Partnership") while the reference
list uses ONS names ("Bristol, City of", "St. Helens"). Both sides are reduced to a comparison
key before matching.
"""

# Ofsted reports print typographic apostrophes and dashes, which must be matched literally.

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

# Shipped with the app; read lazily so the parser works (without matching) if it is absent.
LOCAL_AUTHORITIES_CSV = Path(__file__).resolve().parent.parent / "data" / "local-authorities.csv"

_PREFIXES = (
    "the ",
    "london borough of ",
    "royal borough of ",
    "metropolitan borough of ",
    "city and county of ",
    "county borough of ",
    "borough of ",
    "city of ",
    "county of ",
    "county ",
)
_SUFFIXES = (
    " local area partnership",
    " corporation",
    " local authority",
    " metropolitan borough council",
    " metropolitan district council",
    " borough council",
    " city council",
    " county council",
    " district council",
    " council",
    " city of",
    " unitary authority",
    " metropolitan borough",
    " borough",
    " city",
    " county",
    " mbc",
)

# Short forms used in reports for names the ONS list spells out.
_ALIASES = {
    "bcp": "bournemouth christchurch and poole",
    "hull": "kingston upon hull",
    "durham": "durham",
    "bristol": "bristol",
}


def _base_key(name: str) -> str:
    key = name.lower().replace("&", " and ")
    key = re.sub(r"[’'`.]", "", key)
    key = re.sub(r"[^a-z0-9]+", " ", key)
    return re.sub(r"\s+", " ", key).strip()


def authority_key(name: str) -> str:
    """Reduce an authority name to a key that ignores council-type words and punctuation."""
    key = _base_key(name)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key, changed = key[len(prefix) :], True
        for suffix in _SUFFIXES:
            if key.endswith(suffix) and len(key) > len(suffix):
                key, changed = key[: -len(suffix)], True
    key = key.strip()
    return _ALIASES.get(key, key)


def match_authority(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate that names the same authority as ``name``, or None.

    Exact (punctuation-insensitive) matches win; then council-type words are ignored on both
    sides; then a unique candidate that starts with the name ("Newcastle" for "Newcastle upon
    Tyne") is accepted.
    """
    if not name or not name.strip():
        return None
    options = [c for c in candidates if c and c.strip()]
    base = _base_key(name)
    for candidate in options:
        if _base_key(candidate) == base:
            return candidate
    key = authority_key(name)
    if not key:
        return None
    keyed = [(authority_key(c), c) for c in options]
    exact = [c for k, c in keyed if k == key]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        return None
    if len(key) >= 4:
        starts = [c for k, c in keyed if k.startswith(key + " ")]
        if len(starts) == 1:
            return starts[0]
    return None


@lru_cache(maxsize=1)
def ons_authority_names() -> tuple[str, ...]:
    """ONS names of English local authorities from the app's reference CSV (empty if absent)."""
    try:
        with LOCAL_AUTHORITIES_CSV.open(encoding="utf-8-sig", newline="") as handle:
            return tuple(
                row["local_authority_ons_name"].strip()
                for row in csv.DictReader(handle)
                if row.get("local_authority_ons_name", "").strip()
            )
    except (OSError, KeyError, csv.Error):
        return ()
