"""report_import: one parsed report becomes one inspection with everything it found, or nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from improvement import services
from improvement.importer import THEMES, parse_file
from improvement.importer.service import (
    OVERALL_AREA,
    ReportAlreadyImported,
    bytes_sha256,
    grade_value,
    match_report_authority,
    normalise_text,
    report_import,
    text_sha256,
)
from improvement.models import (
    Authority,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    Theme,
)
from tests.importer.import_support import KNOWSLEY_TEXT, load_authority_list, parsed


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Inspection, Judgement, Finding, ImprovementArea)
    )


@pytest.fixture
def authorities(db):
    load_authority_list()


def _import(report: dict, user, sha: str = "a" * 64) -> Inspection:
    authority = match_report_authority(report)
    assert authority is not None, report["authority"]
    return report_import(report=report, authority=authority, source_sha256=sha, imported_by=user)


def test_knowsley_import_creates_every_part_of_the_report(authorities, administrator):
    """Judgements (plus overall), findings and improvement areas match the parsed counts."""
    report = parsed("knowsley.txt")
    inspection = _import(report, administrator)

    assert inspection.authority.ons_code == "E08000011"
    assert inspection.kind == Inspection.Kind.ILACS_STANDARD
    assert str(inspection.start_date) == report["start_date"]
    assert str(inspection.end_date) == report["end_date"]
    assert inspection.lead_inspectors == report["lead_inspectors"]
    assert inspection.source_sha256 == "a" * 64
    judgements = list(inspection.judgements.order_by("position"))
    assert len(judgements) == len(report["judgements"]) + 1
    assert [j.area for j in judgements[:-1]] == [j["area"] for j in report["judgements"]]
    assert all(j.grade == Judgement.Grade.REQUIRES_IMPROVEMENT_TO_BE_GOOD for j in judgements)
    overall = inspection.judgements.get(is_overall=True)
    assert overall.area == OVERALL_AREA
    assert inspection.findings.count() == len(report["paragraphs"])
    first = report["paragraphs"][0]
    finding = inspection.findings.get(number=first["number"])
    assert (finding.section, finding.text) == (first["section"], first["text"])
    areas = list(inspection.improvement_areas.order_by("position"))
    assert [a.text for a in areas] == [a["text"] for a in report["improvement_areas"]]
    assert not any(a.is_priority_action for a in areas)


def test_findings_and_areas_get_suggested_themes(authorities, administrator):
    """Themes come from the taxonomy, suggested per paragraph and per improvement area."""
    report = parsed("knowsley.txt")
    inspection = _import(report, administrator)
    leaving_care = next(p for p in report["paragraphs"] if "care leavers" in p["text"])
    finding = inspection.findings.get(number=leaving_care["number"])
    assert "care-leavers" in set(finding.themes.values_list("slug", flat=True))
    assert Theme.objects.filter(improvement_areas__inspection=inspection).exists()
    assert set(Theme.objects.values_list("slug", flat=True)) <= {slug for slug, _ in THEMES}


def test_history_names_the_importer(authorities, administrator):
    """The history rows of the import record who imported it."""
    inspection = _import(parsed("knowsley.txt"), administrator)
    assert inspection.history.get().history_user == administrator
    assert not Finding.history.filter(history_user__isnull=True).exists()


def test_grade_wordings_map_to_distinct_choices():
    """The two "requires improvement" wordings are kept apart; case and spacing do not matter."""
    assert grade_value("Requires improvement") == Judgement.Grade.REQUIRES_IMPROVEMENT
    assert (
        grade_value("Requires  improvement to be good")
        == Judgement.Grade.REQUIRES_IMPROVEMENT_TO_BE_GOOD
    )
    assert grade_value("inadequate") == Judgement.Grade.INADEQUATE
    with pytest.raises(ValidationError):
        grade_value("Satisfactory-ish")


def test_havering_2018_keeps_the_short_requires_improvement(authorities, administrator):
    """Early ILACS tables printed "Requires improvement"; that wording is what is stored."""
    inspection = _import(parsed("havering-ilacs-2018.pdf"), administrator)
    grades = set(inspection.judgements.values_list("grade", flat=True))
    assert Judgement.Grade.REQUIRES_IMPROVEMENT in grades
    assert Judgement.Grade.REQUIRES_IMPROVEMENT_TO_BE_GOOD not in grades


def test_dorset_framework_tags_are_stored_as_outcome_numbers(authorities, administrator):
    """ "(Outcome four, National Framework)" is held as "Outcome 4"."""
    inspection = _import(parsed("dorset-ilacs-short-2025.pdf"), administrator)
    assert list(inspection.improvement_areas.values_list("framework_tag", flat=True)) == [
        "Outcome 4"
    ]


def test_send_outcome_is_the_inspection_outcome_not_a_judgement(authorities, administrator):
    """Area SEND: the outcome sentence goes to Inspection.outcome; priority actions keep bodies."""
    report = parsed("dorset-send-area-2024.pdf")
    # The Dorset 2024 report has no areas for priority action; add two as a later one prints.
    report["priority_actions"] = [
        {"text": "Leaders should reduce waiting times for assessment.", "responsible_body": "ICB"},
        {"text": "Leaders should improve EHC plans.", "responsible_body": "Dorset Council"},
    ]
    inspection = _import(report, administrator)
    assert inspection.kind == Inspection.Kind.SEND_AREA
    assert inspection.outcome == report["overall_effectiveness"]
    assert "typically lead to positive experiences" in inspection.outcome
    assert not inspection.judgements.exists()
    priority = list(inspection.improvement_areas.filter(is_priority_action=True))
    assert [(a.responsible_body, a.position) for a in priority] == [
        ("ICB", 1),
        ("Dorset Council", 2),
    ]
    others = inspection.improvement_areas.filter(is_priority_action=False)
    assert others.count() == len(report["improvement_areas"])
    assert not others.exclude(responsible_body="").exists()


def test_sif_overall_and_lscb_judgements(authorities, administrator):
    """A SIF report: sub-judgements (short "Requires improvement"), the LSCB row and the overall."""
    report = parsed("wigan-sif-2017.pdf")
    inspection = _import(report, administrator)
    assert inspection.judgements.count() == len(report["judgements"]) + 1
    assert inspection.judgements.get(is_overall=True).grade == Judgement.Grade.GOOD
    assert inspection.findings.count() == len(report["paragraphs"])


def test_same_source_twice_creates_nothing_more(authorities, administrator):
    """A second import of the same bytes raises ReportAlreadyImported naming the first."""
    report = parsed("knowsley.txt")
    first = _import(report, administrator, sha="b" * 64)
    before = counts()
    with pytest.raises(ReportAlreadyImported) as caught:
        _import(report, administrator, sha="b" * 64)
    assert caught.value.inspection == first
    assert caught.value.same_source
    assert counts() == before


def test_same_authority_kind_and_start_is_already_there(authorities, administrator):
    """A different file of the same inspection (e.g. re-downloaded) is also refused."""
    report = parsed("knowsley.txt")
    first = _import(report, administrator, sha="c" * 64)
    before = counts()
    with pytest.raises(ReportAlreadyImported) as caught:
        _import(report, administrator, sha="d" * 64)
    assert caught.value.inspection == first
    assert not caught.value.same_source
    assert counts() == before


def test_failure_midway_leaves_nothing(authorities, administrator, monkeypatch):
    """If the third finding fails, the inspection, judgements and earlier findings are gone too."""
    real = services.finding_add
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(services, "finding_add", flaky)
    with pytest.raises(RuntimeError):
        _import(parsed("knowsley.txt"), administrator)
    assert counts() == (0, 0, 0, 0)


def test_unknown_grade_is_refused_and_nothing_written(authorities, administrator):
    """A grade that is not Ofsted wording is a ValidationError, after which nothing is left."""
    report = parsed("knowsley.txt")
    report["judgements"][1]["grade"] = "Very good"
    with pytest.raises(ValidationError):
        _import(report, administrator)
    assert counts() == (0, 0, 0, 0)


def test_report_without_dates_is_refused(authorities, administrator):
    """An inspection needs a date; without one the import says so and writes nothing."""
    report = parsed("knowsley.txt")
    report.update(start_date=None, end_date=None, publication_date=None)
    with pytest.raises(ValidationError, match="dates could not be read"):
        _import(report, administrator)
    assert counts() == (0, 0, 0, 0)


def test_parsed_report_object_is_accepted(authorities, administrator):
    """The service takes the ParsedReport itself as well as its dict."""
    report = parse_file(KNOWSLEY_TEXT)
    authority = Authority.objects.get(ons_code="E08000011")
    inspection = report_import(
        report=report, authority=authority, source_sha256="e" * 64, imported_by=administrator
    )
    assert inspection.findings.count() == len(report.paragraphs)


def test_pasted_text_fingerprint_ignores_line_endings_and_spacing():
    """The same text pasted from different systems has one fingerprint; bytes are hashed as is."""
    assert text_sha256("Line one \r\n\r\nLine  two\n") == text_sha256("Line one\nLine two")
    assert normalise_text("a\r\n b ") == "a\nb"
    assert text_sha256("Line one") != text_sha256("Line two")
    assert bytes_sha256(b"%PDF-1.7") != bytes_sha256(b"%PDF-1.7 ")
