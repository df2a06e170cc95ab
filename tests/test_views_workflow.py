"""Deadline change requests and decisions, the sign-off queue, sign-off and send-back pages."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from improvement import roles
from improvement.models import Action, DueDateChange, ProgressNote
from improvement.selectors import workflow as workflow_reads
from improvement.views.workflow import RECENT_DECISIONS
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    DueDateChangeFactory,
    EvidenceFactory,
    ImprovementAreaFactory,
    LeaderFactory,
    MeasureFactory,
    MeasureValueFactory,
    OwnerFactory,
    TeamFactory,
    UserFactory,
    bulk_actions,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
ROLES = ["owner", "other_owner", "team_lead", "leader", "board", "admin", "outsider"]


@pytest.fixture(autouse=True)
def _frozen_today():
    """The factories' dates are relative to TODAY; pin the clock to it."""
    with freeze_time(NOW):
        assert timezone.localdate() == TODAY
        yield


@pytest.fixture
def world():
    """One authority's people, each in one role, an open action and a stranger from elsewhere."""
    authority = AuthorityFactory(name="Northshire")
    team_lead = OwnerFactory(authority=authority, first_name="Tess", last_name="Lead")
    people = SimpleNamespace(
        authority=authority,
        owner=OwnerFactory(authority=authority, first_name="Olive", last_name="Owner"),
        other_owner=OwnerFactory(authority=authority),
        team_lead=team_lead,
        leader=LeaderFactory(authority=authority, first_name="Lee", last_name="Leader"),
        leader2=LeaderFactory(authority=authority),
        board=UserFactory(authority=authority, role=roles.BOARD_VIEWER),
        # An Administrator by role (not a superuser, who would bypass every rule).
        admin=UserFactory(authority=authority, role=roles.ADMINISTRATOR),
        outsider=LeaderFactory(authority=AuthorityFactory(name="Elsewhere")),
        nobody=UserFactory(authority=authority),
    )
    people.team = TeamFactory(authority=authority, lead=team_lead)
    people.action = ActionFactory(
        authority=authority,
        owner=people.owner,
        team=people.team,
        title="Improve pathway plans",
        success_measure="Every care leaver has a pathway plan written with them.",
    )
    return people


def deliver(action: Action) -> Action:
    """Mark delivered without the services: the owner's quick update is another page's job."""
    Action.objects.filter(pk=action.pk).update(delivery_status=Action.DeliveryStatus.DELIVERED)
    action.refresh_from_db()
    return action


def date_data(day, month, year, reason="Recruitment took longer than planned."):
    return {"new_date_0": day, "new_date_1": month, "new_date_2": year, "reason": reason}


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# Asking for a new due date


def request_url(action) -> str:
    return reverse("improvement:deadline-request", args=[action.pk])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("other_owner", 403),
        ("team_lead", 200),
        ("leader", 403),
        ("board", 403),
        ("admin", 200),
        ("outsider", 404),
        ("nobody", 404),
    ],
)
def test_deadline_request_page_permissions(client, world, who, status):
    """Owner, team lead and administrator may ask; others are refused; strangers see nothing."""
    client.force_login(getattr(world, who))
    assert client.get(request_url(world.action)).status_code == status


def test_deadline_request_needs_login(client, world):
    response = client.get(request_url(world.action))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["other_owner", "leader", "board"])
def test_forged_deadline_request_is_refused_and_writes_nothing(client, world, who):
    client.force_login(getattr(world, who))
    response = client.post(request_url(world.action), date_data("1", "3", "2027"))
    assert response.status_code == 403
    assert not DueDateChange.objects.exists()


def test_deadline_request_shows_current_original_due_date_and_slippage(client, world):
    """The owner sees where the date stands before asking to move it."""
    action = world.action
    Action.objects.filter(pk=action.pk).update(
        due_date=TODAY + dt.timedelta(days=80), due_date_change_count=1
    )
    client.force_login(world.owner)
    page = client.get(request_url(action)).content.decode()
    assert "Current due date" in page
    assert "19 February 2027" in page  # TODAY + 80
    assert "30 January 2027" in page  # the original, TODAY + 60
    assert "Re-dated 1 time" in page
    assert "20 days later than first planned" in page
    assert 'name="new_date_0"' in page


