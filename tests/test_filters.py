"""The action list's FilterSet: each query parameter, on SQLite and PostgreSQL alike."""

import datetime as dt

import pytest
from django.db.models import QuerySet
from django.test import RequestFactory
from django.utils import timezone

from improvement.filters import ActionFilter
from improvement.models import Action
from improvement.selectors.actions import actions_visible_to
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    OwnerFactory,
    ProgressNoteFactory,
    TeamFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12, 0)))


def run(user, **params) -> list[Action]:
    """Apply the filter as the action list does, for `user`, with today fixed at TODAY."""
    request = RequestFactory().get("/actions/", params)
    request.user = user
    action_filter = ActionFilter(
        request.GET,
        queryset=actions_visible_to(user=user),
        request=request,
        today=TODAY,
        now=NOW,
    )
    queryset = action_filter.qs
    assert isinstance(queryset, QuerySet)
    return list(queryset)


@pytest.fixture
def viewer(owner):
    return owner


def test_status_rag_and_impact_filter_on_their_fields(viewer):
    """status, rag and impact match delivery_status, rag and impact_status exactly."""
    started = ActionFactory(delivery_status="in_progress", rag="red")
    ActionFactory(delivery_status="not_started", rag="green")

    assert run(viewer, status="in_progress") == [started]
    assert run(viewer, rag="red") == [started]
    assert len(run(viewer, impact="not_assessed")) == 2
    assert run(viewer, impact="evidenced") == []


def test_owner_team_and_authority_filters(viewer):
    """owner, team and authority take ids and keep only the matching actions."""
    team = TeamFactory()
    mine = ActionFactory(owner=viewer, authority=team.authority, team=team)
    other = ActionFactory()

    assert run(viewer, owner=viewer.pk) == [mine]
    assert run(viewer, team=team.pk) == [mine]
    assert run(viewer, authority=other.authority_id) == [other]


def test_inspection_filter_gives_each_action_once(viewer):
    """An action answering two areas of one inspection appears once for that inspection."""
    inspection = InspectionFactory()
    areas = ImprovementAreaFactory.create_batch(2, inspection=inspection)
    action = ActionFactory(authority=inspection.authority, improvement_areas=areas)
    ActionFactory()

    assert run(viewer, inspection=inspection.pk) == [action]
    assert run(viewer, area=areas[1].pk) == [action]


def test_theme_filter_matches_the_action_or_its_improvement_areas(viewer):
    """theme=<slug> finds actions tagged with it, or answering an area tagged with it."""
    theme = ThemeFactory(slug="care-leavers")
    tagged = ActionFactory()
    tagged.themes.add(theme)
    area = ImprovementAreaFactory()
    area.themes.add(theme)
    via_area = ActionFactory(authority=area.inspection.authority, improvement_areas=[area])
    ActionFactory()

    assert {a.pk for a in run(viewer, theme="care-leavers")} == {tagged.pk, via_area.pk}


def test_overdue_means_past_due_and_not_delivered(viewer):
    """overdue=1: due before today and not delivered; due today is not overdue."""
    late = ActionFactory(due_date=TODAY - dt.timedelta(days=1))
    ActionFactory(due_date=TODAY)
    ActionFactory(due_date=TODAY - dt.timedelta(days=5), delivery_status="delivered")

    assert run(viewer, overdue="1") == [late]


def test_flags_other_than_one_are_ignored(viewer):
    """overdue=0 or overdue=no does not filter (only 1, true or on switch a flag on)."""
    ActionFactory(due_date=TODAY + dt.timedelta(days=10))

    assert len(run(viewer, overdue="0")) == 1
    assert len(run(viewer, overdue="no")) == 1


def test_due_within_counts_open_undelivered_actions_due_from_today(viewer):
    """due_within=N: due between today and today+N inclusive, not delivered, not overdue."""
    today = ActionFactory(due_date=TODAY)
    edge = ActionFactory(due_date=TODAY + dt.timedelta(days=14))
    ActionFactory(due_date=TODAY + dt.timedelta(days=15))
    ActionFactory(due_date=TODAY - dt.timedelta(days=1))
    ActionFactory(due_date=TODAY + dt.timedelta(days=3), delivery_status="delivered")

    assert {a.pk for a in run(viewer, due_within="14")} == {today.pk, edge.pk}


def test_due_within_rejects_non_numbers_without_filtering(viewer):
    """A bad due_within is a form error and is not applied, rather than a server error."""
    ActionFactory()
    request = RequestFactory().get("/actions/", {"due_within": "soon"})
    request.user = viewer
    action_filter = ActionFilter(
        request.GET, queryset=actions_visible_to(user=viewer), request=request, today=TODAY
    )

    assert "due_within" in action_filter.form.errors
    assert action_filter.qs.count() == 1


