"""Every change to the records that matter is kept with who, when and what (simple-history).

Through the services, the history user is whoever the service is told acted; through the admin,
HistoryRequestMiddleware records the signed-in user.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from improvement import services
from improvement.models import Action, DueDateChange, Judgement, Team
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    InspectionFactory,
    LeaderFactory,
    MeasureFactory,
    MilestoneFactory,
    OwnerFactory,
)

pytestmark = pytest.mark.django_db


def latest(obj):
    return obj.history.order_by("-history_id").first()


def assert_recent(record, *, by, kind: str = "~") -> None:
    assert record is not None
    assert record.history_type == kind
    assert record.history_user == by
    assert timezone.now() - record.history_date < dt.timedelta(minutes=1)


@pytest.fixture
def people(db):
    authority = AuthorityFactory(name="Knowsley", ons_code="E08000011")
    return (
        authority,
        OwnerFactory(username="owner", authority=authority),
        LeaderFactory(username="leader", authority=authority),
    )


@pytest.fixture
def action(people):
    authority, owner, _ = people
    return ActionFactory(authority=authority, owner=owner)


# Through the services


def test_action_update_records_who_and_what(action, people):
    _, owner, _ = people
    services.action_update(action=action, expected_version=1, by=owner, title="Renamed")
    record = latest(action)
    assert_recent(record, by=owner)
    assert record.title == "Renamed"
    assert record.prev_record.title != "Renamed"
    assert [c.field for c in record.diff_against(record.prev_record).changes] == [
        "title",
        "version",
    ]


def test_progress_with_status_change_records_the_author(action, people):
    _, owner, _ = people
    services.action_record_progress(
        action=action,
        by=owner,
        expected_version=1,
        text="Started.",
        delivery_status=Action.DeliveryStatus.IN_PROGRESS,
    )
    record = latest(action)
    assert_recent(record, by=owner)
    assert record.delivery_status == Action.DeliveryStatus.IN_PROGRESS


def test_sign_off_records_the_leader(action, people):
    _, owner, leader = people
    services.action_record_progress(
        action=action,
        by=owner,
        expected_version=1,
        text="Done.",
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )
    services.action_sign_off(
        action=action,
        by=leader,
        expected_version=2,
        impact_evidenced=False,
        note="Closed: the service was recommissioned.",
    )
    record = latest(action)
    assert_recent(record, by=leader)
    assert record.rag == Action.Rag.BLUE
    assert record.signed_off_by_id == leader.pk


def test_deadline_request_and_decision_record_requester_and_decider(action, people):
    _, owner, leader = people
    change = services.due_date_change_request(
        action=action,
        by=owner,
        new_date=action.due_date + dt.timedelta(days=30),
        reason="Recruitment.",
        today=TODAY,
    )
    assert_recent(latest(change), by=owner, kind="+")
    services.due_date_change_decide(change=change, by=leader, approve=True)
    change.refresh_from_db()
    record = latest(change)
    assert_recent(record, by=leader)
    assert record.status == DueDateChange.Status.APPROVED
    action.refresh_from_db()
    action_record = latest(action)
    assert_recent(action_record, by=leader)
    assert action_record.due_date == change.new_date
    assert action_record.prev_record.due_date == change.old_date


def test_milestone_completion_records_who(action, people):
    _, owner, _ = people
    milestone = MilestoneFactory(action=action)
    services.milestone_set_complete(milestone=milestone, complete=True, by=owner, today=TODAY)
    record = latest(milestone)
    assert_recent(record, by=owner)
    assert record.completed_on == TODAY


def test_evidence_file_and_link_record_who_added_them(action, people):
    _, owner, _ = people
    evidence = services.evidence_add_file(
        action=action,
        by=owner,
        upload=SimpleUploadedFile("audit.txt", b"Audit findings.\n"),
        title="Audit",
    )
    assert_recent(latest(evidence), by=owner, kind="+")
    link = services.evidence_add_link(
        action=action, by=owner, url="https://example.org/audit", title="Audit link"
    )
    assert_recent(latest(link), by=owner, kind="+")


def test_measure_value_records_who_recorded_it(people):
    authority, owner, _ = people
    measure = MeasureFactory(authority=authority)
    value = services.measure_record_value(
        measure=measure, recorded_on=TODAY, value=Decimal("85"), by=owner
    )
    record = latest(value)
    assert_recent(record, by=owner, kind="+")
    assert record.value == Decimal("85")


def test_services_without_a_user_still_record_what_and_when(people):
    """Creations from imports and the loader have no acting user, but are still kept."""
    authority, owner, _ = people
    team = services.team_create(authority=authority, name="Care leavers team")
    inspection = services.inspection_create(
        authority=authority, kind="ilacs_standard", start_date=dt.date(2021, 10, 11)
    )
    judgement = services.judgement_add(inspection=inspection, area="Overall", grade="good")
    finding = services.finding_add(inspection=inspection, number=1, text="Paragraph one.")
    area = services.improvement_area_add(inspection=inspection, text="Improve plans.")
    measure = services.measure_create(
        authority=authority,
        name="Care leavers in suitable accommodation",
        direction="up",
        baseline_value=Decimal(70),
        baseline_date=TODAY - dt.timedelta(days=100),
        target_value=Decimal(90),
        target_date=TODAY + dt.timedelta(days=100),
    )
    action = services.action_create(
        title="Plans",
        improvement_areas=[area],
        owner=owner,
        start_date=TODAY,
        due_date=TODAY + dt.timedelta(days=30),
        success_measure="Plans are up to date.",
    )
    for obj in (team, inspection, judgement, finding, area, measure, action):
        record = latest(obj)
        assert record is not None, type(obj).__name__
        assert record.history_type == "+"
        assert timezone.now() - record.history_date < dt.timedelta(minutes=1)


# Through the admin: HistoryRequestMiddleware sets the history user.


def test_admin_change_of_a_team_records_the_admin(admin_client, admin_user, people):
    authority, owner, _ = people
    team = Team.objects.create(authority=authority, name="Old name")
    response = admin_client.post(
        reverse("admin:improvement_team_change", args=[team.pk]),
        {"authority": authority.pk, "name": "New name", "kind": "council", "lead": owner.pk},
    )
    assert response.status_code == 302
    record = latest(team)
    assert_recent(record, by=admin_user)
    assert record.name == "New name"


def test_admin_change_of_a_judgement_records_the_admin(admin_client, admin_user, people):
    authority, _, _ = people
    inspection = InspectionFactory(authority=authority)
    judgement = Judgement.objects.create(inspection=inspection, area="Help", grade="good")
    response = admin_client.post(
        reverse("admin:improvement_judgement_change", args=[judgement.pk]),
        {"inspection": inspection.pk, "area": "Help", "grade": "inadequate", "position": 0},
    )
    assert response.status_code == 302
    record = latest(judgement)
    assert_recent(record, by=admin_user)
    assert record.grade == "inadequate"


def test_admin_action_change_records_the_admin(admin_client, admin_user, action):
    """Through ActionAdmin.save_model -> services.action_update, with the admin as the user."""
    response = admin_client.get(reverse("admin:improvement_action_change", args=[action.pk]))
    form = response.context["adminform"].form
    data = {
        "reference": action.reference,
        "title": "Retitled in the admin",
        "description": "",
        "improvement_areas": [a.pk for a in action.improvement_areas.all()],
        "owner": action.owner_id,
        "team": "",
        "priority": action.priority,
        "start_date": action.start_date.isoformat(),
        "success_measure": action.success_measure,
        # The version the form was opened at: the admin refuses a save without it.
        "expected_version": form.initial["expected_version"],
    }
    for prefix in ("milestones", "notes", "evidence", "due_date_changes"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    assert form is not None
    response = admin_client.post(reverse("admin:improvement_action_change", args=[action.pk]), data)
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    record = latest(action)
    assert_recent(record, by=admin_user)
    assert record.title == "Retitled in the admin"
