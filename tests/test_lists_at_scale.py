"""The action list and My actions shaped for a million actions: the options each filter offers,
counts a search caps lower, and My actions read in index order with the same rows and order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from improvement.filters import AUTHORITY_FIRST, INSPECTION_FIRST, ActionFilter
from improvement.models import Action
from improvement.paging import CappedPaginator
from improvement.selectors.actions import OwnerActionList, actions_for_owner, actions_visible_to
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    OwnerFactory,
    TeamFactory,
    bulk_actions,
)

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the partial indexes are PostgreSQL's"
)


def options(response, name: str) -> list[str]:
    """The values a select offers, the empty one first, from the page's form."""
    field = response.context["form"].fields[name]
    return [str(value) for value, _ in field.widget.choices]


def selected(html: str, name: str, value) -> bool:
    start = html.index(f'<select name="{name}"') if f'<select name="{name}"' in html else None
    if start is None:
        start = html.index(f'name="{name}"')
    select = html[start : html.index("</select>", start)]
    return f'<option value="{value}" selected>' in select


@pytest.fixture
def home():
    return AuthorityFactory(name="Home")


@pytest.fixture
def away():
    return AuthorityFactory(name="Away")


@pytest.fixture
def national(db):
    return LeaderFactory(username="national")


@pytest.fixture
def local_leader(home):
    return LeaderFactory(username="local", authority=home)


def test_one_authoritys_user_is_offered_its_owners_teams_and_inspections(
    client, home, away, local_leader
):
    """Everything of their authority, nothing of another; areas wait for an inspection."""
    ours = ActionFactory(authority=home, team=TeamFactory(authority=home))
    ActionFactory(authority=away, team=TeamFactory(authority=away))
    client.force_login(local_leader)

    response = client.get(reverse("improvement:action-list"))

    assert options(response, "owner") == ["", str(ours.owner_id)]
    assert options(response, "team") == ["", str(ours.team_id)]
    inspection = ours.improvement_areas.get().inspection
    assert options(response, "inspection") == ["", str(inspection.pk)]
    assert options(response, "area") == [""]
    html = response.content.decode()
    assert INSPECTION_FIRST in html
    assert 'aria-describedby="id_area-hint"' in html
    assert AUTHORITY_FIRST not in html
    # Their own authority is the only one there is: no select for it, but a link naming it
    # still filters.
    assert 'name="authority"' not in html
    linked = client.get(reverse("improvement:action-list"), {"authority": home.pk})
    assert list(linked.context["actions"]) == [ours]


def test_areas_are_offered_for_the_chosen_inspection_only(client, home, local_leader):
    inspection = InspectionFactory(authority=home)
    first, second = ImprovementAreaFactory.create_batch(2, inspection=inspection)
    other = ImprovementAreaFactory(inspection__authority=home)
    ActionFactory(authority=home, improvement_areas=[first])
    client.force_login(local_leader)

    response = client.get(reverse("improvement:action-list"), {"inspection": inspection.pk})

    assert options(response, "area") == ["", str(first.pk), str(second.pk)]
    assert str(other.pk) not in options(response, "area")
    assert INSPECTION_FIRST not in response.content.decode()


def test_a_user_who_reaches_many_chooses_an_authority_first(client, home, away, national):
    ours = ActionFactory(authority=home, team=TeamFactory(authority=home))
    theirs = ActionFactory(authority=away, team=TeamFactory(authority=away))
    client.force_login(national)
    url = reverse("improvement:action-list")

    response = client.get(url)
    for name in ("owner", "team", "inspection", "area"):
        assert options(response, name) == [""], name
    assert options(response, "authority") == ["", str(away.pk), str(home.pk)]
    assert AUTHORITY_FIRST in response.content.decode()

    response = client.get(url, {"authority": home.pk})
    assert options(response, "owner") == ["", str(ours.owner_id)]
    assert options(response, "team") == ["", str(ours.team_id)]
    assert str(theirs.team_id) not in options(response, "team")
    assert AUTHORITY_FIRST not in response.content.decode()


