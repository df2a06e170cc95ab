"""The national overview: figures per authority from the rulebook, reach, filters, sort, cache."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from freezegun import freeze_time

from improvement.models import Action, Judgement, User
from improvement.selectors import dashboard as dashboard_reads
from improvement.selectors import national as reads
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
    LeaderFactory,
    UserFactory,
    bulk_actions,
)

NOW = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(15, 27)))
URL = reverse("improvement:national")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _plan(authority):
    """One action in each state, and one closed."""
    fresh = {"last_note_at": NOW}
    ActionFactory(authority=authority, **fresh)
    ActionFactory(authority=authority, due_date=TODAY - dt.timedelta(days=3), **fresh)
    ActionFactory(authority=authority, due_date_change_count=2, **fresh)
    stale = ActionFactory(authority=authority, last_note_at=NOW - dt.timedelta(days=45))
    leader = LeaderFactory(authority=authority)
    closed = ActionFactory(authority=authority, last_note_at=NOW - dt.timedelta(days=90))
    Action.objects.filter(pk=closed.pk).update(
        delivery_status="delivered",
        impact_status="evidenced",
        rag="blue",
        signed_off_by=leader,
        signed_off_at=NOW,
    )
    return stale


@freeze_time(NOW)
def test_figures_come_from_the_rulebook_and_match_the_dashboard(client, leader):
    """Open, overdue, slipped and stale per authority, equal to the authority dashboard's."""
    knowsley = AuthorityFactory(name="Knowsley")
    _plan(knowsley)
    quiet = AuthorityFactory(name="Quiet")
    client.force_login(leader)

    response = client.get(URL)

    assert response.status_code == 200
    rows = {row.authority.name: row.figures for row in response.context["rows"]}
    assert rows["Knowsley"] == reads.ActionFigures(total=5, open=4, overdue=1, slipped=1, stale=1)
    assert rows[quiet.name] == reads.ActionFigures()
    board = dashboard_reads.dashboard_action_counts(
        authority=knowsley, today=TODAY, now=timezone.now()
    )
    for name in ("total", "open", "overdue", "slipped", "stale"):
        assert getattr(rows["Knowsley"], name) == board[name], name
    html = response.content.decode()
    assert knowsley.get_absolute_url() in html
    assert "Action figures as at 3:27pm on 1 December 2026" in html


@freeze_time(NOW)
def test_latest_inspection_judgement_and_clock(client, leader):
    """The latest Ofsted inspection and its overall judgement; the clock runs from publication."""
    authority = AuthorityFactory(name="Inspected")
    InspectionFactory(authority=authority, start_date=dt.date(2019, 1, 7))
    latest = InspectionFactory(
        authority=authority,
        start_date=TODAY - dt.timedelta(days=60),
        end_date=TODAY - dt.timedelta(days=50),
        publication_date=TODAY - dt.timedelta(days=20),
    )
    JudgementFactory(inspection=latest, area="Overall", grade="inadequate", is_overall=True)
    ImprovementAreaFactory(inspection=latest, is_priority_action=True, responsible_body="LA")
    client.force_login(leader)

    row = next(r for r in client.get(URL).context["rows"] if r.authority == authority)

    assert row.inspection == latest
    assert row.overall.grade == Judgement.Grade.INADEQUATE
    assert row.clock.is_running
    assert row.clock.has_priority_actions
    assert row.clock.publication_date == latest.publication_date
    roll_up = {r.region: r for r in client.get(URL).context["overview"].regions}
    assert roll_up["North West"].inadequate == 1
    html = client.get(URL).content.decode()
    assert f"ILACS standard inspection, {date_format(latest.start_date, 'j M Y')}" in html
    assert f"Final plan {row.clock.final.status}</td>" in html
    assert "Final plan due in " in html
    assert ">Inadequate</td>" in html


