"""Writing a parsed Ofsted report into the tracker: one inspection and what it found.

The import is all-or-nothing (one transaction) and idempotent: a report whose SHA-256 is already
held, or an inspection of the same authority, kind and start date, is reported as already
imported and nothing is written. Every row is written through ``improvement.services``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import unicodedata
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from improvement import services
from improvement.importer.authorities import match_authority
from improvement.importer.parser import ParsedReport, framework_tag_key
from improvement.importer.themes import THEMES, suggest_themes
from improvement.models import (
    Authority,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    Theme,
    User,
)

logger = logging.getLogger(__name__)

OVERALL_AREA = "Overall effectiveness"
_THEME_NAMES = dict(THEMES)
# Field limits of the models, so an over-long parsed value is cut rather than refused.
_SECTION_MAX = Finding._meta.get_field("section").max_length
_AREA_MAX = Judgement._meta.get_field("area").max_length
_TAG_MAX = ImprovementArea._meta.get_field("framework_tag").max_length
_BODY_MAX = ImprovementArea._meta.get_field("responsible_body").max_length


class ReportAlreadyImported(Exception):
    """The report, or an inspection of the same authority, kind and start date, is held."""

    def __init__(self, inspection: Inspection, *, same_source: bool) -> None:
        self.inspection = inspection
        self.same_source = same_source
        reason = "the same report file" if same_source else "the same authority, kind and dates"
        super().__init__(f"This report is already in the tracker ({reason}): {inspection}.")


# Fingerprints


def bytes_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalise_text(text: str) -> str:
    """Normalise pasted text so that the same report pasted twice has the same fingerprint."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def text_sha256(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


# Reading the parsed report


def grade_value(wording: str | None) -> str:
    """Map Ofsted's printed grade wording to a Judgement.Grade value (exact wording kept)."""
    printed = " ".join((wording or "").split()).lower()
    for value, label in Judgement.Grade.choices:
        if label.lower() == printed:
            return value
    raise ValidationError(f"The grade “{wording}” is not one Ofsted uses.")


def framework_tag_value(printed: str | None) -> str:
    """Store "(Outcome four, National Framework)" as "Outcome 4", or the printed tag if odd."""
    if not printed:
        return ""
    return (framework_tag_key(printed) or " ".join(printed.split()))[:_TAG_MAX]


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(f"The date “{value}” could not be read.") from exc


def report_as_dict(report: ParsedReport | Mapping[str, Any]) -> dict[str, Any]:
    return report.to_dict() if isinstance(report, ParsedReport) else dict(report)


def match_report_authority(report: ParsedReport | Mapping[str, Any]) -> Authority | None:
    """The Authority row whose name matches the authority named in the report, if exactly one."""
    name = report_as_dict(report).get("authority") or ""
    names = list(Authority.objects.values_list("name", flat=True))
    matched = match_authority(name, names)
    return Authority.objects.filter(name=matched).first() if matched else None


def find_existing(
    *, source_sha256: str, authority: Authority | None, kind: str, start_date: dt.date | None
) -> tuple[Inspection, bool] | None:
    """The inspection that makes this import a repeat, and whether it is the same source."""
    condition = Q(source_sha256=source_sha256) if source_sha256 else Q(pk__in=[])
    if authority is not None and start_date is not None:
        condition |= Q(authority=authority, kind=kind, start_date=start_date)
    existing = Inspection.objects.filter(condition).select_related("authority").first()
    if existing is None:
        return None
    return existing, bool(source_sha256) and existing.source_sha256 == source_sha256


def inspection_url(inspection: Inspection) -> str:
    """The inspection's page."""
    return reverse("improvement:inspection-detail", kwargs={"pk": inspection.pk})


# Titles as Ofsted words them for each kind ({name} is the authority).
_TITLES = {
    Inspection.Kind.SEND_AREA: "Area SEND inspection of {name} local area partnership",
    Inspection.Kind.FOCUSED_VISIT: "Focused visit to {name} local authority children's services",
    Inspection.Kind.MONITORING_VISIT: "Monitoring visit to {name} children's services",
    Inspection.Kind.JTAI: "Joint targeted area inspection of {name}",
    Inspection.Kind.SIF: "Inspection of services for children in need of help and protection, "
    "children looked after and care leavers in {name}",
    Inspection.Kind.SIF_REINSPECTION: "Re-inspection of services for children in need of help "
    "and protection, children looked after and care leavers in {name}",
}


def _title(kind: str, authority: Authority) -> str:
    template = _TITLES.get(kind, "Inspection of {name} local authority children's services")
    return template.format(name=authority.name)