def test_a_linked_value_is_applied_and_shown_selected(client, home, away, national):
    """The dashboard's and inspection pages' links name a value without its parent."""
    team = TeamFactory(authority=home)
    ours = ActionFactory(authority=home, team=team)
    ActionFactory(authority=away)
    area = ours.improvement_areas.get()
    client.force_login(national)
    url = reverse("improvement:action-list")

    for name, value in (("owner", ours.owner_id), ("team", team.pk), ("area", area.pk)):
        response = client.get(url, {name: value})
        assert list(response.context["actions"]) == [ours], name
        assert selected(response.content.decode(), name, value), name

    # An area names its inspection, and the inspection its authority: their lists follow.
    response = client.get(url, {"area": area.pk})
    assert options(response, "area") == ["", str(area.pk)]
    assert options(response, "team") == ["", str(team.pk)]


def test_a_value_outside_the_scope_is_refused(client, home, away, local_leader):
    ours = ActionFactory(authority=home)
    theirs = ActionFactory(authority=away, team=TeamFactory(authority=away))
    client.force_login(local_leader)
    url = reverse("improvement:action-list")

    for name, value in (
        ("owner", theirs.owner_id),
        ("team", theirs.team_id),
        ("area", theirs.improvement_areas.get().pk),
        ("inspection", theirs.improvement_areas.get().inspection_id),
    ):
        response = client.get(url, {name: value})
        assert name in response.context["form"].errors, name
        assert list(response.context["actions"]) == [ours], name
        assert str(value) not in options(response, name), name


def test_owner_options_are_named_as_the_user_is(client, home, local_leader):
    named = ActionFactory(authority=home, owner=OwnerFactory(authority=home, last_name="Ng"))
    unnamed = ActionFactory(
        authority=home, owner=OwnerFactory(authority=home, first_name="", last_name="")
    )
    OwnerFactory(authority=home)  # owns nothing: not offered
    client.force_login(local_leader)
    response = client.get(reverse("improvement:action-list"))
    choices = dict(response.context["form"].fields["owner"].widget.choices)
    assert choices == {
        "": "Any owner",
        named.owner_id: str(named.owner),
        unnamed.owner_id: str(unnamed.owner),
    }
    assert str(unnamed.owner) == unnamed.owner.username


def test_too_many_owners_are_offered_one_team_at_a_time(client, home, local_leader, monkeypatch):
    monkeypatch.setattr("improvement.filters.OWNER_OPTIONS_MAX", 1)
    team = TeamFactory(authority=home)
    in_team = ActionFactory(authority=home, team=team)
    ActionFactory(authority=home)
    client.force_login(local_leader)
    url = reverse("improvement:action-list")

    response = client.get(url)
    assert options(response, "owner") == [""]
    assert "choose a team first" in response.content.decode()

    response = client.get(url, {"team": team.pk})
    assert options(response, "owner") == ["", str(in_team.owner_id)]
    assert "choose a team first" not in response.content.decode()

    # Nor does a team list more than that; a linked owner is still applied and shown.
    second = ActionFactory(authority=home, team=team)
    response = client.get(url, {"team": team.pk})
    assert options(response, "owner") == [""]
    assert "too many to list" in response.content.decode()
    response = client.get(url, {"team": team.pk, "owner": second.owner_id})
    assert options(response, "owner") == ["", str(second.owner_id)]
    assert list(response.context["actions"]) == [second]


