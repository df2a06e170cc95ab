"""Services are the only write path: they validate, keep history and write all or nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from improvement import services
from improvement.models import Action, DueDateChange, Evidence, ProgressNote
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    FindingFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    MeasureFactory,
    MilestoneFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_action_create_derives_authority_and_keeps_the_original_due_date(owner):
    area = ImprovementAreaFactory()
    action = services.action_create(
        title="Pathway plans",
        improvement_areas=[area],
        owner=owner,
        start_date=TODAY,
        due_date=TODAY + dt.timedelta(days=90),
        success_measure="90% of plans good",
    )
    assert action.authority == area.inspection.authority
    assert action.original_due_date == action.due_date
    assert list(action.improvement_areas.all()) == [area]
    assert action.history.count() == 1


def test_action_must_answer_areas_of_one_authority(owner):
    with pytest.raises(ValidationError, match="at least one"):
        services.action_create(
            title="x",
            improvement_areas=[],
            owner=owner,
            start_date=TODAY,
            due_date=TODAY,
            success_measure="y",
        )
    with pytest.raises(ValidationError, match="one authority"):
        services.action_create(
            title="x",
            improvement_areas=[ImprovementAreaFactory(), ImprovementAreaFactory()],
            owner=owner,
            start_date=TODAY,
            due_date=TODAY,
            success_measure="y",
        )


def test_action_team_must_belong_to_its_authority(owner):
    area = ImprovementAreaFactory()
    with pytest.raises(ValidationError):
        services.action_create(
            title="x",
            improvement_areas=[area],
            owner=owner,
            start_date=TODAY,
            due_date=TODAY,
            success_measure="y",
            team=TeamFactory(),
        )
    assert not Action.objects.exists()


def test_progress_note_with_a_status_change_updates_the_action():
    action = ActionFactory()
    note = services.action_record_progress(
        action=action,
        by=action.owner,
        expected_version=action.version,
        text="Template live",
        delivery_status="in_progress",
        rag="amber",
    )
    action.refresh_from_db()
    assert action.delivery_status == "in_progress" and action.rag == "amber"
    assert action.version == 2 and action.last_note_at == note.created_at
    assert (note.delivery_status_before, note.delivery_status_after) == (
        "not_started",
        "in_progress",
    )
    assert action.history.first().history_user == action.owner


def test_status_change_without_a_note_is_refused_and_nothing_written():
    action = ActionFactory()
    with pytest.raises(ValidationError, match="note is needed"):
        services.action_record_progress(
            action=action, by=action.owner, expected_version=1, text="  ", rag="red"
        )
    action.refresh_from_db()
    assert action.rag == "green" and action.version == 1 and not ProgressNote.objects.exists()


def test_concurrent_edits_never_silently_overwrite():
    action = ActionFactory()
    first = Action.objects.get(pk=action.pk)
    second = Action.objects.get(pk=action.pk)
    services.action_record_progress(
        action=first, by=action.owner, expected_version=1, text="First", rag="amber"
    )
    with pytest.raises(services.ConcurrentEditError) as caught:
        services.action_record_progress(
            action=second, by=action.owner, expected_version=1, text="Second", rag="red"
        )
    assert caught.value.action.rag == "amber" and caught.value.action.version == 2
    assert list(ProgressNote.objects.values_list("text", flat=True)) == ["First"]


def test_deadline_change_is_approved_into_the_slippage_register(leader):
    action = ActionFactory()
    original = action.due_date
    change = services.due_date_change_request(
        action=action,
        by=action.owner,
        new_date=original + dt.timedelta(days=30),
        reason="Recruitment",
        today=TODAY,
    )
    with pytest.raises(ValidationError, match="already awaiting"):
        services.due_date_change_request(
            action=action,
            by=action.owner,
            new_date=original + dt.timedelta(days=60),
            reason="Again",
            today=TODAY,
        )
    services.due_date_change_decide(change=change, by=leader, approve=True)
    action.refresh_from_db()
    assert action.due_date == original + dt.timedelta(days=30)
    assert action.original_due_date == original and action.due_date_change_count == 1
    change.refresh_from_db()
    assert change.status == "approved" and change.decided_by == leader
    assert action.history.first().history_user == leader


def test_deadline_change_refusal_needs_a_reason_and_keeps_the_date(leader):
    action = ActionFactory()
    change = services.due_date_change_request(
        action=action,
        by=action.owner,
        new_date=action.due_date + dt.timedelta(1),
        reason="Late",
        today=TODAY,
    )
    with pytest.raises(ValidationError):
        services.due_date_change_decide(change=change, by=leader, approve=False)
    services.due_date_change_decide(change=change, by=leader, approve=False, note="Deliver on time")
    action.refresh_from_db()
    assert action.due_date == action.original_due_date and action.due_date_change_count == 0
    assert DueDateChange.objects.get().status == "refused"


@pytest.mark.parametrize(
    ("new_date", "message"),
    [(TODAY - dt.timedelta(days=1), "future"), (None, "same as the current")],
)
def test_deadline_request_rejects_bad_dates(new_date, message):
    action = ActionFactory()
    with pytest.raises(ValidationError, match=message):
        services.due_date_change_request(
            action=action,
            by=action.owner,
            new_date=new_date or action.due_date,
            reason="r",
            today=TODAY,
        )


def test_sign_off_requires_delivery_and_evidence(leader):
    action = ActionFactory()
    with pytest.raises(ValidationError, match="delivered"):
        services.action_sign_off(
            action=action,
            by=leader,
            expected_version=action.version,
            impact_evidenced=True,
            note="ok",
        )
    services.action_record_progress(
        action=action,
        by=action.owner,
        expected_version=1,
        text="Done",
        delivery_status="delivered",
    )
    with pytest.raises(ValidationError, match="evidence"):
        services.action_sign_off(
            action=action,
            by=leader,
            expected_version=action.version,
            impact_evidenced=True,
            note="ok",
        )
    services.evidence_add_link(
        action=action, by=action.owner, url="https://example.org/audit", title="Audit"
    )
    services.action_sign_off(
        action=action,
        by=leader,
        expected_version=action.version,
        impact_evidenced=True,
        note="Re-audit shows 80% good",
    )
    action.refresh_from_db()
    assert action.is_closed and action.rag == "blue" and action.signed_off_by == leader
    with pytest.raises(ValidationError, match="closed"):
        services.action_record_progress(
            action=action, by=action.owner, expected_version=action.version, text="x", rag="red"
        )


def test_send_back_returns_the_action_to_in_progress(leader):
    action = ActionFactory(delivery_status="delivered")
    services.action_send_back(
        action=action,
        by=leader,
        expected_version=action.version,
        reason="No evidence of impact yet",
    )
    action.refresh_from_db()
    assert action.delivery_status == "in_progress"
    assert action.notes.get().text.startswith("Sent back:")


def test_evidence_file_is_hashed_and_typed_by_content():
    action = ActionFactory()
    upload = SimpleUploadedFile("audit.pdf", PDF_BYTES, content_type="text/plain")
    evidence = services.evidence_add_file(action=action, by=action.owner, upload=upload)
    assert evidence.content_type == "application/pdf" and evidence.size == len(PDF_BYTES)
    assert len(evidence.sha256) == 64 and evidence.file.read() == PDF_BYTES


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("audit.pdf", b"just some text pretending", "does not match"),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 20, "must be a"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_evidence_file_refused_by_content(name, content, message):
    action = ActionFactory()
    with pytest.raises(ValidationError, match=message):
        services.evidence_add_file(
            action=action, by=action.owner, upload=SimpleUploadedFile(name, content)
        )
    assert not Evidence.objects.exists()


@override_settings(EVIDENCE_MAX_BYTES=10)
def test_evidence_file_too_large_is_refused():
    action = ActionFactory()
    with pytest.raises(ValidationError, match="smaller than"):
        services.evidence_add_file(
            action=action, by=action.owner, upload=SimpleUploadedFile("a.pdf", PDF_BYTES)
        )


def test_milestone_tick_and_untick():
    milestone = MilestoneFactory()
    services.milestone_set_complete(
        milestone=milestone, complete=True, by=UserFactory(), today=TODAY
    )
    assert milestone.completed_on == TODAY
    services.milestone_set_complete(milestone=milestone, complete=False, by=UserFactory())
    milestone.refresh_from_db()
    assert milestone.completed_on is None and milestone.history.count() == 3


def test_improvement_area_findings_must_come_from_its_inspection():
    inspection = InspectionFactory()
    with pytest.raises(ValidationError, match="same inspection"):
        services.improvement_area_add(
            inspection=inspection, text="x", supporting_findings=[FindingFactory()]
        )


def test_measure_values_and_percent_range():
    measure = MeasureFactory()
    user = UserFactory()
    services.measure_record_value(measure=measure, recorded_on=TODAY, value=Decimal("85"), by=user)
    with pytest.raises(ValidationError):
        services.measure_record_value(
            measure=measure, recorded_on=TODAY, value=Decimal("86"), by=user
        )
    with pytest.raises(ValidationError, match="between 0 and 100"):
        services.measure_record_value(
            measure=measure,
            recorded_on=TODAY - dt.timedelta(1),
            value=Decimal("101"),
            by=user,
        )


def test_measure_links_only_actions_of_its_authority():
    with pytest.raises(ValidationError):
        services.measure_create(
            authority=AuthorityFactory(),
            name="m",
            direction="up",
            baseline_value=1,
            baseline_date=TODAY,
            target_value=2,
            target_date=TODAY + dt.timedelta(1),
            actions=[ActionFactory()],
        )


def test_bulk_status_change_over_a_closed_action_changes_nothing(leader):
    """All or nothing (services.bulk): the closed row is named and the open one is untouched."""
    open_action = ActionFactory()
    closed = ActionFactory(delivery_status="delivered")
    services.action_sign_off(
        action=closed, by=leader, expected_version=1, impact_evidenced=False, note="Why not"
    )
    with pytest.raises(services.BulkRefused) as refused:
        services.actions_set_status(
            actions=Action.objects.all(), delivery_status="in_progress", by=leader, note="Board"
        )
    assert [r.record for r in refused.value.refusals] == [closed]
    open_action.refresh_from_db()
    assert open_action.delivery_status == "not_started" and not open_action.notes.exists()


def test_bulk_reassign_records_a_note(leader):
    action = ActionFactory()
    new_owner = UserFactory()
    assert services.actions_reassign(actions=[action], owner=new_owner, by=leader) == 1
    action.refresh_from_db()
    assert action.owner == new_owner and "Owner changed" in action.notes.get().text


def test_separation_of_duties_holds_even_for_a_superuser():
    """A superuser passes every permission check, so the service itself refuses."""
    boss = UserFactory(is_superuser=True, is_staff=True)
    action = ActionFactory(owner=boss)
    change = services.due_date_change_request(
        action=action,
        by=boss,
        new_date=action.due_date + dt.timedelta(days=7),
        reason="Mine",
        today=TODAY,
    )
    with pytest.raises(ValidationError, match="Someone else"):
        services.due_date_change_decide(change=change, by=boss, approve=True)
    services.action_record_progress(
        action=action, by=boss, expected_version=1, text="Done", delivery_status="delivered"
    )
    with pytest.raises(ValidationError, match="other than the action's owner"):
        services.action_sign_off(
            action=action,
            by=boss,
            expected_version=action.version,
            impact_evidenced=False,
            note="Closing my own",
        )


def test_quick_update_is_all_or_nothing_when_the_file_is_refused():
    action = ActionFactory()
    milestone = MilestoneFactory(action=action)
    with pytest.raises(ValidationError):
        services.action_quick_update(
            action=action,
            by=action.owner,
            expected_version=1,
            text="Audit done",
            rag="amber",
            milestones_ticked=[milestone],
            evidence_file=SimpleUploadedFile("audit.pdf", b"not a pdf at all"),
        )
    action.refresh_from_db()
    milestone.refresh_from_db()
    assert action.version == 1 and action.rag == "green"
    assert milestone.completed_on is None and not ProgressNote.objects.exists()


def test_quick_update_with_evidence_only_appends_at_a_stale_version():
    """Evidence overwrites nothing, so it is kept even when the action moved on meanwhile."""
    action = ActionFactory()
    services.action_record_progress(
        action=action, by=action.owner, expected_version=1, text="Started", rag="amber"
    )
    services.action_quick_update(
        action=Action.objects.get(pk=action.pk),
        by=action.owner,
        expected_version=1,
        evidence_url="https://example.org/audit",
        evidence_title="Audit",
    )
    assert Evidence.objects.count() == 1
    assert Action.objects.get(pk=action.pk).version == 2


def test_a_note_alone_needs_no_current_version_and_does_not_bump_it(leader):
    action = ActionFactory()
    services.action_record_progress(
        action=action, by=action.owner, expected_version=1, text="Status moved", rag="amber"
    )
    stale = Action.objects.get(pk=action.pk)
    note = services.action_record_progress(
        action=stale, by=leader, expected_version=1, text="A note from a stale page"
    )
    stale.refresh_from_db()
    assert (stale.version, stale.rag) == (2, "amber")
    assert stale.last_note_at == note.created_at
    assert ProgressNote.objects.filter(action=action).count() == 2


def test_the_owners_note_clears_the_send_back_without_a_version_bump(leader):
    action = ActionFactory(sent_back_at=timezone.now())
    services.action_record_progress(action=action, by=leader, expected_version=9, text="Nudge")
    action.refresh_from_db()
    assert action.sent_back_at is not None and action.version == 1
    services.action_record_progress(
        action=action, by=action.owner, expected_version=9, text="On it"
    )
    action.refresh_from_db()
    assert action.sent_back_at is None and action.version == 1
    assert action.history.count() == 1  # notes are their own record, not action history


@pytest.mark.parametrize(
    "text",
    ["\u200b", " \u200b\u200c\u200d\u2060\ufeff ", "\u00a0\u3000\n\t", "\u2800", "\u202e\u00ad"],
)
def test_a_note_of_invisible_characters_is_refused(text):
    action = ActionFactory()
    with pytest.raises(ValidationError, match="note is needed"):
        services.action_record_progress(
            action=action, by=action.owner, expected_version=1, text=text, rag="red"
        )
    with pytest.raises(ValidationError, match="Enter a progress note"):
        services.action_record_progress(
            action=action, by=action.owner, expected_version=1, text=text
        )
    assert not ProgressNote.objects.exists()


def test_a_note_keeps_its_inner_characters_and_loses_its_invisible_ends():
    action = ActionFactory()
    note = services.action_record_progress(
        action=action,
        by=action.owner,
        expected_version=1,
        text="\u200b Done 👩\u200d👧\n\nNext \u200b",
    )
    assert note.text == "Done 👩\u200d👧\n\nNext"
