"""Races and odd input get a clear message, never a 500 and never a half-written record."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from improvement import roles, services
from improvement.forms.workflow import GovukDateField
from improvement.models import Action, DueDateChange
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    DueDateChangeFactory,
    EvidenceFactory,
    LeaderFactory,
    OwnerFactory,
    UserFactory,
)
from tests.http_client import TOKEN, Browser


def request_url(action) -> str:
    return reverse("improvement:deadline-request", args=[action.pk])


def decide_url(change) -> str:
    return reverse("improvement:deadline-decide", args=[change.pk])


def date_data(day, month, year, reason="Recruitment took longer than planned."):
    return {"new_date_0": day, "new_date_1": month, "new_date_2": year, "reason": reason}


@pytest.fixture
def action(db):
    authority = AuthorityFactory()
    return ActionFactory(authority=authority, owner=OwnerFactory(authority=authority))


# Out-of-range and absurd date parts


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("1", "99999999999999999999", "2027"), "The new due date must be a real date"),
        (("99999999999999999999", "1", "2027"), "The new due date must be a real date"),
        (("1", "1", "99999999999999999999"), "Year must include 4 numbers"),
        (("1", "13", "2027"), "The new due date must be a real date"),
        (("0", "1", "2027"), "The new due date must be a real date"),
        (("31", "2", "2027"), "must be a real date"),
        (("1", "1", "9999"), "Year must be between 2000 and 2100"),
        (("1", "1", "0001"), "Year must be between 2000 and 2100"),
        (("²", "1", "2027"), "must be a real date"),
        (("\u0661", "1", "2027"), "must be a real date"),  # Arabic-Indic one
    ],
)
def test_odd_date_parts_are_a_form_error_not_a_500(client, action, parts, message):
    client.force_login(action.owner)
    response = client.post(request_url(action), date_data(*parts))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not DueDateChange.objects.exists()


def test_the_date_field_names_the_wrong_part():
    field = GovukDateField(name="The date")
    with pytest.raises(ValidationError):
        field.clean(["1", "99999999999999999999", "2027"])
    assert [bool(part.widget.errors) for part in field.fields] == [False, True, False]


def test_a_deadline_years_away_is_refused_by_the_service(action):
    today = timezone.localdate()
    with pytest.raises(ValidationError, match="within 10 years"):
        services.due_date_change_request(
            action=action,
            by=action.owner,
            new_date=today.replace(year=today.year + 11),
            reason="Typo",
            today=today,
        )
    assert not DueDateChange.objects.exists()


# A pending request on an action closed meanwhile


def test_a_pending_request_cannot_be_approved_after_the_action_is_closed(client, action):
    leader = LeaderFactory(authority=action.authority)
    change = DueDateChangeFactory(
        action=action, requested_by=action.owner, new_date=action.due_date + dt.timedelta(days=30)
    )
    Action.objects.filter(pk=action.pk).update(delivery_status=Action.DeliveryStatus.DELIVERED)
    action.refresh_from_db()
    EvidenceFactory(action=action)
    services.action_sign_off(
        action=action,
        by=leader,
        expected_version=action.version,
        impact_evidenced=True,
        note="Done",
    )
    due_date = Action.objects.get(pk=action.pk).due_date

    client.force_login(LeaderFactory(authority=action.authority))
    response = client.post(decide_url(change), {"decision": "approve", "decision_note": ""})
    assert response.status_code == 200
    assert "has been closed since the request was made" in response.content.decode()
    change.refresh_from_db()
    assert change.status == DueDateChange.Status.PENDING
    assert Action.objects.get(pk=action.pk).due_date == due_date
    # Refusing it still works, so the register does not keep a request nobody can decide.
    response = client.post(
        decide_url(change), {"decision": "refuse", "decision_note": "The action is closed."}
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.status == DueDateChange.Status.REFUSED


# The duplicate deadline request


def test_a_duplicate_request_that_slips_past_the_check_is_a_clear_message(action):
    """The database's one-pending-request constraint is answered as a message, not a 500."""
    DueDateChangeFactory(action=action, requested_by=action.owner)
    # Blind the checks, as two simultaneous requests would be blind to each other's row.
    with (
        mock.patch("improvement.services.workflow._has_pending_request", return_value=False),
        mock.patch.object(DueDateChange, "validate_constraints", return_value=None),
        pytest.raises(ValidationError, match="already awaiting a decision"),
    ):
        services.due_date_change_request(
            action=action,
            by=action.owner,
            new_date=action.due_date + dt.timedelta(days=7),
            reason="Second",
        )
    assert DueDateChange.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_twelve_simultaneous_deadline_requests_give_one_request_and_no_500(live_server):
    authority = AuthorityFactory()
    action = ActionFactory(authority=authority, owner=OwnerFactory(authority=authority))
    people = [action.owner] + [
        UserFactory(authority=authority, role=roles.ADMINISTRATOR) for _ in range(11)
    ]
    path = request_url(action)
    ready = []
    for person in people:
        browser = Browser(live_server.url)
        browser.login(person.username)
        status, page = browser.request(path)
        assert status == 200
        ready.append((browser, TOKEN.search(page).group(1)))
    start = threading.Barrier(len(ready))
    answers: list[tuple[int, str]] = []
    new_date = action.due_date + dt.timedelta(days=30)

    def ask(browser: Browser, token: str) -> None:
        start.wait()
        answers.append(
            browser.request(
                path,
                {
                    "csrfmiddlewaretoken": token,
                    **date_data(str(new_date.day), str(new_date.month), str(new_date.year)),
                },
            )
        )

    threads = [threading.Thread(target=ask, args=pair) for pair in ready]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 11 + [302]
    for status, page in answers:
        if status == 200:
            assert "already" in page and "decision" in page
    assert DueDateChange.objects.filter(action=action).count() == 1
