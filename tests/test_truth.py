"""What leaders and owners see is true: one "last updated", decisions reach the owner, the nav."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time

from improvement import roles, services
from improvement.models import Action
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    OwnerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(NOW):
        yield


@pytest.fixture
def authority():
    return AuthorityFactory(name="Knowsley")


@pytest.fixture
def area(authority):
    return ImprovementAreaFactory(inspection=InspectionFactory(authority=authority))


@pytest.fixture
def owner(authority):
    return OwnerFactory(authority=authority, username="priya")


@pytest.fixture
def leader(authority):
    return LeaderFactory(authority=authority, username="alison")


def _action(area, owner, **kwargs):
    return ActionFactory(
        authority=area.inspection.authority, owner=owner, improvement_areas=[area], **kwargs
    )


# One definition of "last updated"


def test_last_updated_is_the_latest_note_on_every_page(client, area, owner, leader):
    noted = _action(area, owner, title="Noted action")
    services.action_record_progress(
        action=noted,
        by=owner,
        expected_version=noted.version,
        text="Audit done.",
        at=dt.datetime(2026, 6, 25, 9, 0, tzinfo=dt.UTC),
    )
    silent = _action(area, owner, title="Silent action")
    client.force_login(owner)
    pages = {
        "list": client.get(reverse("improvement:action-list")).content.decode(),
        "mine": client.get(reverse("improvement:my-actions")).content.decode(),
    }
    for html in pages.values():
        assert "25 Jun 2026" in html
        assert "No progress note yet" in html
        # The creation (today) is never passed off as an update.
        assert "1 Dec 2026" not in html
    detail = client.get(noted.get_absolute_url()).content.decode()
    assert "Last updated" in detail and "25 June 2026" in detail
    assert "No progress note yet" in client.get(silent.get_absolute_url()).content.decode()
    client.force_login(leader)
    dashboard = client.get(
        reverse("improvement:dashboard-authority", args=[area.inspection.authority.pk])
    ).content.decode()
    assert "25 Jun 2026" in dashboard


# Decisions reach the owner


def _delivered_and_sent_back(area, owner, leader):
    action = _action(area, owner, delivery_status=Action.DeliveryStatus.DELIVERED)
    services.action_send_back(
        action=action,
        by=leader,
        expected_version=action.version,
        reason="The audit shows no change for children yet.",
    )
    action.refresh_from_db()
    return action


def test_the_owner_sees_a_send_back_and_its_reason_until_they_act(client, area, owner, leader):
    action = _delivered_and_sent_back(area, owner, leader)
    client.force_login(owner)
    mine = client.get(reverse("improvement:my-actions")).content.decode()
    assert "Sent back" in mine
    assert "The audit shows no change for children yet." in mine
    detail = client.get(action.get_absolute_url()).content.decode()
    assert "A senior leader sent this action back" in detail
    assert "The audit shows no change for children yet." in detail
    services.action_record_progress(
        action=action, by=owner, expected_version=action.version, text="Re-audit booked."
    )
    detail = client.get(action.get_absolute_url()).content.decode()
    assert "A senior leader sent this action back" not in detail


def test_the_owner_sees_a_refused_date_and_the_reason_until_they_act(client, area, owner, leader):
    action = _action(area, owner)
    change = services.due_date_change_request(
        action=action,
        by=owner,
        new_date=action.due_date + dt.timedelta(days=60),
        reason="Recruitment delayed.",
        today=NOW.date(),
    )
    services.due_date_change_decide(
        change=change, by=leader, approve=False, note="Use agency staff meanwhile."
    )
    client.force_login(owner)
    mine = client.get(reverse("improvement:my-actions")).content.decode()
    assert "New date refused" in mine
    assert "Use agency staff meanwhile." in mine
    detail = client.get(action.get_absolute_url()).content.decode()
    assert "A senior leader refused the new due date" in detail
    assert "Use agency staff meanwhile." in detail
    action.refresh_from_db()
    with freeze_time(NOW + dt.timedelta(hours=1)):
        services.action_record_progress(
            action=action, by=owner, expected_version=action.version, text="Agency booked."
        )
        mine = client.get(reverse("improvement:my-actions")).content.decode()
    assert "New date refused" not in mine


def test_an_approved_date_is_no_decision_to_act_on(client, area, owner, leader):
    action = _action(area, owner)
    change = services.due_date_change_request(
        action=action,
        by=owner,
        new_date=action.due_date + dt.timedelta(days=60),
        reason="Recruitment delayed.",
        today=NOW.date(),
    )
    services.due_date_change_decide(change=change, by=leader, approve=True)
    client.force_login(owner)
    assert "New date refused" not in client.get(reverse("improvement:my-actions")).content.decode()


@pytest.mark.parametrize("size", [2, 12])
def test_my_actions_with_decisions_runs_a_fixed_number_of_queries(
    client, area, owner, leader, size
):
    for _ in range(size // 2):
        _delivered_and_sent_back(area, owner, leader)
        action = _action(area, owner)
        change = services.due_date_change_request(
            action=action,
            by=owner,
            new_date=action.due_date + dt.timedelta(days=9),
            reason="Late.",
            today=NOW.date(),
        )
        services.due_date_change_decide(change=change, by=leader, approve=False, note="No")
    client.force_login(owner)
    url = reverse("improvement:my-actions")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    assert html.count("New date refused") == size // 2
    # The same at both sizes: the decisions are subqueries of the one list query.
    # Session, the user with their roles, the capped count, the page's ids, then those rows
    # with their decisions.
    assert len(queries) == 5, [q["sql"] for q in queries.captured_queries]


# Navigation by role


def _nav(client, user) -> list[str]:
    client.force_login(user)
    html = client.get(reverse("improvement:action-list")).content.decode()
    menu = html[html.index('id="navigation"') : html.index("</nav>")]
    return re.findall(r'govuk-service-navigation__link"[^>]*>\s*(?:<strong[^>]*>)?([^<]+)', menu)


def test_each_role_is_offered_only_pages_it_can_use(client, authority):
    board = UserFactory(authority=authority, role=roles.BOARD_VIEWER)
    owner = OwnerFactory(authority=authority)
    leader = LeaderFactory(authority=authority)
    shared = ["Actions", "Dashboard", "Inspections", "Board packs", "Deadline changes"]
    assert _nav(client, board) == [*shared, "Board", "Your emails"]
    assert _nav(client, owner) == ["My actions", *shared, "Board", "Your emails"]
    assert "Sign-off" in _nav(client, leader) and "My actions" in _nav(client, leader)
    # Every page offered answers 200 for the role that is offered it.
    for user in (board, owner, leader):
        client.force_login(user)
        html = client.get(reverse("improvement:action-list")).content.decode()
        menu = html[html.index('id="navigation"') : html.index("</nav>")]
        for href in re.findall(r'href="([^"]+)"', menu):
            assert client.get(href, follow=True).status_code == 200, (user, href)
    client.force_login(board)
    assert client.get(reverse("improvement:my-actions")).status_code == 403


# Times in GOV.UK style


@pytest.mark.parametrize(
    ("hour", "minute", "shown"),
    [(19, 6, "7:06pm"), (10, 0, "10am"), (12, 0, "midday"), (0, 0, "midnight"), (0, 30, "12:30am")],
)
def test_times_read_govuk_style(hour, minute, shown):
    from improvement.templatetags.govuk_dates import govuk_datetime, govuk_time

    assert govuk_time(dt.time(hour, minute)) == shown
    when = dt.datetime(2026, 12, 3, hour, minute, tzinfo=dt.UTC)
    assert govuk_datetime(when) == f"3 December 2026 at {shown}"


def test_a_note_time_reads_govuk_style_on_the_action_page(client, area, owner):
    action = _action(area, owner)
    services.action_record_progress(
        action=action,
        by=owner,
        expected_version=action.version,
        text="Audit done.",
        at=dt.datetime(2026, 11, 30, 19, 6, tzinfo=dt.UTC),
    )
    client.force_login(owner)
    html = client.get(action.get_absolute_url()).content.decode()
    assert "30 November 2026 at 7:06pm" in html
    assert "p.m." not in html


def test_headline_cards_are_coloured_by_meaning(client, area, owner, leader):
    authority = area.inspection.authority
    _action(area, owner, due_date=NOW.date() + dt.timedelta(days=5))
    client.force_login(leader)
    html = client.get(reverse("improvement:dashboard-authority", args=[authority.pk])).content
    html = html.decode()
    assert 'class="app-stat app-stat--amber" id="stat-due_soon"' in html
    assert 'class="app-stat" id="stat-overdue"' in html