@freeze_time(NOW)
def test_clock_runs_from_the_latest_published_report(client, leader):
    """A newer inspection not yet published is shown as the latest, the clock stays on the last
    published one; the authority's own reviews are not Ofsted inspections."""
    authority = AuthorityFactory(name="Between reports")
    published = InspectionFactory(
        authority=authority,
        start_date=TODAY - dt.timedelta(days=90),
        end_date=TODAY - dt.timedelta(days=80),
        publication_date=TODAY - dt.timedelta(days=30),
    )
    older = InspectionFactory(authority=authority, start_date=dt.date(2018, 3, 5))
    newer = InspectionFactory(
        authority=authority,
        kind="focused_visit",
        start_date=TODAY - dt.timedelta(days=10),
        end_date=TODAY - dt.timedelta(days=8),
        publication_date=None,
    )
    InspectionFactory(authority=authority, kind="self_evaluation", start_date=TODAY)
    JudgementFactory(inspection=older, area="Overall", grade="inadequate", is_overall=True)
    JudgementFactory(inspection=newer, area="Leadership", grade="good")
    client.force_login(leader)

    row = next(r for r in client.get(URL).context["rows"] if r.authority == authority)

    assert row.inspection == newer
    assert row.clock_inspection == published
    assert row.overall is None  # the newer visit has no overall judgement
    html = client.get(URL, {"sort": "-judgement"}).content.decode()
    assert f"ILACS focused visit, {date_format(newer.start_date, 'j M Y')}" in html
    assert ">Not graded</td>" in html


@freeze_time(NOW)
def test_regional_user_sees_their_region_and_its_roll_up(client):
    """A regional grant shows that region's authorities only, and its roll-up."""
    near = AuthorityFactory(name="Near", region="North West")
    far = AuthorityFactory(name="Far", region="London")
    ActionFactory(authority=near, due_date=TODAY - dt.timedelta(days=1), last_note_at=NOW)
    ActionFactory(authority=far, due_date=TODAY - dt.timedelta(days=1), last_note_at=NOW)
    regional = LeaderFactory(
        authority=None, reach=User.Reach.REGION, region="North West", username="regional"
    )
    client.force_login(regional)

    response = client.get(URL)

    names = [row.authority.name for row in response.context["rows"]]
    assert names == ["Near"]
    assert [r.region for r in response.context["overview"].regions] == ["North West"]
    assert response.context["overview"].regions[0].figures.overdue == 1
    assert "Far" not in response.content.decode()
    assert "Regional overview" in response.content.decode()


def test_only_users_who_reach_many_authorities(client):
    """Authority users and users with no role are refused; signed-out users sign in."""
    authority = AuthorityFactory()
    assert client.get(URL)["Location"].startswith(reverse("login"))
    client.force_login(LeaderFactory(authority=authority))
    assert client.get(URL).status_code == 403
    client.force_login(UserFactory(authority=None, username="no-role"))
    assert client.get(URL).status_code == 403