def test_stale_means_open_with_no_note_for_30_days(viewer):
    """stale=1: not closed, and last note (or creation, if none) older than 30 days."""
    old_note = ActionFactory(last_note_at=NOW - dt.timedelta(days=31))
    ActionFactory(last_note_at=NOW - dt.timedelta(days=29))
    never_updated = ActionFactory()
    Action.objects.filter(pk=never_updated.pk).update(created_at=NOW - dt.timedelta(days=40))
    ActionFactory()  # created just now, no note: not stale yet
    closed = ActionFactory(
        last_note_at=NOW - dt.timedelta(days=90),
        delivery_status="delivered",
        impact_status="evidenced",
        rag="blue",
        signed_off_by=UserFactory(),
        signed_off_at=NOW - dt.timedelta(days=90),
    )

    result = {a.pk for a in run(viewer, stale="1")}
    assert result == {old_note.pk, never_updated.pk}
    assert closed.pk not in result


def test_slipped_means_redated_twice_or_more(viewer):
    """slipped=1: due_date_change_count of 2 or more."""
    twice = ActionFactory(due_date_change_count=2)
    ActionFactory(due_date_change_count=1)

    assert run(viewer, slipped="1") == [twice]


def test_awaiting_sign_off_means_delivered_and_impact_not_assessed(viewer):
    """awaiting_sign_off=1: delivered, impact not yet assessed."""
    waiting = ActionFactory(delivery_status="delivered")
    ActionFactory(delivery_status="in_progress")

    assert run(viewer, awaiting_sign_off="1") == [waiting]


@pytest.mark.parametrize(
    ("field", "value", "query"),
    [
        ("title", "Recruit permanent social workers", "permanent"),
        ("description", "Audit every pathway plan.", "pathway"),
        ("reference", "7.3", "7.3"),
    ],
)
def test_text_search_over_action_fields(viewer, field, value, query):
    """q finds words in the title, description and reference (full-text search on PostgreSQL)."""
    match = ActionFactory(**{field: value})
    ActionFactory(title="Something else", description="", reference="1.1")

    assert run(viewer, q=query) == [match]


def test_text_search_over_notes_gives_each_action_once(viewer):
    """q finds words in progress notes, and an action with two matching notes appears once."""
    action = ActionFactory(title="Workforce plan")
    ProgressNoteFactory.create_batch(2, action=action, text="Supervision audit completed.")
    ActionFactory(title="Unrelated")

    assert run(viewer, q="supervision") == [action]


def test_text_search_treats_query_syntax_and_quotes_as_text(viewer):
    """Search input is passed as a parameter, never spliced into SQL."""
    ActionFactory(title="Plan")

    assert run(viewer, q="'; DROP TABLE improvement_action; --") == []
    assert run(viewer, q='"unbalanced') == []
    assert Action.objects.count() == 1


def test_scope_limits_results_and_option_lists(db):
    """A user of one authority sees only its actions, owners, teams and inspections."""
    home, away = AuthorityFactory(), AuthorityFactory()
    user = OwnerFactory(authority=home)
    ours = ActionFactory(authority=home, owner=user, team=TeamFactory(authority=home))
    theirs = ActionFactory(authority=away, team=TeamFactory(authority=away))
    request = RequestFactory().get("/actions/")
    request.user = user
    action_filter = ActionFilter(
        request.GET, queryset=actions_visible_to(user=user), request=request, today=TODAY
    )

    assert list(action_filter.qs) == [ours]
    fields = action_filter.form.fields
    assert list(fields["owner"].queryset) == [user]
    assert list(fields["team"].queryset) == [ours.team]
    assert list(fields["authority"].queryset) == [home]
    assert theirs.improvement_areas.first() not in fields["area"].queryset
    # Asking for another authority's team is refused as an invalid choice, not answered.
    assert run(user, team=theirs.team_id) == [ours]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("due_date", ["b", "a", "c"]),
        ("-due_date", ["c", "a", "b"]),
        ("title", ["a", "b", "c"]),
        ("rag", ["b", "c", "a"]),
        ("status", ["c", "a", "b"]),
        ("nonsense", ["b", "a", "c"]),
    ],
)
def test_sort_orders_by_meaningful_values(viewer, sort, expected):
    """sort orders RAG red-amber-green and status by progress; anything unknown means due date."""
    ActionFactory(
        title="a", due_date=TODAY + dt.timedelta(days=5), rag="green", delivery_status="in_progress"
    )
    ActionFactory(
        title="b", due_date=TODAY + dt.timedelta(days=1), rag="red", delivery_status="delivered"
    )
    ActionFactory(
        title="c", due_date=TODAY + dt.timedelta(days=9), rag="amber", delivery_status="not_started"
    )

    assert [a.title for a in run(viewer, sort=sort)] == expected


def test_sort_by_owner_uses_surname(viewer):
    """sort=owner orders by the owner's last name."""
    ActionFactory(title="z", owner=OwnerFactory(last_name="Adams"))
    ActionFactory(title="y", owner=OwnerFactory(last_name="Zephaniah"))

    assert [a.title for a in run(viewer, sort="owner")] == ["z", "y"]
    assert [a.title for a in run(viewer, sort="-owner")] == ["y", "z"]
