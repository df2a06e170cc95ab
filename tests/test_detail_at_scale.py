"""An action's page and its quick update: the same queries whatever the action holds or the plan's
size, and the page's shortcuts (decisions read from the trail, validation of what a write changes)
give the same answers as the long way round."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from improvement import services
from improvement.models import Action, ProgressNote
from improvement.selectors import actions as action_reads
from improvement.selectors import history as history_reads
from improvement.services.actions import (
    full_clean_at_once,
    save_with_version_check,
    unchanged_fields,
)
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    DueDateChangeFactory,
    EvidenceFactory,
    FindingFactory,
    ImprovementAreaFactory,
    LeaderFactory,
    MeasureFactory,
    MeasureValueFactory,
    MilestoneFactory,
    OwnerFactory,
    TeamFactory,
    ThemeFactory,
    bulk_actions,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def authority():
    return AuthorityFactory(name="Northshire")


@pytest.fixture
def owner(authority):
    return OwnerFactory(authority=authority, username="priya")


@pytest.fixture
def leader(authority):
    return LeaderFactory(authority=authority, username="alison")


def _queries(client, method, url, data=None) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data or {})
    assert response.status_code in (200, 302), response.status_code
    return len(queries), response.content.decode()


def _full_trail(action, owner, leader) -> None:
    """Something in every part of the page: paragraphs, themes, milestones, notes, evidence,
    a refused deadline request, a measure with values, and history naming an owner and a team."""
    area = action.improvement_areas.get()
    area.supporting_findings.add(
        FindingFactory(inspection=area.inspection, number=12, text="Plans are not reviewed.")
    )
    action.themes.add(ThemeFactory(name="Care leavers"))
    MilestoneFactory(action=action, title="Audit booked")
    EvidenceFactory(action=action, added_by=owner, title="Audit report")
    measure = MeasureFactory(authority=action.authority, name="Plans up to date")
    measure.actions.add(action)
    MeasureValueFactory(measure=measure, value=Decimal("81"), recorded_on=TODAY)
    services.action_record_progress(
        action=action, by=owner, expected_version=action.version, text="First audit.", rag="amber"
    )
    change = DueDateChangeFactory(action=action, requested_by=owner)
    services.due_date_change_decide(change=change, by=leader, approve=False, note="Not yet.")
    action.refresh_from_db()
    services.action_update(
        action=action,
        expected_version=action.version,
        by=leader,
        team=TeamFactory(authority=action.authority, name="Leaving care", lead=leader),
    )


def test_the_page_runs_the_same_queries_whatever_the_action_holds(client, owner, leader):
    """Nothing linked (no area, theme, note, measure or history) or something in every part:
    the same queries, where a nested prefetch would skip its query for an empty parent."""
    bare = ActionFactory(owner=owner, authority=owner.authority, title="Bare")
    bare.improvement_areas.clear()
    bare.history.all().delete()
    full = ActionFactory(owner=owner, authority=owner.authority, title="Full")
    _full_trail(full, owner, leader)
    client.force_login(owner)

    empty_count, empty = _queries(client, "get", bare.get_absolute_url())
    full_count, page = _queries(client, "get", full.get_absolute_url())

    assert "No progress has been recorded yet." in empty
    assert "No changes have been recorded." in empty
    for shown in (
        "Paragraph 12",
        "Plans are not reviewed.",
        "Care leavers",
        "Audit booked",
        "Audit report",
        "First audit.",
        "Plans up to date",
        "81%",
        "A senior leader refused the new due date",
        "Not yet.",
        "Team: none to Leaving care",
        "RAG: Green to Amber",
    ):
        assert shown in page, shown
    assert empty_count == full_count


def test_the_page_shows_the_latest_history_only(client, owner, monkeypatch):
    """History compared over the latest HISTORY_SHOWN records, the one before them read to compare
    the oldest with; the page says older changes are kept, and its queries stay the same."""
    from improvement.views import actions as action_views

    monkeypatch.setattr(action_views, "HISTORY_SHOWN", 3)
    action = ActionFactory(owner=owner, authority=owner.authority, title="Title 0")
    client.force_login(owner)
    young_count, young = _queries(client, "get", action.get_absolute_url())
    assert "Created the action." in young
    assert "Older changes are kept" not in young
    for n in range(1, 6):
        action.title = f"Title {n}"
        action.save()
    old_count, page = _queries(client, "get", action.get_absolute_url())
    for n in (3, 4, 5):  # the latest three saves, each compared with the one before
        assert f"Title {n - 1} to Title {n}" in page
    assert "Title 1 to Title 2" not in page
    assert "Created the action." not in page
    assert "Older changes are kept but not shown here" in page
    assert old_count == young_count

    entries, cut = history_reads.latest_action_history(action=action, latest=None)
    assert not cut
    assert [entry.created for entry in entries] == [False] * 5 + [True]
    assert entries == history_reads.action_history(action=action)


def _quick_update(action) -> dict:
    return {
        "version": action.version,
        "delivery_status": action.delivery_status,
        "rag": "red" if action.rag != "red" else "amber",
        "text": "Audit repeated.",
        "milestones_initial": "",
    }


def test_page_and_quick_update_queries_do_not_grow_with_the_plan(client, owner, leader):
    """10 or 1,000 actions in the authority: the same queries for the page and for the update."""
    area = ImprovementAreaFactory(inspection__authority=owner.authority)
    action = ActionFactory(owner=owner, authority=owner.authority, improvement_areas=[area])
    _full_trail(action, owner, leader)
    client.force_login(owner)
    counts = []
    with freeze_time(timezone.now()):
        for more in (10, 990):
            bulk_actions(more, area=area, owner=owner)
            action.refresh_from_db()
            page, _ = _queries(client, "get", action.get_absolute_url())
            update, _ = _queries(
                client,
                "post",
                reverse("improvement:action-update", args=[action.pk]),
                _quick_update(action),
            )
            counts.append((page, update))
    assert counts[0] == counts[1]
    action.refresh_from_db()
    assert action.rag == "amber" and action.notes.filter(text="Audit repeated.").count() == 2


# The decision the owner still has to act on, read from the trail or from subqueries


def _both_readings(action):
    trail_reading = action_reads.decision_in_trail(
        Action.objects.select_related("team").get(pk=action.pk),
        action_reads.action_trail(action),
    )
    annotated = action_reads.with_decisions(Action.objects.select_related("team")).get(pk=action.pk)
    return trail_reading, action_reads.decision_of(annotated)


def test_the_trail_reads_the_same_decision_as_the_lists(owner, leader):
    lead = OwnerFactory(authority=owner.authority, username="team-lead")
    action = ActionFactory(
        owner=owner,
        authority=owner.authority,
        team=TeamFactory(authority=owner.authority, lead=lead),
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )
    seen = []

    def check():
        action.refresh_from_db()
        in_trail, in_list = _both_readings(action)
        assert in_trail == in_list
        seen.append(in_trail.kind if in_trail else None)

    check()
    with freeze_time(timezone.now() + dt.timedelta(minutes=1)):
        services.action_send_back(
            action=action, by=leader, expected_version=action.version, reason="No impact yet."
        )
        check()
    with freeze_time(timezone.now() + dt.timedelta(minutes=2)):
        services.action_record_progress(
            action=action, by=lead, expected_version=action.version, text="Re-audit booked."
        )
        check()
    with freeze_time(timezone.now() + dt.timedelta(minutes=3)):
        change = DueDateChangeFactory(action=action, requested_by=owner)
        check()
        services.due_date_change_decide(change=change, by=leader, approve=False, note="No.")
        check()
    with freeze_time(timezone.now() + dt.timedelta(minutes=4)):
        # A leader's own note does not answer the refusal; the team lead's does.
        services.action_record_progress(
            action=action, by=leader, expected_version=action.version, text="Chased."
        )
        check()
    with freeze_time(timezone.now() + dt.timedelta(minutes=5)):
        services.action_record_progress(
            action=action, by=lead, expected_version=action.version, text="Plan revised."
        )
        check()
    assert seen == [None, "sent_back", None, None, "refused", "refused", None]


# A write validates what it changes, and still every rule on that


def test_a_write_validates_its_fields_and_the_rules_that_compare_them():
    unchanged = set(unchanged_fields(Action, ["rag"]))
    assert "rag" not in unchanged
    # Blue only when closed: the impact status is checked with the rating.
    assert "impact_status" not in unchanged
    assert {"title", "owner", "due_date", "success_measure"} <= unchanged
    # Separation of duties compares the signatory with the owner.
    assert "owner" not in set(unchanged_fields(Action, ["signed_off_by"]))


def test_a_rule_on_a_changed_field_is_still_a_validation_error(owner):
    action = ActionFactory(owner=owner, authority=owner.authority)
    action.rag = "purple"
    with pytest.raises(ValidationError) as error:
        save_with_version_check(action, expected_version=action.version, fields=["rag"])
    assert "rag" in error.value.message_dict
    action.refresh_from_db()
    action.rag = Action.Rag.BLUE
    with pytest.raises(ValidationError):
        # Blue means closed: the constraint that compares it with the impact status still bites.
        save_with_version_check(action, expected_version=action.version, fields=["rag"])


def test_constraints_are_asked_together_and_a_failure_names_its_rule(owner):
    action = ActionFactory(owner=owner, authority=owner.authority)
    good = ProgressNote(
        action=action,
        author=owner,
        created_at=timezone.now(),
        text="Done.",
        rag_before="green",
        rag_after="red",
    )
    with CaptureQueriesContext(connection) as queries:
        full_clean_at_once(good, exclude=["action", "author"])
    # One question for the three constraints (with its savepoints, inside a transaction).
    assert sum("_check" in q["sql"] for q in queries.captured_queries) == 1
    half = ProgressNote(
        action=action,
        author=owner,
        created_at=timezone.now(),
        text="Done.",
        delivery_status_before="in_progress",
    )
    with pytest.raises(ValidationError) as error:
        full_clean_at_once(half, exclude=["action", "author"])
    assert "note_status_change_has_both_sides" in str(error.value)
    assert "note_rag_change_has_both_sides" not in str(error.value)
