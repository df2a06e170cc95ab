"""Notices as things happen: sent after the transaction commits, through a real SMTP server."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from improvement import notifications, services
from improvement.mail import NotifyEmailBackend
from improvement.models import Action, BoardMeeting, DueDateChange
from tests.factories import (
    TODAY,
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    OwnerFactory,
    UserFactory,
)

pytest_plugins = ["tests.smtp_support"]  # the smtp_inbox fixture: a real SMTP server

SITE = "https://tracker.example.gov.uk"


@pytest.fixture
def world(db):
    authority = AuthorityFactory(name="Knowsley", ons_code="E08000011")
    area = ImprovementAreaFactory(inspection=InspectionFactory(authority=authority))
    owner = OwnerFactory(username="owner", authority=authority)
    leader = LeaderFactory(username="leader", authority=authority)
    other_leader = LeaderFactory(username="leader2", authority=authority)
    away_leader = LeaderFactory(
        username="away", authority=AuthorityFactory(name="Sefton", ons_code="E08000014")
    )
    action = ActionFactory(authority=authority, owner=owner, improvement_areas=[area])
    return {
        "authority": authority,
        "area": area,
        "owner": owner,
        "leader": leader,
        "other_leader": other_leader,
        "away_leader": away_leader,
        "action": action,
    }


def _to(inbox):
    return sorted(address for message in inbox.messages for address in message.to)


def test_assigned_owner_is_told_after_commit(world, smtp_inbox, django_capture_on_commit_callbacks):
    new_owner = OwnerFactory(username="newowner", authority=world["authority"])
    with django_capture_on_commit_callbacks() as callbacks:
        services.action_reassign_owner(action=world["action"], owner=new_owner, by=world["leader"])
        # Not inside the transaction: nothing has gone yet.
        assert smtp_inbox.messages == []
    for callback in callbacks:
        callback()
    assert _to(smtp_inbox) == ["newowner@example.org"]
    message = smtp_inbox.messages[0]
    assert message.subject.startswith(f"Action assigned to you: {world['action']}")
    assert "has made you the owner of this action" in message.text
    assert f"{SITE}/actions/{world['action'].pk}/" in message.text
    assert f'href="{SITE}/actions/{world["action"].pk}/"' in message.html
    assert "Knowsley Council" in message.text


def test_a_new_action_tells_its_owner_unless_they_made_it(
    world, smtp_inbox, django_capture_on_commit_callbacks
):
    fields = {
        "improvement_areas": [world["area"]],
        "owner": world["owner"],
        "start_date": TODAY,
        "due_date": TODAY + dt.timedelta(days=30),
        "success_measure": "Plans are up to date.",
    }
    with django_capture_on_commit_callbacks(execute=True):
        services.action_create(title="Made by the owner", by=world["owner"], **fields)
    assert smtp_inbox.messages == []
    with django_capture_on_commit_callbacks(execute=True):
        services.action_create(title="Made by the leader", by=world["leader"], **fields)
    assert _to(smtp_inbox) == ["owner@example.org"]


def test_a_rolled_back_change_sends_nothing(world, smtp_inbox, django_capture_on_commit_callbacks):
    new_owner = OwnerFactory(username="newowner", authority=world["authority"])

    def reassign_then_fail():
        with transaction.atomic():
            services.action_reassign_owner(
                action=world["action"], owner=new_owner, by=world["leader"]
            )
            raise RuntimeError("something later in the request failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        reassign_then_fail()
    assert smtp_inbox.messages == []
    assert Action.objects.get(pk=world["action"].pk).owner == world["owner"]


def test_deadline_request_awaits_leaders_and_decision_reaches_owner(
    world, smtp_inbox, django_capture_on_commit_callbacks
):
    action = world["action"]
    with django_capture_on_commit_callbacks(execute=True):
        change = services.due_date_change_request(
            action=action,
            by=world["owner"],
            new_date=action.due_date + dt.timedelta(days=30),
            reason="Recruitment took longer.",
            today=TODAY,
        )
    # Both leaders of the authority, not the other authority's.
    assert _to(smtp_inbox) == ["leader2@example.org", "leader@example.org"]
    asks = smtp_inbox.to("leader@example.org")[0]
    assert asks.subject.startswith("Deadline change awaits your decision")
    assert "Why: Recruitment took longer." in asks.text
    assert f"{SITE}/deadlines/{change.pk}/" in asks.text
    smtp_inbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.due_date_change_decide(
            change=change, by=world["leader"], approve=False, note="Hold the date."
        )
    assert _to(smtp_inbox) == ["owner@example.org"]
    refused = smtp_inbox.messages[0]
    assert refused.subject.startswith("New date refused")
    assert "Their note: Hold the date." in refused.text
    assert f"still due on {action.due_date:%-d %B %Y}" in refused.text
    smtp_inbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        change = services.due_date_change_request(
            action=action,
            by=world["owner"],
            new_date=action.due_date + dt.timedelta(days=14),
            reason="Second try.",
            today=TODAY,
        )
    smtp_inbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.due_date_change_decide(change=change, by=world["leader"], approve=True)
    assert _to(smtp_inbox) == ["owner@example.org"]
    assert smtp_inbox.messages[0].subject.startswith("New date approved")
    assert DueDateChange.objects.get(pk=change.pk).status == DueDateChange.Status.APPROVED


def test_a_leader_asking_is_not_told_of_their_own_request(
    world, smtp_inbox, django_capture_on_commit_callbacks
):
    action = ActionFactory(
        authority=world["authority"], owner=world["leader"], improvement_areas=[world["area"]]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.due_date_change_request(
            action=action,
            by=world["leader"],
            new_date=action.due_date + dt.timedelta(days=7),
            reason="Board moved.",
            today=TODAY,
        )
    assert _to(smtp_inbox) == ["leader2@example.org"]


def test_delivered_awaits_sign_off_then_owner_hears_closed_or_sent_back(
    world, smtp_inbox, django_capture_on_commit_callbacks
):
    action = world["action"]
    with django_capture_on_commit_callbacks(execute=True):
        services.action_record_progress(
            action=action,
            by=world["owner"],
            expected_version=action.version,
            text="All plans audited.",
            delivery_status=Action.DeliveryStatus.DELIVERED,
        )
    assert _to(smtp_inbox) == ["leader2@example.org", "leader@example.org"]
    assert smtp_inbox.messages[0].subject.startswith("Delivered, awaiting your sign-off")
    assert f"{SITE}/actions/{action.pk}/sign-off/" in smtp_inbox.messages[0].text
    smtp_inbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.action_send_back(
            action=action,
            by=world["leader"],
            expected_version=action.version,
            reason="No evidence from children yet.",
        )
    assert _to(smtp_inbox) == ["owner@example.org"]
    assert smtp_inbox.messages[0].subject.startswith("Action sent back")
    assert "Why: No evidence from children yet." in smtp_inbox.messages[0].text
    smtp_inbox.clear()

    action.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.action_record_progress(
            action=action,
            by=world["owner"],
            expected_version=action.version,
            text="Children's views gathered.",
            delivery_status=Action.DeliveryStatus.DELIVERED,
        )
        action.refresh_from_db()
        services.action_sign_off(
            action=action,
            by=world["leader"],
            expected_version=action.version,
            impact_evidenced=False,
            note="Closed: the service was recommissioned.",
        )
    closed = smtp_inbox.to("owner@example.org")
    assert [m.subject.split(":")[0] for m in closed] == ["Action closed"]
    assert "Closed without evidenced impact" in closed[0].text


def test_preference_switches_notices_off(world, smtp_inbox, django_capture_on_commit_callbacks):
    new_owner = OwnerFactory(username="newowner", authority=world["authority"])
    services.email_preferences_set(user=new_owner, by=new_owner, decisions=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.action_reassign_owner(action=world["action"], owner=new_owner, by=world["leader"])
    assert smtp_inbox.messages == []


def test_suppressed_sends_nothing(world, django_capture_on_commit_callbacks):
    new_owner = OwnerFactory(username="newowner", authority=world["authority"])
    with django_capture_on_commit_callbacks() as callbacks, notifications.suppressed():
        services.action_reassign_owner(action=world["action"], owner=new_owner, by=world["leader"])
    assert callbacks == []
    assert not notifications.is_suppressed()


def test_a_relay_that_is_down_does_not_undo_the_change(
    world, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    # Nothing listens on the discard port: the relay is down.
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    new_owner = OwnerFactory(username="newowner", authority=world["authority"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.action_reassign_owner(action=world["action"], owner=new_owner, by=world["leader"])
    assert len(callbacks) == 1
    assert "Error calling" in caplog.text  # logged by Django's robust on_commit
    assert Action.objects.get(pk=world["action"].pk).owner == new_owner


def test_the_demo_loader_emails_nobody(db, settings, django_capture_on_commit_callbacks):
    settings.DEBUG = True  # load_demo refuses to run otherwise
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("load_demo", stdout=io.StringIO())
    assert callbacks == []
    assert mail.outbox == []
    # Its next board is four weeks on, with the round open, so the round page has a story.
    meeting = BoardMeeting.objects.get()
    assert meeting.round_opens_on == timezone.localdate()
    assert meeting.meets_on == timezone.localdate() + dt.timedelta(days=28)


# GOV.UK Notify


class _NotifyStub(BaseHTTPRequestHandler):
    """A local HTTP server standing in for api.notifications.service.gov.uk."""

    received: list = []
    status = 201

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _NotifyStub.received.append((self.path, self.headers["Authorization"], body))
        self.send_response(_NotifyStub.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": "740e5834-3a29-46b4-9a6f-16142fde533a"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def notify_server():
    server = HTTPServer(("127.0.0.1", 0), _NotifyStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _NotifyStub.received = []
    _NotifyStub.status = 201
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


# The official client's key format: name, service id, secret key (both UUIDs).
API_KEY = "tracker_test-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"
TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"


def test_notify_backend_sends_through_the_official_client(notify_server):
    backend = NotifyEmailBackend(api_key=API_KEY, template_id=TEMPLATE, base_url=notify_server)
    message = EmailMultiAlternatives("Action closed", "Plain body", to=["owner@example.org"])
    message.attach_alternative("<p>HTML</p>", "text/html")
    assert backend.send_messages([message]) == 1
    path, authorization, body = _NotifyStub.received[0]
    assert path == "/v2/notifications/email"
    assert authorization.startswith("Bearer ")  # a JWT signed with the secret key
    assert body["email_address"] == "owner@example.org"
    assert body["template_id"] == TEMPLATE
    assert body["personalisation"] == {"subject": "Action closed", "body": "Plain body"}


def test_notify_refusal_is_a_connection_error(notify_server):
    _NotifyStub.status = 400
    backend = NotifyEmailBackend(api_key=API_KEY, template_id=TEMPLATE, base_url=notify_server)
    with pytest.raises(ConnectionError, match=r"GOV\.UK Notify refused"):
        backend.send_messages([EmailMultiAlternatives("S", "B", to=["owner@example.org"])])


def test_notify_needs_its_settings(settings):
    settings.GOVUK_NOTIFY_API_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        NotifyEmailBackend()


def test_no_email_address_no_notice(world, smtp_inbox, django_capture_on_commit_callbacks):
    new_owner = UserFactory(username="noaddress", authority=world["authority"], email="")
    with django_capture_on_commit_callbacks(execute=True):
        services.action_reassign_owner(action=world["action"], owner=new_owner, by=world["leader"])
    assert smtp_inbox.messages == []
