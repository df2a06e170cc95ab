"""The leaders' dashboard: correct counts, scope, links to exactly those actions, fixed queries."""

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from improvement import roles, services
from improvement.filters import ActionFilter
from improvement.models import (
    Action,
    DueDateChange,
    Finding,
    ImprovementArea,
    Inspection,
    Measure,
    MeasureValue,
    ProgressNote,
)
from improvement.selectors import dashboard as reads
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    DueDateChangeFactory,
    FindingFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    JudgementFactory,
    LeaderFactory,
    MeasureFactory,
    MeasureValueFactory,
    OwnerFactory,
    TeamFactory,
    ThemeFactory,
    UserFactory,
    bulk_actions,
)

NOW = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(12, 0)))
pytestmark = pytest.mark.django_db


def _ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def _action(authority, *, created_days_ago: int = 0, **fields) -> Action:
    fields.setdefault("start_date", TODAY - dt.timedelta(days=400))
    fields.setdefault("last_note_at", NOW)
    action = ActionFactory(authority=authority, **fields)
    Action.objects.filter(pk=action.pk).update(created_at=_ago(created_days_ago))
    return action


def _close(action: Action, *, by, evidenced: bool = True) -> None:
    Action.objects.filter(pk=action.pk).update(
        delivery_status=Action.DeliveryStatus.DELIVERED,
        impact_status=Action.ImpactStatus.EVIDENCED
        if evidenced
        else Action.ImpactStatus.CLOSED_WITHOUT_IMPACT,
        rag=Action.Rag.BLUE,
        signed_off_by=by,
        signed_off_at=NOW,
    )


@pytest.fixture
def authority():
    return AuthorityFactory(name="Knowsley")


@pytest.fixture
def local_leader(authority):
    return LeaderFactory(username="dcs", authority=authority)


@pytest.fixture
def edge_cases(authority, local_leader):
    """One action per edge case, named by what it should count as, on 1 December 2026."""
    other = AuthorityFactory(name="Elsewhere")
    delivered = Action.DeliveryStatus.DELIVERED
    made = {
        "due_yesterday": _action(authority, due_date=TODAY - dt.timedelta(days=1)),
        "due_long_ago_red": _action(
            authority, due_date=TODAY - dt.timedelta(days=50), rag=Action.Rag.RED
        ),
        "due_today": _action(authority, due_date=TODAY),
        "due_in_30": _action(authority, due_date=TODAY + dt.timedelta(days=30)),
        "due_in_31": _action(authority, due_date=TODAY + dt.timedelta(days=31)),
        "delivered_late": _action(
            authority, due_date=TODAY - dt.timedelta(days=5), delivery_status=delivered
        ),
        "delivered_due_soon": _action(
            authority, due_date=TODAY + dt.timedelta(days=5), delivery_status=delivered
        ),
        "closed_long_ago": _action(
            authority, due_date=TODAY - dt.timedelta(days=90), last_note_at=_ago(100)
        ),
        "closed_without_impact": _action(authority, last_note_at=_ago(100)),
        "note_31_days_ago": _action(authority, last_note_at=_ago(31)),
        "note_29_days_ago": _action(authority, last_note_at=_ago(29)),
        "never_noted_old": _action(authority, last_note_at=None, created_days_ago=40),
        "never_noted_new": _action(authority, last_note_at=None, created_days_ago=10),
        "slipped_twice": _action(authority, due_date_change_count=2),
        "slipped_once": _action(authority, due_date_change_count=1),
        "in_progress_amber": _action(
            authority,
            delivery_status=Action.DeliveryStatus.IN_PROGRESS,
            rag=Action.Rag.AMBER,
        ),
    }
    _close(made["closed_long_ago"], by=local_leader)
    _close(made["closed_without_impact"], by=local_leader, evidenced=False)
    DueDateChangeFactory(action=made["slipped_once"])
    DueDateChangeFactory(
        action=made["slipped_twice"],
        status=DueDateChange.Status.REFUSED,
        decided_by=local_leader,
        decided_at=NOW,
    )
    # Another authority's overdue, stale, slipped action must never be counted.
    stranger = _action(
        other,
        due_date=TODAY - dt.timedelta(days=3),
        last_note_at=None,
        created_days_ago=90,
        due_date_change_count=3,
    )
    DueDateChangeFactory(action=stranger)
    return made


def _names(edge_cases, actions) -> set[str]:
    by_pk = {action.pk: name for name, action in edge_cases.items()}
    return {by_pk[a.pk] for a in actions}


@freeze_time(NOW)
def test_counts_follow_the_definitions_at_every_edge(authority, edge_cases):
    """Due today is not overdue; delivered and closed are never overdue; closed is never stale."""
    counts = reads.dashboard_action_counts(authority=authority, today=TODAY, now=NOW)

    assert counts["total"] == 16
    assert counts["open"] == 14
    assert counts["overdue"] == 2  # due yesterday and due 50 days ago
    # Due today up to today + 30, not delivered: due today, due in 30, and the 11 due in 60 days
    # are outside; delivered_due_soon is delivered so it has met its deadline.
    assert counts["due_soon"] == 2
    assert counts["stale"] == 2  # note 31 days ago; never noted and created 40 days ago
    assert counts["slipped"] == 1
    assert counts["awaiting_sign_off"] == 2  # delivered_late and delivered_due_soon
    assert counts["pending_deadline_changes"] == 1
    assert counts["status_delivered"] == 4
    assert counts["status_in_progress"] == 1
    assert counts["status_not_started"] == 11
    assert counts["rag_red"] == 1
    assert counts["rag_amber"] == 1
    assert counts["rag_blue"] == 2
    assert counts["rag_green"] == 12
    assert counts["impact_not_assessed"] == 14
    assert counts["impact_evidenced"] == 1
    assert counts["impact_closed_without_impact"] == 1