def test_owner_asks_for_a_new_due_date(client, world):
    """A valid request is recorded as pending; the due date itself does not move yet."""
    client.force_login(world.owner)
    response = client.post(request_url(world.action), date_data("1", "3", "2027"))
    assert response.status_code == 302
    assert response["Location"] == world.action.get_absolute_url()
    change = DueDateChange.objects.get()
    assert change.status == DueDateChange.Status.PENDING
    assert change.old_date == TODAY + dt.timedelta(days=60)
    assert change.new_date == dt.date(2027, 3, 1)
    assert change.requested_by == world.owner
    world.action.refresh_from_db()
    assert world.action.due_date == TODAY + dt.timedelta(days=60)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (date_data("", "", ""), "Enter the new due date"),
        (date_data("1", "", "2027"), "The new due date must include a month"),
        (date_data("", "", "2027"), "The new due date must include a day and month"),
        (date_data("31", "2", "2027"), "The new due date must be a real date"),
        (date_data("3x", "2", "2027"), "The new due date must be a real date"),
        (date_data("1", "3", "27"), "Year must include 4 numbers"),
        (date_data("30", "11", "2026"), "The new due date must be today or in the future"),
        (date_data("30", "1", "2027"), "The new due date must be different from the current"),
        (date_data("1", "3", "2027", reason="   "), "Enter why the due date needs to change"),
    ],
)
def test_bad_deadline_request_shows_errors_keeps_input_and_writes_nothing(
    client, world, data, message
):
    """Impossible, incomplete, past or unchanged dates and a blank reason are refused clearly."""
    client.force_login(world.owner)
    response = client.post(request_url(world.action), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert page.count(message) == 2  # in the error summary and by the field
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Error: " in page
    for key in ("new_date_0", "new_date_1", "new_date_2"):
        if data[key].strip():
            assert f'value="{data[key]}"' in page
    assert not DueDateChange.objects.exists()


def test_error_summary_links_to_the_date_input(client, world):
    client.force_login(world.owner)
    page = client.post(request_url(world.action), date_data("31", "2", "2027")).content.decode()
    assert 'href="#id_new_date_0"' in page
    assert 'id="id_new_date_0"' in page
    assert "govuk-input--error" in page


def test_new_date_before_the_action_starts_is_refused(client, world):
    """An action starting next month cannot be re-dated to before its start."""
    action = ActionFactory(
        authority=world.authority,
        owner=world.owner,
        start_date=TODAY + dt.timedelta(days=30),
        due_date=TODAY + dt.timedelta(days=90),
    )
    client.force_login(world.owner)
    response = client.post(request_url(action), date_data("10", "12", "2026"))
    assert "must be on or after the action&#x27;s start date, 31 December 2026" in (
        response.content.decode()
    )
    assert not DueDateChange.objects.exists()


def test_second_request_while_one_is_pending_is_refused(client, world):
    """Only one request per action waits at a time: the page says so and offers no form."""
    DueDateChangeFactory(action=world.action)
    client.force_login(world.owner)
    page = client.get(request_url(world.action)).content.decode()
    assert "already waiting for a decision" in page
    assert 'name="new_date_0"' not in page
    response = client.post(request_url(world.action), date_data("1", "4", "2027"))
    assert response.status_code == 200
    assert DueDateChange.objects.count() == 1


def test_closed_action_cannot_be_re_dated(client, world):
    action = deliver(world.action)
    EvidenceFactory(action=action)
    Action.objects.filter(pk=action.pk).update(
        impact_status=Action.ImpactStatus.EVIDENCED,
        rag=Action.Rag.BLUE,
        signed_off_by=world.leader,
        signed_off_at=timezone.now(),
    )
    client.force_login(world.owner)
    page = client.get(request_url(action)).content.decode()
    assert "This action is closed" in page
    assert 'name="new_date_0"' not in page
    client.post(request_url(action), date_data("1", "4", "2027"))
    assert not DueDateChange.objects.exists()


# The register of requests


def list_url() -> str:
    return reverse("improvement:deadline-list")


def test_leader_sees_pending_requests_in_scope_with_a_link_to_decide(client, world):
    change = DueDateChangeFactory(action=world.action, reason="Waiting for <b>recruitment</b>")
    elsewhere = DueDateChangeFactory(action=ActionFactory(title="Someone else's action"))
    client.force_login(world.leader)
    page = client.get(list_url()).content.decode()
    assert "Improve pathway plans" in page
    assert "Someone else" not in page
    assert reverse("improvement:deadline-decide", args=[change.pk]) in page
    assert reverse("improvement:deadline-decide", args=[elsewhere.pk]) not in page
    assert "+30 days" in page
    # Markup typed into a reason is shown as text.
    assert "Waiting for &lt;b&gt;recruitment&lt;/b&gt;" in page


def test_board_viewer_sees_the_register_read_only(client, world):
    change = DueDateChangeFactory(action=world.action)
    client.force_login(world.board)
    page = client.get(list_url()).content.decode()
    assert "Improve pathway plans" in page
    assert reverse("improvement:deadline-decide", args=[change.pk]) not in page


def test_requesting_leader_gets_no_decide_link_for_their_own_request(client, world):
    action = ActionFactory(authority=world.authority, owner=world.leader, title="Leader's own")
    change = DueDateChangeFactory(action=action, requested_by=world.leader)
    client.force_login(world.leader)
    page = client.get(list_url()).content.decode()
    assert "Leader&#x27;s own" in page
    assert reverse("improvement:deadline-decide", args=[change.pk]) not in page


def test_owner_sees_only_requests_about_their_own_actions(client, world):
    DueDateChangeFactory(action=world.action)
    DueDateChangeFactory(
        action=ActionFactory(authority=world.authority, owner=world.other_owner, title="Theirs")
    )
    client.force_login(world.owner)
    page = client.get(list_url()).content.decode()
    assert "Improve pathway plans" in page
    assert "Theirs" not in page
    assert "Decide" not in page


def test_recent_decisions_are_listed(client, world):
    DueDateChangeFactory(
        action=world.action,
        status=DueDateChange.Status.REFUSED,
        decided_by=world.leader,
        decided_at=timezone.now(),
        decision_note="Not without a recovery plan.",
    )
    client.force_login(world.leader)
    page = client.get(list_url()).content.decode()
    assert "Recent decisions" in page
    assert "Refused" in page
    assert "Not without a recovery plan." in page


def _decided(action, *, at, by):
    return DueDateChangeFactory(
        action=action,
        status=DueDateChange.Status.APPROVED,
        decided_by=by,
        decided_at=at,
    )


def test_recent_decisions_are_the_newest_in_reach_newest_first(client, world):
    """The page shows the newest few decisions of the user's authority, whatever another has."""
    oldest = timezone.now() - dt.timedelta(days=100)
    ours = [
        _decided(world.action, at=oldest + dt.timedelta(days=i), by=world.leader2)
        for i in range(RECENT_DECISIONS + 3)
    ]
    elsewhere = ActionFactory(authority=world.outsider.authority)
    for i in range(5):
        _decided(elsewhere, at=timezone.now() + dt.timedelta(days=i), by=world.outsider)
    DueDateChangeFactory(action=ActionFactory(authority=world.authority))  # pending: not decided
    client.force_login(world.leader)

    shown = client.get(list_url()).context["decided"]

    assert [c.pk for c in shown] == [c.pk for c in reversed(ours)][:RECENT_DECISIONS]


def test_recent_decisions_for_an_owner_are_only_about_their_own_actions(client, world):
    theirs = ActionFactory(authority=world.authority, owner=world.other_owner)
    newer_but_theirs = _decided(theirs, at=timezone.now(), by=world.leader)
    mine = _decided(world.action, at=timezone.now() - dt.timedelta(days=1), by=world.leader)
    client.force_login(world.owner)

    shown = client.get(list_url()).context["decided"]

    assert [c.pk for c in shown] == [mine.pk]
    assert newer_but_theirs.pk not in [c.pk for c in shown]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's query plan")
def test_recent_decisions_are_read_from_the_authoritys_own_index(world):
    """An authority's newest decisions come, in order, from its own index of decisions (the
    change stores its action's authority): not from joining every change in the country to its
    action and sorting, which took ~84 ms for the largest authority at a million actions."""
    elsewhere = ActionFactory()
    for n in range(30):
        _decided(world.action if n % 3 else elsewhere, at=timezone.now(), by=world.leader)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE improvement_duedatechange")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    plan = workflow_reads.recent_due_date_decisions(
        user=world.leader, limit=RECENT_DECISIONS
    ).explain()
    assert "ddc_auth_decided" in plan
    assert "Sort" not in plan.replace("Sort Key", "")