def test_a_search_counts_to_a_lower_cap(client, leader, owner, monkeypatch):
    monkeypatch.setattr("improvement.views.actions.SEARCH_COUNT_CAP", 3)
    bulk_actions(30, area=ImprovementAreaFactory(), owner=owner)
    client.force_login(leader)
    url = reverse("improvement:action-list")
    # A search shows at least the page it lists (25), and says there are more.
    assert "more than 25 actions" in client.get(url, {"q": "Bulk"}).content.decode()
    page_two = client.get(url, {"q": "Bulk", "page": 2})
    assert len(page_two.context["actions"]) == 5
    # Without words the usual cap applies: all 30 counted.
    assert "30 actions" in client.get(url).content.decode()


# My actions: the same rows, in the same order, as the plain definition


@pytest.fixture
def mixed(home):
    """A team lead's open actions of every kind, and ones that must not show."""
    lead = OwnerFactory(username="lead", authority=home)
    team = TeamFactory(authority=home, lead=lead)
    colleague = OwnerFactory(authority=home)
    day = dt.timedelta(days=1)
    overdue = {"due_date": TODAY - 5 * day, "start_date": TODAY - 90 * day}
    late_delivered = {**overdue, "delivery_status": "delivered"}
    for fields in (overdue, late_delivered, {"due_date": TODAY}, {"due_date": TODAY + day}):
        ActionFactory(authority=home, owner=lead, **fields)
        ActionFactory(authority=home, owner=colleague, team=team, **fields)
        # Owned and in the led team: once only.
        ActionFactory(authority=home, owner=lead, team=team, **fields)
    # Same due date, to check the tie on id.
    ActionFactory.create_batch(3, authority=home, owner=lead, **overdue)
    # Closed, another's, and another authority's team: never.
    closed = ActionFactory(authority=home, owner=lead, delivery_status="delivered")
    Action.objects.filter(pk=closed.pk).update(
        impact_status="evidenced",
        rag="blue",
        signed_off_by=LeaderFactory(authority=home),
        signed_off_at=timezone.now(),
    )
    ActionFactory(authority=home, owner=colleague)
    ActionFactory(authority=AuthorityFactory(), owner=lead)
    return lead


@pytest.mark.parametrize("per_page", [2, 5, 100])
def test_my_actions_pages_hold_the_same_rows_in_the_same_order(mixed, per_page):
    with freeze_time(TODAY):
        expected = list(
            actions_for_owner(user=mixed, today=TODAY).values_list("pk", "overdue_rank")
        )
        listed = OwnerActionList(user=mixed, today=TODAY, rows=Action.objects.all())
        paginator = CappedPaginator(listed, per_page, ids_first=False)
        seen = []
        for number in range(1, paginator.get_page(1).paginator.num_pages + 1):
            seen += [action.pk for action in paginator.get_page(number)]
    assert seen == [pk for pk, _ in expected]
    assert len(expected) == 15 and [rank for _, rank in expected[:6]] == [0] * 6
    assert paginator.count == 15


def test_my_actions_count_is_capped(client, mixed, monkeypatch):
    monkeypatch.setattr("improvement.views.actions.LIST_COUNT_CAP", 4)
    monkeypatch.setattr("improvement.views.actions.PAGE_SIZE", 3)
    client.force_login(mixed)
    with freeze_time(TODAY):
        html = client.get(reverse("improvement:my-actions")).content.decode()
    assert "more than 4 open actions" in html


@pytest.mark.parametrize("role", ["owner", "lead"])
def test_my_actions_query_count_does_not_grow(client, home, role):
    lead = OwnerFactory(username="lead", authority=home)
    team = TeamFactory(authority=home, lead=lead if role == "lead" else None)
    area = ImprovementAreaFactory(inspection__authority=home)
    client.force_login(lead)
    url = reverse("improvement:my-actions")

    def grow(n):
        spread = {
            "due_date": lambda i: TODAY + dt.timedelta(days=i % 60 - 30),
            "delivery_status": lambda i: ("not_started", "delivered")[i % 2],
        }
        bulk_actions(n, area=area, owner=lead, **spread)
        bulk_actions(n, area=area, owner=OwnerFactory(authority=home), team=team, **spread)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    with freeze_time(TODAY):
        assert grow(5) == grow(400)