def test_the_dashboard_sends_national_users_to_the_overview(client, leader):
    client.force_login(leader)
    response = client.get(reverse("improvement:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == URL


@freeze_time(NOW)
def test_filter_by_region_and_statistical_neighbours(client, leader):
    """Neighbours come from the DfE list: Barking and Dagenham's include Greenwich."""
    barking = AuthorityFactory(name="Barking and Dagenham", ons_code="E09000002", region="London")
    AuthorityFactory(name="Greenwich", ons_code="E09000011", region="London")
    AuthorityFactory(name="Camden", ons_code="E09000007", region="London")
    AuthorityFactory(name="Knowsley", ons_code="E08000011", region="North West")
    client.force_login(leader)

    by_region = client.get(URL, {"region": "London"}).context["rows"]
    assert sorted(r.authority.name for r in by_region) == [
        "Barking and Dagenham",
        "Camden",
        "Greenwich",
    ]
    neighbours = client.get(URL, {"neighbours": barking.pk}).context["rows"]
    assert sorted(r.authority.name for r in neighbours) == ["Barking and Dagenham", "Greenwich"]

    bad = client.get(URL, {"region": "Atlantis", "neighbours": "x"})
    assert bad.status_code == 200
    assert set(bad.context["errors"]) == {"region", "neighbours"}
    assert "There is a problem" in bad.content.decode()


@freeze_time(NOW)
def test_sortable_by_figures_worst_first(client, leader):
    busy = AuthorityFactory(name="Busy")
    calm = AuthorityFactory(name="Calm")
    for _ in range(3):
        ActionFactory(authority=busy, due_date=TODAY - dt.timedelta(days=2), last_note_at=NOW)
    ActionFactory(authority=calm, due_date=TODAY - dt.timedelta(days=2), last_note_at=NOW)
    client.force_login(leader)

    response = client.get(URL, {"sort": "-overdue"})

    names = [r.authority.name for r in response.context["rows"]]
    assert names.index("Busy") < names.index("Calm")
    header = next(h for h in response.context["headers"] if h["label"] == "Overdue")
    assert header["aria_sort"] == "descending"
    assert client.get(URL, {"sort": "nonsense"}).status_code == 200


def test_figures_are_cached_and_say_how_old_they_are(client, leader, settings):
    """Within the cache time a new action is not yet counted, and the page says when it was."""
    settings.NATIONAL_OVERVIEW_CACHE_SECONDS = 300
    authority = AuthorityFactory(name="Cached")
    client.force_login(leader)
    with freeze_time(NOW) as frozen:
        ActionFactory(authority=authority, last_note_at=NOW)
        first = client.get(URL)
        ActionFactory(authority=authority, last_note_at=NOW)
        frozen.tick(dt.timedelta(minutes=2))
        second = client.get(URL)
        frozen.tick(dt.timedelta(minutes=4))
        third = client.get(URL)

    def figure(response):
        return next(r for r in response.context["rows"] if r.authority == authority).figures.open

    assert (figure(first), figure(second), figure(third)) == (1, 1, 2)
    assert "as at 3:27pm" in second.content.decode()
    assert "as at 3:33pm" in third.content.decode()


@freeze_time(NOW)
def test_inspections_are_shown_as_recorded_now_while_figures_are_cached(client, leader, settings):
    """The authorities' rows are kept as rendered for the same cells only: a judgement recorded
    since shows at once, though the action figures are still the cached ones."""
    settings.NATIONAL_OVERVIEW_CACHE_SECONDS = 300
    authority = AuthorityFactory(name="Newly judged")
    inspection = InspectionFactory(authority=authority, start_date=TODAY - dt.timedelta(days=40))
    client.force_login(leader)

    before = client.get(URL).content.decode()
    JudgementFactory(inspection=inspection, area="Overall", grade="inadequate", is_overall=True)
    after = client.get(URL).content.decode()

    assert ">Not graded</td>" in before
    assert ">Not graded</td>" not in after
    assert ">Inadequate</td>" in after


def test_fixed_number_of_queries_at_two_sizes(client, leader, settings):
    """The same queries for 2 authorities with a few actions as for 12 with many (no cache)."""
    settings.NATIONAL_OVERVIEW_CACHE_SECONDS = 0

    def count_queries() -> int:
        client.force_login(leader)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    def grow(n_authorities: int, n_actions: int):
        for _ in range(n_authorities):
            inspection = InspectionFactory()
            JudgementFactory(inspection=inspection, area="Overall", is_overall=True)
            area = ImprovementAreaFactory(inspection=inspection)
            bulk_actions(n_actions, area=area, owner=leader)

    grow(2, 2)
    few = count_queries()
    grow(10, 30)
    assert count_queries() == few


def test_fixed_number_of_queries_from_the_cache_at_two_sizes(client, leader, settings):
    """With the figures cached: one query fewer than counting them, at either size."""
    settings.NATIONAL_OVERVIEW_CACHE_SECONDS = 300
    client.force_login(leader)

    def count_queries() -> tuple[int, int]:
        cache.clear()
        counted = []
        for _ in range(2):  # the first counts the figures, the second reads them cached
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL).status_code == 200
            counted.append(len(queries))
        return counted[0], counted[1]

    for _ in range(2):
        inspection = InspectionFactory()
        bulk_actions(2, area=ImprovementAreaFactory(inspection=inspection), owner=leader)
    missed, hit = count_queries()
    assert hit == missed - 1
    for _ in range(10):
        inspection = InspectionFactory(publication_date=None)
        JudgementFactory(inspection=inspection, area="Overall", is_overall=True)
        bulk_actions(30, area=ImprovementAreaFactory(inspection=inspection), owner=leader)
    assert count_queries() == (missed, hit)


def test_working_days_are_counted_as_the_day_by_day_walk_counts_them():
    """The clock's arithmetic count (fast enough for every authority) equals walking the days."""
    import random

    from improvement import clock

    def walk(a, b):
        if b < a:
            return -walk(b, a)
        days = (a + dt.timedelta(days=i) for i in range(1, (b - a).days + 1))
        return sum(1 for day in days if clock.is_working_day(day))

    rng = random.Random(15)
    for _ in range(300):
        a = dt.date(2013, 1, 1) + dt.timedelta(days=rng.randint(0, 5000))
        b = a + dt.timedelta(days=rng.randint(-800, 800))
        assert clock.working_days_between(a, b) == walk(a, b), (a, b)