@freeze_time(NOW)
def test_exception_lists_hold_exactly_the_counted_actions(authority, edge_cases):
    """The overdue and stale lists are the counted actions, most overdue or silent first."""
    overdue = reads.dashboard_overdue_actions(authority=authority, today=TODAY)
    stale = reads.dashboard_stale_actions(authority=authority, now=NOW)

    assert [edge_cases["due_long_ago_red"].pk, edge_cases["due_yesterday"].pk] == [
        a["pk"] for a in overdue
    ]
    assert _names(edge_cases, [SimpleNamespace(pk=a["pk"]) for a in stale]) == {
        "note_31_days_ago",
        "never_noted_old",
    }
    assert stale[0]["pk"] == edge_cases["never_noted_old"].pk  # silent for 40 days, before 31


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"overdue": "1"}, {"due_yesterday", "due_long_ago_red"}),
        ({"due_within": "30"}, {"due_today", "due_in_30"}),
        ({"stale": "1"}, {"note_31_days_ago", "never_noted_old"}),
        ({"slipped": "1"}, {"slipped_twice"}),
        ({"awaiting_sign_off": "1"}, {"delivered_late", "delivered_due_soon"}),
        ({"rag": "red"}, {"due_long_ago_red"}),
        ({"status": "in_progress"}, {"in_progress_amber"}),
        ({"impact": "closed_without_impact"}, {"closed_without_impact"}),
    ],
)
def test_each_count_link_filters_the_action_list_to_exactly_those_actions(
    client, authority, local_leader, edge_cases, params, expected
):
    """Following a count's link gives the same actions the count counted, and no others."""
    client.force_login(local_leader)
    page = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))
    hrefs = [
        href.replace("&amp;", "&")
        for href in re.findall(r'href="([^"]*)"', page.content.decode())
        if href.startswith(reverse("improvement:action-list") + "?")
    ]
    wanted = {"authority": str(authority.pk), **params}
    matching = [h for h in hrefs if dict(parse_qsl(urlsplit(h).query)) == wanted]
    assert matching, f"no link with {wanted} among {hrefs}"

    action_filter = ActionFilter(
        dict(parse_qsl(urlsplit(matching[0]).query)),
        queryset=Action.objects.all(),
        request=SimpleNamespace(user=local_leader),
        today=TODAY,
        now=NOW,
    )
    assert action_filter.is_valid(), action_filter.errors
    assert _names(edge_cases, action_filter.qs) == expected


@freeze_time(NOW)
def test_page_shows_the_counts_and_lists(client, authority, local_leader, edge_cases):
    """The page shows each headline count and the overdue list with days overdue."""
    client.force_login(local_leader)
    response = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    counts = {stat["key"]: stat["count"] for stat in response.context["headline"]}
    assert counts == {
        "overdue": 2,
        "due_soon": 2,
        "stale": 2,
        "slipped": 1,
        "awaiting_sign_off": 2,
        "pending_deadline_changes": 1,
    }
    rows = response.context["overdue_rows"]
    assert [(row["pk"], row["days"]) for row in rows] == [
        (edge_cases["due_long_ago_red"].pk, 50),
        (edge_cases["due_yesterday"].pk, 1),
    ]
    assert 'id="stat-overdue"' in html
    # A local leader sees the deadline register link: it lists exactly their authority.
    assert reverse("improvement:deadline-list") in html


@freeze_time(NOW)
def test_exception_lists_stop_at_ten_and_link_to_all(client, authority, local_leader):
    """Twelve overdue actions list ten rows and a "See all 12" link to the filtered list."""
    for days in range(1, 13):
        _action(authority, due_date=TODAY - dt.timedelta(days=days))
    client.force_login(local_leader)
    response = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))

    assert len(response.context["overdue_rows"]) == 10
    assert response.context["overdue_rows"][0]["days"] == 12
    assert "See all 12 overdue actions" in response.content.decode()


def test_owner_sees_the_dashboard_read_only(client, authority):
    """Any role in scope may read the dashboard; it offers no change controls."""
    owner = OwnerFactory(authority=authority)
    _action(authority, owner=owner)
    client.force_login(owner)
    response = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<form" not in html.split('id="main-content"')[1]


def test_empty_authority_dashboard_says_so(client, authority, local_leader):
    """An authority with no actions, inspections or measures gets a page that says so."""
    client.force_login(local_leader)
    response = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No inspections are recorded for Knowsley." in html
    assert "No Ofsted inspection of Knowsley that needs an action plan is recorded" in html
    assert "No measures of children" in html
    assert "No action is overdue." in html


def test_board_viewer_sees_the_dashboard(client, authority):
    """Board members read the dashboard of their authority."""
    viewer = UserFactory(role=roles.BOARD_VIEWER, authority=authority)
    client.force_login(viewer)
    response = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))
    assert response.status_code == 200