def test_a_deadline_change_belongs_to_its_actions_authority(world):
    """The stored authority is the action's, whatever the route: the database refuses another."""
    change = DueDateChangeFactory(action=world.action)
    assert change.authority_id == world.action.authority_id
    stranger = ActionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        DueDateChange.objects.filter(pk=change.pk).update(authority=stranger.authority)
    with pytest.raises(IntegrityError), transaction.atomic():
        DueDateChange.objects.create(
            action=world.action,
            authority=stranger.authority,
            old_date=world.action.due_date,
            new_date=world.action.due_date + dt.timedelta(days=7),
            reason="Wrong authority.",
            requested_by=world.owner,
        )


def test_deadline_list_needs_a_role_and_login(client, world):
    assert client.get(list_url()).status_code == 302
    client.force_login(world.nobody)
    assert client.get(list_url()).status_code == 403


def test_deadline_list_query_count_does_not_grow_with_requests(client, world):
    """The same number of queries with 10 and with 1,000 pending requests."""

    def add_requests(n):
        area = ImprovementAreaFactory(inspection__authority=world.authority)
        actions = bulk_actions(n, area=area, owner=world.owner)
        DueDateChange.objects.bulk_create(
            DueDateChange(
                action=a,
                authority_id=a.authority_id,
                old_date=a.due_date,
                new_date=a.due_date + dt.timedelta(days=14),
                reason="More time needed.",
                requested_by=world.owner,
            )
            for a in actions
        )
        decided = actions[0]
        DueDateChange.objects.bulk_create(
            DueDateChange(
                action=decided,
                authority_id=decided.authority_id,
                old_date=decided.due_date,
                new_date=decided.due_date + dt.timedelta(days=i + 1),
                reason="Earlier request.",
                requested_by=world.owner,
                status=DueDateChange.Status.APPROVED,
                decided_by=world.leader2,
                decided_at=timezone.now(),
            )
            for i in range(min(n, 30))
        )

    add_requests(10)
    client.force_login(world.leader)
    client.get(list_url())
    at_10 = count_queries(client, list_url())
    add_requests(990)
    at_1000 = count_queries(client, list_url())
    assert at_10 == at_1000
    assert "Waiting for a decision: 1000 requests" in client.get(list_url()).content.decode()


