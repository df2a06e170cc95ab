"""Each database rule is tried through the ORM, bypassing validation, and the database refuses."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from improvement.models import (
    Action,
    Authority,
    DueDateChange,
    Evidence,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    Measure,
    MeasureValue,
    ProgressNote,
    Team,
    Theme,
)
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    DueDateChangeFactory,
    FindingFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
    MeasureFactory,
    MeasureValueFactory,
    MilestoneFactory,
    TeamFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def refused(write) -> bool:
    try:
        with transaction.atomic():
            write()
    except IntegrityError:
        return True
    return False


def update(obj, **fields):
    return lambda: type(obj).objects.filter(pk=obj.pk).update(**fields)


def test_authority_ons_code_must_look_like_an_english_code():
    assert refused(lambda: Authority.objects.create(name="Nowhere", ons_code="W06000001"))


def test_authority_ons_code_is_unique():
    AuthorityFactory(ons_code="E08000011")
    assert refused(lambda: Authority.objects.create(name="Copy", ons_code="E08000011"))


def test_team_names_are_unique_within_an_authority():
    team = TeamFactory()
    assert refused(lambda: Team.objects.create(authority=team.authority, name=team.name))


def test_team_kind_must_be_a_known_kind():
    assert refused(update(TeamFactory(), kind="club"))


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"kind": "audit_of_vibes"}, "kind"),
        ({"end_date": dt.date(2021, 10, 1)}, "fieldwork ends before it starts"),
        ({"publication_date": dt.date(2021, 9, 1)}, "published before fieldwork"),
        ({"start_date": None, "end_date": None, "publication_date": None}, "no date at all"),
    ],
)
def test_inspection_rules(fields, rule):
    inspection = InspectionFactory(start_date=dt.date(2021, 10, 11))
    assert refused(update(inspection, **fields)), rule


def test_an_imported_report_cannot_be_imported_twice():
    InspectionFactory(source_sha256="a" * 64)
    assert refused(lambda: InspectionFactory(source_sha256="a" * 64))


def test_one_inspection_per_authority_kind_and_start():
    first = InspectionFactory()
    assert refused(
        lambda: Inspection.objects.create(
            authority=first.authority, kind=first.kind, start_date=first.start_date
        )
    )


def test_judgement_grade_must_be_ofsted_wording():
    assert refused(update(JudgementFactory(), grade="satisfactory"))


def test_judgement_area_appears_once_per_inspection():
    judgement = JudgementFactory()
    assert refused(
        lambda: Judgement.objects.create(
            inspection=judgement.inspection, area=judgement.area, grade="good"
        )
    )


def test_only_one_overall_judgement_per_inspection():
    judgement = JudgementFactory(is_overall=True, area="Overall effectiveness")
    assert refused(
        lambda: Judgement.objects.create(
            inspection=judgement.inspection, area="Overall again", grade="good", is_overall=True
        )
    )


def test_no_duplicate_paragraph_numbers_within_an_inspection():
    finding = FindingFactory(number=7)
    assert refused(
        lambda: Finding.objects.create(inspection=finding.inspection, number=7, text="Again")
    )
    # ... but the same number in another inspection is fine.
    FindingFactory(number=7)


def test_paragraph_numbers_start_at_one_and_text_is_required():
    finding = FindingFactory()
    assert refused(update(finding, number=0))
    assert refused(update(finding, text=""))


def test_improvement_area_positions_are_unique_and_text_required():
    area = ImprovementAreaFactory(position=1)
    assert refused(
        lambda: ImprovementArea.objects.create(inspection=area.inspection, position=1, text="x")
    )
    assert refused(update(area, text=""))


def test_responsible_body_only_on_areas_for_priority_action():
    area = ImprovementAreaFactory()
    assert refused(update(area, responsible_body="Integrated care board"))
    ImprovementArea.objects.filter(pk=area.pk).update(
        is_priority_action=True, responsible_body="Integrated care board"
    )


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"delivery_status": "finished"}, "delivery status"),
        ({"impact_status": "vibes"}, "impact status"),
        ({"rag": "purple"}, "rag"),
        ({"priority": "urgent"}, "priority"),
        ({"due_date": TODAY - dt.timedelta(days=365)}, "due before start"),
        ({"original_due_date": TODAY - dt.timedelta(days=365)}, "original due before start"),
        ({"title": ""}, "title"),
        ({"success_measure": ""}, "success measure"),
        ({"impact_status": "evidenced", "rag": "blue"}, "signed off while not delivered"),
        ({"rag": "blue"}, "blue while open"),
        ({"version": 0}, "version"),
    ],
)
def test_action_rules(fields, rule):
    assert refused(update(ActionFactory(), **fields)), rule


def test_action_sign_off_needs_a_signatory_and_a_time():
    action = ActionFactory(delivery_status="delivered")
    assert refused(update(action, impact_status="evidenced", rag="blue"))
    leader = UserFactory()
    Action.objects.filter(pk=action.pk).update(
        impact_status="evidenced", rag="blue", signed_off_by=leader, signed_off_at=timezone.now()
    )


def test_an_open_action_has_no_signatory():
    assert refused(update(ActionFactory(), signed_off_by=UserFactory()))


def test_progress_notes_need_text_and_both_sides_of_a_change():
    action = ActionFactory()

    def note(**fields):
        return lambda: ProgressNote.objects.create(
            action=action, author=action.owner, created_at=timezone.now(), **fields
        )

    assert refused(note(text=""))
    assert refused(note(text="x", delivery_status_after="in_progress"))
    assert refused(note(text="x", rag_before="green"))


def test_evidence_is_a_file_or_a_link_never_both_or_neither():
    action = ActionFactory()

    def evidence(**fields):
        return lambda: Evidence.objects.create(
            action=action, added_by=action.owner, **{"title": "Audit", **fields}
        )

    assert refused(evidence())
    assert refused(
        evidence(
            url="https://example.org",
            file="evidence/x.pdf",
            size=1,
            content_type="application/pdf",
            sha256="a" * 64,
        )
    )
    assert refused(
        evidence(file="evidence/x.pdf", size=1, content_type="application/pdf", sha256="not-a-hash")
    )
    assert refused(evidence(url="https://example.org", title=""))


def test_due_date_change_rules():
    change = DueDateChangeFactory()
    assert refused(update(change, new_date=change.old_date))
    assert refused(update(change, reason=""))
    assert refused(update(change, status="approved"))
    assert refused(update(change, status="maybe"))
    assert refused(
        lambda: DueDateChange.objects.create(
            action=change.action,
            old_date=change.old_date,
            new_date=change.new_date,
            reason="Second pending request",
            requested_by=change.requested_by,
        )
    )


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"direction": "flat"}, "direction"),
        ({"unit": "furlongs"}, "unit"),
        ({"target_date": TODAY - dt.timedelta(days=300)}, "target before baseline"),
        ({"target_value": Decimal("70")}, "target is worse than baseline"),
        ({"target_value": Decimal("120")}, "percentage over 100"),
    ],
)
def test_measure_rules(fields, rule):
    assert refused(update(MeasureFactory(), **fields)), rule


def test_one_measure_value_per_date():
    value = MeasureValueFactory()
    assert refused(
        lambda: MeasureValue.objects.create(
            measure=value.measure,
            recorded_on=value.recorded_on,
            value=1,
            recorded_by=value.recorded_by,
        )
    )


def test_records_that_matter_cannot_be_deleted_from_under_an_action():
    action = ActionFactory()
    area = action.improvement_areas.get()
    with pytest.raises(Exception, match="protected"):
        area.inspection.authority.delete()


def test_derived_flags():
    action = ActionFactory.build(
        due_date=TODAY - dt.timedelta(days=1),
        original_due_date=TODAY - dt.timedelta(days=30),
        due_date_change_count=2,
    )
    assert action.days_slipped == 29
    measure = Measure(direction="down", baseline_value=24, target_value=18)
    assert measure.is_on_target(Decimal("17")) and measure.is_improving(Decimal("22"))
    assert not measure.is_on_target(Decimal("19"))


def test_nobody_signs_off_their_own_action():
    action = ActionFactory(delivery_status="delivered")
    assert refused(
        update(
            action,
            impact_status="evidenced",
            rag="blue",
            signed_off_by=action.owner,
            signed_off_at=timezone.now(),
        )
    )


def test_nobody_decides_their_own_deadline_request():
    change = DueDateChangeFactory()
    assert refused(
        update(change, status="approved", decided_by=change.requested_by, decided_at=timezone.now())
    )


def test_milestone_title_required_and_names_unique_where_they_must_be():
    milestone = MilestoneFactory()
    assert refused(update(milestone, title=""))
    measure = MeasureFactory()
    assert refused(lambda: MeasureFactory(authority=measure.authority, name=measure.name))
    theme = ThemeFactory()
    assert refused(lambda: Theme.objects.create(slug=theme.slug, name="Another name"))
    assert refused(lambda: Theme.objects.create(slug="another-slug", name=theme.name))