def test_another_authoritys_dashboard_is_not_found(client, local_leader):
    """A leader of one authority gets 404 for another's dashboard, not a hint it exists."""
    other = AuthorityFactory(name="Elsewhere")
    client.force_login(local_leader)
    response = client.get(reverse("improvement:dashboard-authority", args=[other.pk]))
    assert response.status_code == 404


def test_user_without_a_role_is_refused(client, authority):
    """A signed-in user with no role sees neither the dashboard nor an authority's page."""
    nobody = UserFactory(authority=authority)
    client.force_login(nobody)
    assert client.get(reverse("improvement:dashboard")).status_code == 403
    url = reverse("improvement:dashboard-authority", args=[authority.pk])
    assert client.get(url).status_code == 404


def test_dashboard_requires_login(client, authority):
    """Signed-out visitors are sent to sign in."""
    for url in (
        reverse("improvement:dashboard"),
        reverse("improvement:dashboard-authority", args=[authority.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_authority_user_is_sent_to_their_authoritys_dashboard(client, authority, local_leader):
    """/dashboard/ takes a user with an authority to that authority's dashboard."""
    client.force_login(local_leader)
    response = client.get(reverse("improvement:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("improvement:dashboard-authority", args=[authority.pk])


def test_national_user_is_sent_to_the_national_overview(client, leader):
    """/dashboard/ takes a national user to the national overview (tests/test_national.py)."""
    client.force_login(leader)
    response = client.get(reverse("improvement:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("improvement:national")


def test_national_user_may_open_any_authoritys_dashboard(client, leader, authority):
    """A national leader opens any authority's dashboard."""
    client.force_login(leader)
    url = reverse("improvement:dashboard-authority", args=[authority.pk])
    assert client.get(url).status_code == 200


# Home landing


def test_home_sends_owners_to_their_actions(client, owner):
    """Owners land on My actions."""
    client.force_login(owner)
    response = client.get(reverse("improvement:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("improvement:my-actions")


@pytest.mark.parametrize("fixture", ["leader", "board_viewer", "administrator"])
def test_home_sends_leaders_board_and_admins_to_the_dashboard(client, request, fixture):
    """Leaders, board viewers and administrators land on the dashboard."""
    client.force_login(request.getfixturevalue(fixture))
    response = client.get(reverse("improvement:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("improvement:dashboard")


def test_leader_who_also_owns_actions_lands_on_the_dashboard(client, authority):
    """A senior leader who is also an action owner lands on the dashboard."""
    user = LeaderFactory(authority=authority)
    user.groups.add(Group.objects.get(name=roles.ACTION_OWNER))
    client.force_login(user)
    response = client.get(reverse("improvement:home"))
    assert response["Location"] == reverse("improvement:dashboard")


# Gaps, themes, measures, history, clock


@pytest.fixture
def history(authority):
    """2014 SIF (no plan), 2021 ILACS (answered in part), 2024 ILACS (graded, unanswered)."""
    care_leavers = ThemeFactory(slug="care-leavers", name="Care leavers")
    oversight = ThemeFactory(slug="management-oversight", name="Management oversight")
    once = ThemeFactory(slug="private-fostering", name="Private fostering")
    sif = InspectionFactory(
        authority=authority,
        kind=Inspection.Kind.SIF,
        start_date=dt.date(2014, 4, 29),
    )
    JudgementFactory(
        inspection=sif, area="Overall effectiveness", grade="inadequate", is_overall=True
    )
    sif_area = ImprovementAreaFactory(inspection=sif, text="SIF area nobody answered")
    sif_area.themes.add(care_leavers)
    ilacs = InspectionFactory(authority=authority, start_date=dt.date(2021, 10, 11))
    JudgementFactory(inspection=ilacs, area="Leaders", grade="requires_improvement_to_be_good")
    answered = ImprovementAreaFactory(inspection=ilacs, text="Answered area")
    unanswered = ImprovementAreaFactory(
        inspection=ilacs, text="Unanswered 2021 area", is_priority_action=True
    )
    behind_answered = FindingFactory(inspection=ilacs, number=1, text="Behind answered")
    behind_unanswered = FindingFactory(inspection=ilacs, number=2, text="Behind unanswered")
    behind_both = FindingFactory(inspection=ilacs, number=3, text="Behind both")
    FindingFactory(inspection=ilacs, number=4, text="Behind nothing")
    behind_unanswered.themes.add(once)
    behind_answered.themes.add(oversight)
    answered.supporting_findings.add(behind_answered, behind_both)
    unanswered.supporting_findings.add(behind_unanswered, behind_both)
    answered.themes.add(care_leavers)
    action = _action(authority, improvement_areas=[answered])
    closed = _action(authority, improvement_areas=[answered])
    _close(closed, by=LeaderFactory())
    latest = InspectionFactory(
        authority=authority,
        start_date=dt.date(2024, 11, 18),
        publication_date=dt.date(2026, 11, 2),
    )
    JudgementFactory(
        inspection=latest, area="Overall effectiveness", grade="inadequate", is_overall=True
    )
    ImprovementAreaFactory(inspection=latest, text="Latest area")
    latest_finding = FindingFactory(inspection=latest, number=1, text="Latest paragraph")
    latest_finding.themes.add(oversight, care_leavers)
    return {"sif": sif, "ilacs": ilacs, "latest": latest, "action": action}


def test_gaps_cover_the_latest_graded_inspection_and_those_the_plan_answers(authority, history):
    """Unanswered areas and unsupported paragraphs, per inspection; an old report without a plan
    is history, not a gap."""
    inspections = reads.dashboard_inspections(authority=authority)
    gaps = reads.dashboard_plan_gaps(inspections=reads.current_inspections(inspections))

    by_inspection = {
        g.inspection.pk: (
            [a.text for a in g.areas_without_action],
            [f.text for f in g.findings_without_action],
        )
        for g in gaps
    }
    assert by_inspection == {
        history["ilacs"].pk: (["Unanswered 2021 area"], ["Behind unanswered", "Behind nothing"]),
        history["latest"].pk: (["Latest area"], ["Latest paragraph"]),
    }


def test_recurring_themes_count_distinct_inspections_and_open_actions(authority, history):
    """A theme in two or more inspections is listed with them and its open actions."""
    inspections = reads.dashboard_inspections(authority=authority)
    themes = reads.dashboard_recurring_themes(authority=authority, inspections=inspections)

    rows = {
        r.theme.slug: ([i.pk for i in r.inspections], r.open_actions, r.actions) for r in themes
    }
    sif, ilacs, latest = history["sif"].pk, history["ilacs"].pk, history["latest"].pk
    assert rows == {
        # Tagged on an area the two actions answer: both count, one is open.
        "care-leavers": ([sif, ilacs, latest], 1, 2),
        "management-oversight": ([ilacs, latest], 0, 0),
    }
    assert [r.theme.slug for r in themes] == ["care-leavers", "management-oversight"]


@freeze_time(NOW)
def test_page_shows_history_clock_gaps_and_themes(client, authority, local_leader, history):
    """Judgements oldest first with exact wording, the clock, the gaps and recurring themes."""
    client.force_login(local_leader)
    response = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))
    html = response.content.decode()

    assert [i.pk for i in response.context["inspections"]] == [
        history["sif"].pk,
        history["ilacs"].pk,
        history["latest"].pk,
    ]
    assert "Requires improvement to be good" in html
    assert "No overall judgement" in html
    assert "Unanswered 2021 area" in html
    assert "SIF area nobody answered" not in html
    assert history["latest"].get_absolute_url() in html
    # Inspection named without a stray space before the full stop.
    assert "ILACS standard inspection, November 2024</a>, report published" in html
    clock = response.context["clock"]
    assert response.context["clock_inspection"] == history["latest"]
    assert clock.final is not None
    assert "Final action plan" in html
    assert (
        f'href="{reverse("improvement:action-list")}?authority={authority.pk}&amp;theme=care-leavers"'
        in html
    )


@freeze_time(NOW)
def test_measures_show_the_latest_value_against_target(authority):
    """The latest value is the most recent by date, not by entry; on target and trend follow."""
    rising = MeasureFactory(authority=authority, name="A rising")
    MeasureValueFactory(
        measure=rising, recorded_on=TODAY - dt.timedelta(days=10), value=Decimal("85")
    )
    MeasureValueFactory(
        measure=rising, recorded_on=TODAY - dt.timedelta(days=100), value=Decimal("95")
    )
    falling = MeasureFactory(
        authority=authority,
        name="B lower is better",
        direction="down",
        baseline_value=Decimal("20"),
        target_value=Decimal("10"),
    )
    MeasureValueFactory(measure=falling, recorded_on=TODAY, value=Decimal("9"))
    MeasureFactory(authority=authority, name="C no values")
    MeasureFactory(name="Another authority's")

    progress = reads.dashboard_measures(authority=authority)

    assert [(p.measure.name, p.latest_value) for p in progress] == [
        ("A rising", Decimal("85")),
        ("B lower is better", Decimal("9")),
        ("C no values", None),
    ]
    a, b, c = progress
    assert (a.on_target, a.improving, a.percent_of_way) == (False, True, 50)  # 78 -> 85 of 92
    assert (b.on_target, b.improving, b.percent_of_way) == (True, True, 100)
    assert (c.on_target, c.improving, c.percent_of_way) == (None, None, 0)


def test_progress_from_prefetched_values_matches_the_dashboard(
    authority, django_assert_num_queries
):
    """Rows built from prefetched values, with no query, agree with the dashboard's."""
    rising = MeasureFactory(authority=authority, name="A rising")
    MeasureValueFactory(
        measure=rising, recorded_on=TODAY - dt.timedelta(days=10), value=Decimal("85")
    )
    MeasureValueFactory(
        measure=rising, recorded_on=TODAY - dt.timedelta(days=100), value=Decimal("95")
    )
    MeasureFactory(authority=authority, name="B no values")
    measures = list(
        Measure.objects.filter(authority=authority).order_by("name").prefetch_related("values")
    )

    with django_assert_num_queries(0):
        rows = [reads.measure_progress_from_prefetched(m) for m in measures]

    expected = reads.dashboard_measures(authority=authority)
    assert [(r.measure, r.latest_value, r.latest_on) for r in rows] == [
        (p.measure, p.latest_value, p.latest_on) for p in expected
    ]
    assert (rows[0].on_target, rows[0].improving) == (False, True)
    assert (rows[1].has_value, rows[1].on_target) == (False, None)


@freeze_time(NOW)
def test_clock_follows_the_latest_inspection_with_a_published_report(
    client, authority, local_leader, history
):
    """A later monitoring visit whose report is not yet published does not hide the clock that
    runs from the published inspection."""
    InspectionFactory(
        authority=authority,
        kind=Inspection.Kind.MONITORING_VISIT,
        start_date=dt.date(2026, 11, 17),
        end_date=dt.date(2026, 11, 18),
        publication_date=None,
    )
    client.force_login(local_leader)
    response = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))

    assert response.context["clock_inspection"] == history["latest"]
    assert response.context["clock"].is_running
    html = response.content.decode()
    assert "For the latest inspection that needs an action plan:" in html
    assert "Final action plan" in html


@freeze_time(NOW)
def test_clock_without_a_publication_date_says_it_cannot_start(client, authority, local_leader):
    """With no published report the latest Ofsted inspection is shown, and why no clock runs."""
    InspectionFactory(authority=authority, start_date=dt.date(2025, 3, 3), publication_date=None)
    latest = InspectionFactory(
        authority=authority, start_date=dt.date(2026, 10, 5), publication_date=None
    )
    client.force_login(local_leader)
    response = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))

    assert response.context["clock_inspection"] == latest
    assert not response.context["clock"].is_running
    html = response.content.decode()
    assert "For the latest inspection that needs an action plan:" in html
    assert "The clock cannot start: the report&#x27;s publication date is not recorded." in html


# Fixed number of queries


def _bulk_plan(authority, *, size: int, owner, team, areas, themes) -> None:
    """`size` actions with areas, themes, notes, deadline requests, built in a few queries."""
    statuses = Action.DeliveryStatus.values
    actions = bulk_actions(
        size,
        area=areas,
        owner=owner,
        authority=authority,
        team=team,
        start_date=TODAY - dt.timedelta(days=400),
        due_date=lambda n: TODAY + dt.timedelta(days=n % 90 - 45),
        delivery_status=lambda n: statuses[n % 3],
        rag=lambda n: ["red", "amber", "green"][n % 3],
        success_measure="Children are better off.",
        last_note_at=lambda n: None if n % 4 == 0 else _ago(n % 60),
        due_date_change_count=lambda n: n % 3,
    )
    Action.themes.through.objects.bulk_create(
        Action.themes.through(action=a, theme=themes[n % len(themes)])
        for n, a in enumerate(actions)
    )
    ProgressNote.objects.bulk_create(
        ProgressNote(action=a, author=owner, created_at=_ago(n % 60), text="Progress.")
        for n, a in enumerate(actions)
    )
    DueDateChange.objects.bulk_create(
        DueDateChange(
            action=a,
            authority_id=a.authority_id,
            old_date=a.due_date,
            new_date=a.due_date + dt.timedelta(days=30),
            reason="More time needed.",
            requested_by=owner,
        )
        for a in actions[::7]
    )


@freeze_time(NOW)
def test_dashboard_runs_the_same_queries_for_10_and_1000_actions(client, authority):
    """Ten or a thousand actions (with notes, values, inspections): the same number of queries."""
    leader = LeaderFactory(authority=authority)
    owner = OwnerFactory(authority=authority)
    team = TeamFactory(authority=authority)
    themes = [ThemeFactory() for _ in range(3)]

    def build(size: int, year: int) -> None:
        # An earlier inspection in each build, so that themes recur whatever the size.
        earlier = InspectionFactory(authority=authority, start_date=dt.date(year - 1, 3, 1))
        FindingFactory(inspection=earlier, number=1).themes.add(*themes)
        inspection = InspectionFactory(authority=authority, start_date=dt.date(year, 3, 1))
        JudgementFactory(
            inspection=inspection, area="Overall effectiveness", grade="good", is_overall=True
        )
        JudgementFactory(inspection=inspection, area="Leaders", grade="inadequate")
        findings = Finding.objects.bulk_create(
            Finding(inspection=inspection, number=n + 1, text=f"Paragraph {n + 1}.")
            for n in range(size // 10 + 5)
        )
        Finding.themes.through.objects.bulk_create(
            Finding.themes.through(finding=f, theme=themes[n % 3]) for n, f in enumerate(findings)
        )
        areas = [
            ImprovementArea.objects.create(inspection=inspection, position=n + 1, text=f"Area {n}")
            for n in range(4)
        ]
        for area in areas:
            area.themes.add(themes[0])
            area.supporting_findings.add(*findings[:3])
        _bulk_plan(authority, size=size, owner=owner, team=team, areas=areas[:3], themes=themes)
        measure = MeasureFactory(authority=authority, name=f"Measure {year}")
        MeasureValue.objects.bulk_create(
            MeasureValue(
                measure=measure,
                recorded_on=TODAY - dt.timedelta(days=n),
                value=Decimal(80 + n % 10),
                recorded_by=owner,
            )
            for n in range(size // 10 + 1)
        )

    def count_queries() -> tuple[int, int, str]:
        """Queries when the figures are counted, then when they are reused from the cache."""
        client.force_login(leader)
        url = reverse("improvement:dashboard-authority", args=[authority.pk])
        cache.clear()
        counted, reused = [], []
        for queries in (counted, reused):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            assert response.status_code == 200
            queries.extend(captured)
        return len(counted), len(reused), response.content.decode()

    build(10, 2020)
    small, small_cached, _ = count_queries()
    build(990, 2024)
    large, large_cached, html = count_queries()

    assert Action.objects.filter(authority=authority).count() == 1000
    assert small == large, f"{small} queries with 10 actions, {large} with 1,000"
    assert small_cached == large_cached, (
        f"cached: {small_cached} with 10, {large_cached} with 1,000"
    )
    # Session, the user with their roles, authority, then one query per section of the page;
    # reusing the figures saves the counts, the themes' two queries and the gaps' two.
    assert large <= 16, f"{large} queries"
    assert large_cached == large - 5
    assert "See all" in html


def test_an_inspection_below_good_with_no_areas_recorded_is_itself_a_gap(authority):
    """Nothing recorded for the plan to answer is a gap; a visit with no judgement is not."""
    graded = InspectionFactory(authority=authority, start_date=dt.date(2024, 11, 18))
    JudgementFactory(inspection=graded, area="Leaders", grade="inadequate")
    good = InspectionFactory(authority=authority, start_date=dt.date(2023, 1, 9))
    JudgementFactory(inspection=good, area="Leaders", grade="good")
    InspectionFactory(
        authority=authority, kind=Inspection.Kind.FOCUSED_VISIT, start_date=dt.date(2025, 2, 3)
    )
    inspections = reads.dashboard_inspections(authority=authority)
    gaps = reads.dashboard_plan_gaps(inspections=reads.live_inspections(inspections))
    assert [(g.inspection, g.no_areas_recorded) for g in gaps] == [(graded, True)]


def test_live_inspections_run_from_the_full_inspection_before_the_latest(authority, history):
    """Visits between the two latest full inspections are live; older ones only while an open
    action answers them."""
    between = InspectionFactory(
        authority=authority, kind=Inspection.Kind.FOCUSED_VISIT, start_date=dt.date(2022, 10, 3)
    )
    old_visit = InspectionFactory(
        authority=authority, kind=Inspection.Kind.FOCUSED_VISIT, start_date=dt.date(2018, 10, 1)
    )
    old_area = ImprovementAreaFactory(inspection=old_visit)
    inspections = reads.dashboard_inspections(authority=authority)
    live = reads.live_inspections(inspections)
    assert live == [history["ilacs"], between, history["latest"]]
    _action(authority, improvement_areas=[old_area])
    live = reads.live_inspections(reads.dashboard_inspections(authority=authority))
    assert live == [old_visit, history["ilacs"], between, history["latest"]]


# The cached figures: recounted on any change to a plan, reused only by a very large plan, and
# then said to be so.


def _headline(client, authority) -> tuple[int, str]:
    page = client.get(reverse("improvement:dashboard-authority", args=[authority.pk]))
    html = page.content.decode()
    overdue = re.search(r'id="stat-overdue".*?app-stat__number">(\d+)<', html, re.S)
    return int(overdue.group(1)), html


def test_a_change_to_the_plan_is_counted_at_once(client, authority, local_leader):
    client.force_login(local_leader)
    with freeze_time(NOW) as clock:
        late = _two_overdue_actions(authority)
        assert _headline(client, authority)[0] == 2
        clock.tick(dt.timedelta(seconds=1))
        _record_delivered(late)
        count, html = _headline(client, authority)

    assert count == 1
    assert 'id="figures-counted-at"' not in html


def _two_overdue_actions(authority) -> Action:
    """Two actions past their due date; returns the later-due one."""
    late = _action(authority, due_date=TODAY - dt.timedelta(days=5))
    _action(authority, due_date=TODAY - dt.timedelta(days=3))
    return late


def _record_delivered(action):
    services.action_record_progress(
        action=action,
        by=action.owner,
        expected_version=action.version,
        text="Delivered to the board.",
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )


def test_a_progress_note_alone_ends_staleness_at_once(authority):
    def stale() -> int:
        now = timezone.now()
        figures = reads.dashboard_figures(authority=authority, inspections=[], today=TODAY, now=now)
        return figures.counts["stale"]

    with freeze_time(NOW) as clock:
        silent = _action(authority, last_note_at=_ago(45), due_date=TODAY + dt.timedelta(days=90))
        Action.objects.filter(pk=silent.pk).update(updated_at=_ago(45))
        assert stale() == 1
        clock.tick(dt.timedelta(seconds=1))
        services.action_record_progress(
            action=silent, by=silent.owner, expected_version=silent.version, text="Audit done."
        )
        assert stale() == 0


def test_a_very_large_plan_reuses_its_figures_and_says_when_they_were_counted(
    client, authority, local_leader, monkeypatch
):
    monkeypatch.setattr(reads, "LARGE_PLAN_ACTIONS", 2)
    client.force_login(local_leader)
    with freeze_time(NOW) as clock:
        late = _two_overdue_actions(authority)
        assert _headline(client, authority)[0] == 2

        clock.tick(dt.timedelta(minutes=2))
        _record_delivered(late)
        count, html = _headline(client, authority)
        assert count == 2, "reused, not recounted"
        said = re.search(r'id="figures-counted-at">(.*?)</p>', html, re.S).group(1)
        said = " ".join(said.split())
        assert "counted at 12:00 (2 minutes ago): changes made since then are not in them" in said
        # The list behind the count is live, and the page says so.
        assert "lists of overdue and stale actions, are as they are now" in said

        clock.tick(dt.timedelta(minutes=4))
        count, html = _headline(client, authority)
        assert count == 1, "recounted once five minutes had passed"
        assert 'id="figures-counted-at"' not in html


@freeze_time(NOW)
def test_with_no_cache_time_the_figures_are_counted_every_time(
    client, authority, local_leader, settings, monkeypatch
):
    settings.DASHBOARD_FIGURES_CACHE_SECONDS = 0
    monkeypatch.setattr(reads, "LARGE_PLAN_ACTIONS", 1)
    client.force_login(local_leader)
    late = _action(authority, due_date=TODAY - dt.timedelta(days=5))
    assert _headline(client, authority)[0] == 1
    Action.objects.filter(pk=late.pk).update(delivery_status=Action.DeliveryStatus.DELIVERED)
    assert _headline(client, authority)[0] == 0


@freeze_time(NOW)
def test_many_measures_show_those_furthest_from_target_and_all_on_asking(
    client, authority, local_leader, monkeypatch
):
    monkeypatch.setattr(reads, "MEASURES_SHOWN", 2)
    owner = OwnerFactory(authority=authority)
    # Higher is better, baseline 50, target 80.
    for name, latest in (("On target", 85), ("Worse", 40), ("Better", 60), ("Empty", None)):
        measure = MeasureFactory(
            authority=authority,
            name=name,
            baseline_value=Decimal(50),
            target_value=Decimal(80),
            direction=Measure.Direction.HIGHER_IS_BETTER,
        )
        if latest is not None:
            MeasureValueFactory(measure=measure, value=Decimal(latest), recorded_by=owner)
    client.force_login(local_leader)
    url = reverse("improvement:dashboard-authority", args=[authority.pk])

    def names(response) -> list[str]:
        outcomes = response.content.decode().split('id="outcomes"')[1].split("</section>")[0]
        return re.findall(r'measure-detail[^"]*">|/measures/\d+/">([^<]+)</a>', outcomes)

    cut = client.get(url)
    assert [n for n in names(cut) if n] == ["Worse", "Better"]
    assert "The 2 of 4 measures furthest from target are shown" in cut.content.decode()
    everything = client.get(url, {"measures": "all"})
    assert [n for n in names(everything) if n] == ["Better", "Empty", "On target", "Worse"]
    assert 'id="measures-cut"' not in everything.content.decode()


def test_large_plans_are_counted_ahead_of_their_readers(
    client, authority, local_leader, monkeypatch
):
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.setattr(reads, "LARGE_PLAN_ACTIONS", 2)
    small = AuthorityFactory(name="Small")
    _action(small, due_date=TODAY - dt.timedelta(days=5))
    with freeze_time(NOW) as clock:
        for days in (5, 3):
            _action(authority, due_date=TODAY - dt.timedelta(days=days))
        out = StringIO()
        call_command("count_large_plans", stdout=out)
        assert out.getvalue().splitlines() == [
            "Knowsley: 2 actions counted",
            "1 large plan counted.",
        ]

        clock.tick(dt.timedelta(minutes=1))
        client.force_login(local_leader)
        count, html = _headline(client, authority)
    assert count == 2
    said = " ".join(re.search(r'id="figures-counted-at">(.*?)</p>', html, re.S).group(1).split())
    assert "counted at 12:00 (1 minute ago)" in said


# The gaps in the plan are counted with the figures, and kept with them.


def _gaps_section(html: str) -> str:
    return html.split('id="gaps"')[1].split("</section>")[0]


def _changed_before_now(authority) -> None:
    # The history fixture is made outside the frozen clock, so its actions are "changed" after
    # NOW; put those changes in the past, as they would be.
    Action.objects.filter(authority=authority).update(updated_at=_ago(1))


def test_gaps_are_recounted_with_the_figures_when_the_plan_changes(
    client, authority, local_leader, history
):
    """A new action answering an area changes the plan, so the gap it closes goes at once."""
    _changed_before_now(authority)
    client.force_login(local_leader)
    url = reverse("improvement:dashboard-authority", args=[authority.pk])
    with freeze_time(NOW) as clock:
        assert "Latest area" in _gaps_section(client.get(url).content.decode())
        clock.tick(dt.timedelta(seconds=1))
        area = ImprovementArea.objects.get(text="Latest area")
        _action(authority, improvement_areas=[area])
        html = client.get(url).content.decode()
    assert "Latest area" not in _gaps_section(html)
    assert 'id="figures-counted-at"' not in html


def test_a_link_that_moves_no_action_still_recounts_at_once(
    client, authority, local_leader, history, django_capture_on_commit_callbacks
):
    """Relinking an action changes no updated_at, which the cached figures watch: the service
    drops them once the change commits, so the gap it closes goes at once."""
    _changed_before_now(authority)
    client.force_login(local_leader)
    url = reverse("improvement:dashboard-authority", args=[authority.pk])
    action = history["action"]
    with freeze_time(NOW) as clock:
        assert "Latest area" in _gaps_section(client.get(url).content.decode())
        clock.tick(dt.timedelta(seconds=1))
        latest_area = ImprovementArea.objects.get(text="Latest area")
        with django_capture_on_commit_callbacks(execute=True):
            services.action_set_links(
                action=action,
                by=local_leader,
                improvement_areas=[*action.improvement_areas.all(), latest_area],
            )
        assert Action.objects.get(pk=action.pk).updated_at == _ago(1)
        html = client.get(url).content.decode()
    assert "Latest area" not in _gaps_section(html)
    assert 'id="figures-counted-at"' not in html


def test_a_newly_recorded_inspection_is_in_the_gaps_at_once(
    client, authority, local_leader, history
):
    """The gaps are kept for the inspections whose plan was live; another live set recounts."""
    client.force_login(local_leader)
    url = reverse("improvement:dashboard-authority", args=[authority.pk])
    with freeze_time(NOW):
        client.get(url)
        visit = InspectionFactory(
            authority=authority,
            kind=Inspection.Kind.FOCUSED_VISIT,
            start_date=dt.date(2026, 6, 1),
        )
        ImprovementAreaFactory(inspection=visit, text="Area of the new visit")
        html = client.get(url).content.decode()
    assert "Area of the new visit" in _gaps_section(html)


def test_a_very_large_plan_says_its_gaps_were_counted_with_its_figures(
    client, authority, local_leader, history, monkeypatch
):
    """Reused gaps are said to be as counted then, not as they are now."""
    monkeypatch.setattr(reads, "LARGE_PLAN_ACTIONS", 2)
    _changed_before_now(authority)
    client.force_login(local_leader)
    url = reverse("improvement:dashboard-authority", args=[authority.pk])
    with freeze_time(NOW) as clock:
        client.get(url)
        clock.tick(dt.timedelta(minutes=2))
        area = ImprovementArea.objects.get(text="Latest area")
        _action(authority, improvement_areas=[area])
        html = client.get(url).content.decode()
    assert "Latest area" in _gaps_section(html), "reused, not recounted"
    said = " ".join(re.search(r'id="figures-counted-at">(.*?)</p>', html, re.S).group(1).split())
    assert (
        "The counts, the themes and the gaps in the plan were counted at 12:00 (2 minutes ago): "
        "changes made since then are not in them yet"
    ) in said


# The measures needing attention are chosen in SQL by the same rule as in Python.


@freeze_time(NOW)
@pytest.mark.parametrize("limit", [1, 3, 4, 5, 6, 8, 30])
def test_measures_chosen_in_sql_are_those_the_python_rule_chooses(authority, limit, monkeypatch):
    """Every rank, both directions, and percentages that fall exactly on a half (12.5 rounds
    to 12 and 13.5 to 14, as Python rounds), at every cut; the board pack chooses alike."""
    owner = OwnerFactory(authority=authority)
    # (name, direction, baseline, target, latest)
    cases = [
        ("a on target", "up", 50, 80, 85),
        ("b not improving", "up", 50, 80, 40),
        ("c half even down", "up", 0, 8, 1),  # 12.5% -> 12
        ("d half even up", "up", 0, 200, 27),  # 13.5% -> 14
        ("e thirteen", "up", 0, 100, 13),  # 13%
        ("f lower is better", "down", 20, 10, 15),  # 50%
        ("g no value", "up", 10, 20, None),
        ("h lower, worse", "down", 20, 10, 25),
        ("i fourteen", "up", 0, 100, 14),  # 14%, after d by name
        ("j lower, on target", "down", 20, 10, 9),
    ]
    for name, direction, baseline, target, latest in cases:
        measure = MeasureFactory(
            authority=authority,
            name=name,
            direction=direction,
            unit=Measure.Unit.COUNT,
            baseline_value=Decimal(baseline),
            target_value=Decimal(target),
        )
        if latest is not None:
            MeasureValueFactory(measure=measure, value=Decimal(latest), recorded_by=owner)
    MeasureFactory(name="Another authority's")

    chosen, total = reads.dashboard_measures_needing_attention(authority=authority, limit=limit)

    every = reads.dashboard_measures(authority=authority)
    assert total == len(cases)
    # All of them fit: name order, as the full list; else the Python rule's choice.
    cut = limit < total
    expected = reads.measures_needing_attention(every, limit=limit) if cut else every
    assert [(p.measure.name, p.latest_value, p.latest_on) for p in chosen] == [
        (p.measure.name, p.latest_value, p.latest_on) for p in expected
    ]
    from improvement.selectors import packs as pack_reads

    monkeypatch.setattr(pack_reads, "PACK_MEASURES_SHOWN", limit)
    in_pack, _, _ = pack_reads._measures(authority, today=TODAY)
    assert [m["name"] for m in in_pack] == [p.measure.name for p in expected]


@freeze_time(NOW)
def test_names_on_the_drawn_rows_are_escaped(client, authority, local_leader, history):
    """The rows drawn in Python escape what people typed, as the template did."""
    MeasureFactory(authority=authority, name='<script>alert("m")</script>')
    _action(authority, title="<b>Bold</b> & more", due_date=TODAY - dt.timedelta(days=2))
    client.force_login(local_leader)
    html = client.get(reverse("improvement:dashboard-authority", args=[authority.pk])).content
    html = html.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;m&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; more" in html