# Deciding


def decide_url(change) -> str:
    return reverse("improvement:deadline-decide", args=[change.pk])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 403),
        ("other_owner", 403),
        ("team_lead", 403),
        ("leader", 200),
        ("board", 403),
        ("admin", 200),
        ("outsider", 404),
    ],
)
def test_deadline_decide_permissions(client, world, who, status):
    """Only senior leaders and administrators of the authority decide."""
    change = DueDateChangeFactory(action=world.action)
    client.force_login(getattr(world, who))
    assert client.get(decide_url(change)).status_code == status


def test_deadline_decide_needs_login(client, world):
    change = DueDateChangeFactory(action=world.action)
    assert client.get(decide_url(change)).status_code == 302


def test_leader_cannot_approve_their_own_request(client, world):
    """Separation of duties: a leader who asked is refused (403), even by a forged POST."""
    action = ActionFactory(authority=world.authority, owner=world.leader)
    client.force_login(world.leader)
    client.post(request_url(action), date_data("1", "3", "2027"))
    change = DueDateChange.objects.get(action=action)
    assert client.get(decide_url(change)).status_code == 403
    response = client.post(decide_url(change), {"decision": "approve"})
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.status == DueDateChange.Status.PENDING
    # Another leader may.
    client.force_login(world.leader2)
    assert client.get(decide_url(change)).status_code == 200


