"""The new readings reach the database: responsible bodies, fieldwork ranges, new kinds."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from improvement.importer.service import match_report_authority, report_import
from improvement.models import ImprovementArea, Inspection, Judgement
from tests.importer.import_support import load_authority_list, parsed


@pytest.fixture
def authorities(db):
    load_authority_list()


def _import(report: dict, user, kind: str | None = None) -> Inspection:
    authority = match_report_authority(report)
    assert authority is not None, report["authority"]
    return report_import(
        report=report, authority=authority, source_sha256="b" * 64, imported_by=user, kind=kind
    )


def test_area_send_priority_actions_store_each_responsible_body(authorities, administrator):
    inspection = _import(parsed("north-northamptonshire-send-area-2024.pdf"), administrator)
    actions = list(inspection.improvement_areas.filter(is_priority_action=True))
    assert len(actions) == 4
    for action in actions:
        assert action.responsible_bodies == [
            "North Northamptonshire Council",
            "NHS Northamptonshire Integrated Care Board",
            "Northamptonshire Children’s Trust",
        ]
    assert inspection.fieldwork_ranges == [["2024-01-22", "2024-01-26"]]
    assert inspection.improvement_areas.filter(is_priority_action=False).count() == 6


def test_split_fieldwork_is_stored_as_its_ranges(authorities, administrator):
    report = parsed("knowsley-ilacs-2021.pdf")
    report["fieldwork_ranges"] = [["2024-09-30", "2024-10-11"], ["2025-01-13", "2025-01-16"]]
    report["start_date"], report["end_date"] = "2024-09-30", "2025-01-16"
    inspection = _import(report, administrator)
    inspection.refresh_from_db()
    assert inspection.fieldwork_ranges == [
        ["2024-09-30", "2024-10-11"],
        ["2025-01-13", "2025-01-16"],
    ]


def test_not_judged_grade_is_stored(authorities, administrator):
    inspection = _import(parsed("city-of-london-sif-2016.pdf"), administrator)
    adoption = inspection.judgements.get(area="Adoption performance")
    assert adoption.grade == Judgement.Grade.NOT_JUDGED
    assert adoption.rank is None


def test_2013_looked_after_children_inspection_is_its_own_kind(authorities, administrator):
    inspection = _import(parsed("kent-lac-inspection-2013.pdf"), administrator)
    assert inspection.kind == Inspection.Kind.LAC_2013
    assert inspection.judgements.get(is_overall=True).grade == Judgement.Grade.ADEQUATE
    assert inspection.improvement_areas.count() == 12


def test_unknown_kind_is_refused_until_a_kind_is_chosen(authorities, administrator):
    report = parsed("knowsley-ilacs-2021.pdf")
    report["kind"] = ""
    before = Inspection.objects.count()
    with pytest.raises(ValidationError, match="Choose the kind of inspection"):
        _import(report, administrator)
    assert Inspection.objects.count() == before
    inspection = _import(report, administrator, kind=Inspection.Kind.ILACS_STANDARD)
    assert inspection.kind == Inspection.Kind.ILACS_STANDARD


def test_responsible_bodies_only_for_priority_actions(authorities, administrator):
    from improvement import services

    inspection = _import(parsed("knowsley-ilacs-2021.pdf"), administrator)
    with pytest.raises(ValidationError):
        services.improvement_area_add(
            inspection=inspection, text="x", responsible_bodies=["A Council"], by=administrator
        )
    assert not ImprovementArea.objects.filter(inspection=inspection, text="x").exists()
