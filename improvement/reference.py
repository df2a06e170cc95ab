"""Reference data every deployment needs: the English local authorities and the theme taxonomy."""

from __future__ import annotations

import csv
from pathlib import Path

from improvement import services
from improvement.importer.themes import THEMES
from improvement.models import Theme

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_authorities(path: Path = DATA_DIR / "local-authorities.csv") -> int:
    """Load every English local authority from the ONS list; returns how many were created."""
    created = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if not row.get("la_code_new", "").startswith("E"):
                continue
            _, was_created = services.authority_upsert(
                ons_code=row["la_code_new"].strip(),
                name=row["local_authority_ons_name"].strip(),
                la_code=row["la_code"].strip()[:3],
                region=row["region_name"].strip(),
                authority_type=row["ons_la_type"].strip(),
            )
            created += was_created
    return created


def load_themes() -> dict[str, Theme]:
    return {slug: services.theme_upsert(slug=slug, name=name)[0] for slug, name in THEMES}


def load_reference_data() -> tuple[int, int]:
    """Load or refresh authorities and themes; returns how many of each were created."""
    themes_before = Theme.objects.count()
    authorities_created = load_authorities()
    load_themes()
    return authorities_created, Theme.objects.count() - themes_before