def test_forged_decision_by_the_owner_writes_nothing(client, world):
    change = DueDateChangeFactory(action=world.action)
    client.force_login(world.owner)
    assert client.post(decide_url(change), {"decision": "approve"}).status_code == 403
    change.refresh_from_db()
    assert change.status == DueDateChange.Status.PENDING


def test_approving_moves_the_due_date_and_keeps_the_original(client, world):
    """After approval: new due date, original kept, count up, in the register and the history."""
    action = world.action
    original = action.due_date
    change = DueDateChangeFactory(action=action, new_date=dt.date(2027, 3, 1))
    history_before = action.history.count()
    client.force_login(world.leader)
    page = client.get(decide_url(change)).content.decode()
    assert "Recruitment took longer than planned." in page
    assert "+30 days" in page
    response = client.post(decide_url(change), {"decision": "approve", "decision_note": ""})
    assert response.status_code == 302
    assert response["Location"] == list_url()
    action.refresh_from_db()
    change.refresh_from_db()
    assert action.due_date == dt.date(2027, 3, 1)
    assert action.original_due_date == original
    assert action.due_date_change_count == 1
    assert change.status == DueDateChange.Status.APPROVED
    assert change.decided_by == world.leader
    assert action.history.count() == history_before + 1
    latest = action.history.latest()
    assert latest.due_date == dt.date(2027, 3, 1)
    assert latest.history_user == world.leader
    page = client.get(list_url()).content.decode()
    assert "Approved" in page


def test_refusing_needs_a_reason(client, world):
    change = DueDateChangeFactory(action=world.action)
    client.force_login(world.leader)
    response = client.post(decide_url(change), {"decision": "refuse", "decision_note": "  "})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert page.count("Enter why the request is refused") == 2
    assert 'checked="checked"' in page  # the choice is kept
    change.refresh_from_db()
    assert change.status == DueDateChange.Status.PENDING


def test_refusing_with_a_reason_keeps_the_due_date(client, world):
    action = world.action
    due = action.due_date
    change = DueDateChangeFactory(action=action)
    client.force_login(world.leader)
    response = client.post(
        decide_url(change), {"decision": "refuse", "decision_note": "Show the recovery plan."}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    change.refresh_from_db()
    assert change.status == DueDateChange.Status.REFUSED
    assert change.decision_note == "Show the recovery plan."
    assert action.due_date == due
    assert action.due_date_change_count == 0


def test_no_decision_chosen_is_an_error(client, world):
    change = DueDateChangeFactory(action=world.action)
    client.force_login(world.leader)
    response = client.post(decide_url(change), {"decision_note": "Thinking about it"})
    page = response.content.decode()
    assert page.count("Select whether to approve or refuse the request") == 2
    assert 'href="#id_decision_1"' in page
    assert "Thinking about it" in page
    change.refresh_from_db()
    assert change.status == DueDateChange.Status.PENDING


def test_decided_request_cannot_be_decided_again(client, world):
    change = DueDateChangeFactory(
        action=world.action,
        status=DueDateChange.Status.REFUSED,
        decided_by=world.leader2,
        decided_at=timezone.now(),
        decision_note="No.",
    )
    client.force_login(world.leader)
    page = client.get(decide_url(change)).content.decode()
    assert "already been decided" in page
    assert 'name="decision"' not in page
    client.post(decide_url(change), {"decision": "approve"})
    change.refresh_from_db()
    assert change.status == DueDateChange.Status.REFUSED


# Awaiting sign-off


def sign_off_list_url() -> str:
    return reverse("improvement:sign-off-list")


def test_sign_off_list_shows_delivered_open_actions_in_scope(client, world):
    delivered = deliver(world.action)
    EvidenceFactory(action=delivered)
    ActionFactory(authority=world.authority, owner=world.owner, title="Still in progress")
    deliver(ActionFactory(title="Another authority's"))
    client.force_login(world.leader)
    page = client.get(sign_off_list_url()).content.decode()
    assert "Improve pathway plans" in page
    assert "Still in progress" not in page
    assert "Another authority" not in page
    assert reverse("improvement:action-sign-off", args=[delivered.pk]) in page
    assert reverse("improvement:action-send-back", args=[delivered.pk]) in page


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 403), ("team_lead", 403), ("leader", 200), ("board", 200), ("admin", 200)],
)
def test_sign_off_list_permissions(client, world, who, status):
    client.force_login(getattr(world, who))
    assert client.get(sign_off_list_url()).status_code == status