# The write


@transaction.atomic
def report_import(
    *,
    report: ParsedReport | Mapping[str, Any],
    authority: Authority,
    source_sha256: str,
    imported_by: User | None,
    kind: str | None = None,
) -> Inspection:
    """Create the inspection with its judgements, findings and improvement areas, or nothing.

    ``kind`` overrides the parsed kind (the preview lets the person correct it). Raises
    ``ReportAlreadyImported`` for a repeat and ``ValidationError`` for data the models refuse.
    """
    data = report_as_dict(report)
    kind = kind or data.get("kind") or ""
    if not kind:
        raise ValidationError(
            "Choose the kind of inspection: the report's wording does not say which kind it is."
        )
    fieldwork_ranges = [
        [_date(start).isoformat(), _date(end).isoformat()]
        for start, end in data.get("fieldwork_ranges") or []
    ]
    start_date = _date(data.get("start_date"))
    end_date = _date(data.get("end_date"))
    publication_date = _date(data.get("publication_date"))
    if start_date is None and publication_date is None:
        raise ValidationError(
            "The report's inspection dates could not be read, so it cannot be imported."
        )
    existing = find_existing(
        source_sha256=source_sha256, authority=authority, kind=kind, start_date=start_date
    )
    if existing:
        raise ReportAlreadyImported(existing[0], same_source=existing[1])

    is_send = kind == Inspection.Kind.SEND_AREA
    overall = data.get("overall_effectiveness")
    try:
        inspection = services.inspection_create(
            by=imported_by,
            authority=authority,
            kind=kind,
            start_date=start_date,
            end_date=end_date,
            publication_date=publication_date,
            lead_inspectors=[str(name) for name in data.get("lead_inspectors") or []],
            title=_title(kind, authority),
            outcome=(overall or "") if is_send else "",
            source_sha256=source_sha256,
            fieldwork_ranges=fieldwork_ranges,
        )
    except IntegrityError:
        # Another import of the same report won the race between the check and the insert.
        existing = find_existing(
            source_sha256=source_sha256, authority=authority, kind=kind, start_date=start_date
        )
        if existing:
            raise ReportAlreadyImported(existing[0], same_source=existing[1]) from None
        raise

    judgements = list(data.get("judgements") or [])
    for position, judgement in enumerate(judgements):
        services.judgement_add(
            by=imported_by,
            inspection=inspection,
            area=" ".join(str(judgement["area"]).split())[:_AREA_MAX],
            grade=grade_value(judgement.get("grade")),
            position=position,
        )
    if overall and not is_send:
        services.judgement_add(
            by=imported_by,
            inspection=inspection,
            area=OVERALL_AREA,
            grade=grade_value(overall),
            is_overall=True,
            position=len(judgements),
        )

    themes = _ThemeCache()
    for paragraph in data.get("paragraphs") or []:
        services.finding_add(
            by=imported_by,
            inspection=inspection,
            number=int(paragraph["number"]),
            section=(paragraph.get("section") or "")[:_SECTION_MAX],
            text=paragraph["text"],
            themes=themes.for_text(paragraph["text"]),
        )

    # Areas for priority action come first, as reports print them first.
    position = 0
    for item in data.get("priority_actions") or []:
        position += 1
        services.improvement_area_add(
            by=imported_by,
            inspection=inspection,
            position=position,
            text=item["text"],
            is_priority_action=True,
            responsible_body=(item.get("responsible_body") or "")[:_BODY_MAX],
            responsible_bodies=item.get("responsible_bodies") or [],
            themes=themes.for_text(item["text"]),
        )
    for item in data.get("improvement_areas") or []:
        position += 1
        services.improvement_area_add(
            by=imported_by,
            inspection=inspection,
            position=position,
            text=item["text"],
            framework_tag=framework_tag_value(item.get("framework_tag")),
            themes=themes.for_text(item["text"]),
        )

    logger.info(
        "Imported %s (inspection %s, sha256 %s) by %s",
        inspection,
        inspection.pk,
        source_sha256,
        imported_by,
    )
    return inspection


class _ThemeCache:
    """Theme rows by slug, created on first use from the taxonomy."""

    def __init__(self) -> None:
        self._themes: dict[str, Theme] = {}

    def for_text(self, text: str) -> list[Theme]:
        found = []
        for slug in suggest_themes(text):
            if slug not in _THEME_NAMES:
                continue
            if slug not in self._themes:
                self._themes[slug] = services.theme_upsert(slug=slug, name=_THEME_NAMES[slug])[0]
            found.append(self._themes[slug])
        return found