@pytest.mark.parametrize(
    "params",
    [{}, {"authority": "HOME"}, {"inspection": "INSPECTION", "area": "AREA"}, {"q": "Bulk"}],
)
def test_list_query_count_does_not_grow_for_a_national_user(client, home, national, params):
    inspection = InspectionFactory(authority=home)
    area = ImprovementAreaFactory(inspection=inspection)
    values = {"HOME": home.pk, "INSPECTION": inspection.pk, "AREA": area.pk}
    params = {key: values.get(value, value) for key, value in params.items()}
    client.force_login(national)
    url = reverse("improvement:action-list")

    def grow(n):
        bulk_actions(n, area=area, owner=OwnerFactory(authority=home))
        TeamFactory.create_batch(n // 50 + 1, authority=home)
        ImprovementAreaFactory.create_batch(n // 50 + 1, inspection=inspection)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        return len(queries)

    assert grow(10) == grow(500)


@postgres_only
def test_my_actions_reads_the_open_actions_indexes(mixed, home):
    # Others' actions, so that the planner's choice among indexes is the one a big table gets.
    area = ImprovementAreaFactory(inspection__authority=home)
    for _ in range(4):
        team = TeamFactory(authority=home)
        bulk_actions(300, area=area, owner=OwnerFactory(authority=home), team=team)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE improvement_action")
        cursor.execute("SET LOCAL enable_seqscan = off")
    listed = OwnerActionList(user=mixed, today=TODAY, rows=Action.objects.all())
    plan = listed._ids(25)[:25].explain()
    assert "scale_action_owner_open_cover" in plan
    assert "scale_action_team_open_cover" in plan
    assert "Limit" in plan


def test_my_actions_with_nothing_open(client, home):
    """No rows (and a user who reaches nothing): the empty page, not an error."""
    for user in (OwnerFactory(authority=home), OwnerFactory(authority=None, reach="authority")):
        client.force_login(user)
        response = client.get(reverse("improvement:my-actions"))
        assert response.status_code == 200
        assert "You have no open actions" in response.content.decode()


@postgres_only
@pytest.mark.parametrize(
    ("who", "sort", "index"),
    [
        ("local_leader", "rag", "scale_action_auth_rag_rank"),
        ("local_leader", "-rag", "scale_action_auth_rag_rank"),
        ("local_leader", "status", "scale_action_auth_status_rank"),
        ("national", "-status", "scale_action_status_rank"),
        ("national", "rag", "scale_action_rag_rank"),
    ],
)
def test_sorts_by_rank_read_their_indexes(request, home, away, who, sort, index):
    """Sorted by RAG or status, a page's ids come in order from an index on the same rank
    (migration 0013), not from sorting every action in reach: the expressions there must stay
    the ones the list's sort writes."""
    user = request.getfixturevalue(who)
    colours = ["red", "amber", "green"]
    statuses = list(Action.DeliveryStatus.values)
    # Most actions elsewhere, as in a national table: were the user's authority to hold all of
    # them, reading the national index and filtering would cost the planner the same (and with
    # random_page_cost = 1.1, as the README recommends, it took that).
    for authority, count in ((home, 400), (away, 1200)):
        bulk_actions(
            count,
            area=ImprovementAreaFactory(inspection__authority=authority),
            owner=OwnerFactory(authority=authority),
            rag=lambda i: colours[i % 3],
            delivery_status=lambda i: statuses[i % 2],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE improvement_action")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    http = RequestFactory().get("/actions/", {"sort": sort})
    http.user = user
    now = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12, 0)))
    listed = ActionFilter(
        http.GET, queryset=actions_visible_to(user=user), request=http, today=TODAY, now=now
    ).qs
    plan = listed.values("pk")[:25].explain()
    assert index in plan
    assert "Sort" not in plan.replace("Sort Key", "")