def test_board_viewer_sees_sign_off_list_read_only(client, world):
    deliver(world.action)
    client.force_login(world.board)
    page = client.get(sign_off_list_url()).content.decode()
    assert "Improve pathway plans" in page
    assert reverse("improvement:action-sign-off", args=[world.action.pk]) not in page


def test_sign_off_list_needs_login(client):
    assert client.get(sign_off_list_url()).status_code == 302


def test_sign_off_list_query_count_does_not_grow_with_actions(client, world):
    """The same number of queries with 10 and with 1,000 delivered actions."""
    client.force_login(world.leader)

    def add(n):
        rows = bulk_actions(
            n,
            area=ImprovementAreaFactory(inspection__authority=world.authority),
            owner=world.owner,
            team=world.team,
            delivery_status=Action.DeliveryStatus.DELIVERED,
        )
        EvidenceFactory(action=rows[0])

    add(10)
    client.get(sign_off_list_url())
    at_10 = count_queries(client, sign_off_list_url())
    add(990)
    at_1000 = count_queries(client, sign_off_list_url())
    assert at_10 == at_1000
    assert "1000 delivered actions" in client.get(sign_off_list_url()).content.decode()


# Signing off


def sign_off_url(action) -> str:
    return reverse("improvement:action-sign-off", args=[action.pk])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 403),
        ("other_owner", 403),
        ("team_lead", 403),
        ("leader", 200),
        ("board", 403),
        ("admin", 200),
        ("outsider", 404),
    ],
)
def test_sign_off_permissions(client, world, who, status):
    deliver(world.action)
    client.force_login(getattr(world, who))
    assert client.get(sign_off_url(world.action)).status_code == status


def test_leader_cannot_sign_off_their_own_action(client, world):
    action = deliver(ActionFactory(authority=world.authority, owner=world.leader))
    EvidenceFactory(action=action)
    client.force_login(world.leader)
    assert client.get(sign_off_url(action)).status_code == 403
    data = {"version": action.version, "outcome": "evidenced", "note": "Done."}
    assert client.post(sign_off_url(action), data).status_code == 403
    action.refresh_from_db()
    assert not action.is_closed


def test_sign_off_needs_login(client, world):
    assert client.get(sign_off_url(world.action)).status_code == 302


def test_sign_off_page_shows_success_measure_evidence_and_measures(client, world):
    action = deliver(world.action)
    EvidenceFactory(action=action, title="Audit of 40 pathway plans")
    measure = MeasureFactory(authority=world.authority, name="Care leavers with a plan")
    measure.actions.add(action)
    MeasureValueFactory(measure=measure, value=88)
    client.force_login(world.leader)
    page = client.get(sign_off_url(action)).content.decode()
    assert "Every care leaver has a pathway plan written with them." in page
    assert "Audit of 40 pathway plans" in page
    assert "Care leavers with a plan" in page
    assert "88%" in page
    assert 'name="outcome"' in page


def test_leader_signs_off_impact_evidenced(client, world):
    action = deliver(world.action)
    EvidenceFactory(action=action)
    client.force_login(world.leader)
    response = client.post(
        sign_off_url(action),
        {"version": action.version, "outcome": "evidenced", "note": "Audit shows plans improved."},
    )
    assert response.status_code == 302
    assert response["Location"] == action.get_absolute_url()
    action.refresh_from_db()
    assert action.impact_status == Action.ImpactStatus.EVIDENCED
    assert action.rag == Action.Rag.BLUE
    assert action.signed_off_by == world.leader
    assert action.closure_note == "Audit shows plans improved."


def test_sign_off_without_evidence_is_refused_with_a_clear_message(client, world):
    """Impact evidenced needs at least one evidence item; the message says so at the choice."""
    action = deliver(world.action)
    client.force_login(world.leader)
    page = client.get(sign_off_url(action)).content.decode()
    assert "No evidence has been added to this action" in page
    response = client.post(
        sign_off_url(action),
        {"version": action.version, "outcome": "evidenced", "note": "Trust me."},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert page.count("Add evidence of impact before recording it as evidenced.") == 2
    assert 'href="#id_outcome_1"' in page
    assert "Trust me." in page
    action.refresh_from_db()
    assert not action.is_closed


def test_leader_closes_without_evidenced_impact_saying_why(client, world):
    action = deliver(world.action)
    client.force_login(world.leader)
    response = client.post(
        sign_off_url(action),
        {
            "version": action.version,
            "outcome": "closed_without_impact",
            "note": "Superseded by the new front door service.",
        },
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.impact_status == Action.ImpactStatus.CLOSED_WITHOUT_IMPACT
    assert ProgressNote.objects.filter(action=action, rag_after=Action.Rag.BLUE).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "", "note": "Good work."}, "Select whether the impact is evidenced"),
        ({"outcome": "closed_without_impact", "note": "  "}, "Enter a sign-off note"),
        ({"outcome": "nonsense", "note": "x"}, "Select a valid choice"),
    ],
)
def test_bad_sign_off_shows_errors_and_writes_nothing(client, world, data, message):
    action = deliver(world.action)
    client.force_login(world.leader)
    response = client.post(sign_off_url(action), {"version": action.version, **data})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert message in page
    action.refresh_from_db()
    assert not action.is_closed


def test_sign_off_after_someone_else_changed_the_action_asks_to_check_again(client, world):
    """A stale version is refused, and the form is ready to resubmit against the new one."""
    action = deliver(world.action)
    EvidenceFactory(action=action)
    stale = action.version
    Action.objects.filter(pk=action.pk).update(version=stale + 1)
    client.force_login(world.leader)
    response = client.post(
        sign_off_url(action), {"version": stale, "outcome": "evidenced", "note": "Done."}
    )
    page = response.content.decode()
    assert "Someone else changed this action" in page
    assert f'name="version" value="{stale + 1}"' in page
    action.refresh_from_db()
    assert not action.is_closed


def test_only_delivered_open_actions_can_be_signed_off(client, world):
    """An action still in progress gets a clear message and no form; a POST writes nothing."""
    client.force_login(world.leader)
    page = client.get(sign_off_url(world.action)).content.decode()
    assert "has not marked it as delivered" in page
    assert 'name="outcome"' not in page
    client.post(
        sign_off_url(world.action),
        {"version": world.action.version, "outcome": "closed_without_impact", "note": "x"},
    )
    world.action.refresh_from_db()
    assert not world.action.is_closed


# Sending back


def send_back_url(action) -> str:
    return reverse("improvement:action-send-back", args=[action.pk])


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 403), ("team_lead", 403), ("leader", 200), ("board", 403), ("outsider", 404)],
)
def test_send_back_permissions(client, world, who, status):
    deliver(world.action)
    client.force_login(getattr(world, who))
    assert client.get(send_back_url(world.action)).status_code == status


def test_leader_sends_a_delivered_action_back(client, world):
    action = deliver(world.action)
    client.force_login(world.leader)
    response = client.post(
        send_back_url(action), {"version": action.version, "reason": "No audit evidence yet."}
    )
    assert response.status_code == 302
    assert response["Location"] == sign_off_list_url()
    action.refresh_from_db()
    assert action.delivery_status == Action.DeliveryStatus.IN_PROGRESS
    note = ProgressNote.objects.get(action=action)
    assert note.text == "Sent back: No audit evidence yet."
    assert note.author == world.leader


def test_send_back_needs_a_reason(client, world):
    action = deliver(world.action)
    client.force_login(world.leader)
    response = client.post(send_back_url(action), {"version": action.version, "reason": " "})
    page = response.content.decode()
    assert page.count("Enter why the action is sent back") == 2
    action.refresh_from_db()
    assert action.delivery_status == Action.DeliveryStatus.DELIVERED


def test_forged_send_back_by_the_owner_writes_nothing(client, world):
    action = deliver(world.action)
    client.force_login(world.owner)
    response = client.post(send_back_url(action), {"version": action.version, "reason": "x"})
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.delivery_status == Action.DeliveryStatus.DELIVERED
