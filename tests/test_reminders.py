"""The daily reminder run, through a real SMTP server, on frozen dates.

Monday 7 December 2026: who gets which reminder, the leaders' weekly digest, preferences, and
that nothing is sent twice, including when a run dies half way and is run again.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from improvement import notifications, services
from improvement.models import Action, BoardMeeting, ProgressNote, SentNotification, User
from improvement.selectors import reminders as reminder_reads
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    OwnerFactory,
    ProgressNoteFactory,
)

pytest_plugins = ["tests.smtp_support"]  # the smtp_inbox fixture: a real SMTP server

MONDAY = dt.date(2026, 12, 7)
NOW = dt.datetime(2026, 12, 7, 7, 0, tzinfo=dt.UTC)
SITE = "https://tracker.example.gov.uk"


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def _action(area, owner, *, due: dt.date, last_note: dt.date | None = None, **fields):
    action = ActionFactory(
        authority=area.inspection.authority,
        owner=owner,
        improvement_areas=[area],
        start_date=dt.date(2026, 6, 1),
        due_date=due,
        **fields,
    )
    # Created long ago, so that only its last note decides whether it is stale; the note is
    # really there, as the services keep last_note_at to the latest note.
    Action.objects.filter(pk=action.pk).update(
        created_at=_at(dt.date(2026, 6, 1)),
        last_note_at=_at(last_note) if last_note else None,
    )
    if last_note:
        ProgressNote.objects.bulk_create(
            [ProgressNote(action=action, author=owner, text="Progress.", created_at=_at(last_note))]
        )
    action.refresh_from_db()
    return action


@pytest.fixture
def plan(db):
    return build_plan()


def build_plan() -> dict:
    """One authority's plan with an owner for each kind of reminder, a round and a leader."""
    authority = AuthorityFactory(name="Knowsley", ons_code="E08000011")
    area = ImprovementAreaFactory(inspection=InspectionFactory(authority=authority))
    recent = MONDAY - dt.timedelta(days=3)
    people = {
        name: OwnerFactory(username=name, authority=authority)
        for name in ("overdue", "soon", "round", "stale", "quiet", "closed", "inactive")
    }
    people["noemail"] = OwnerFactory(username="noemail", authority=authority, email="")
    plan = {
        "overdue": _action(
            area, people["overdue"], due=MONDAY - dt.timedelta(days=1), last_note=recent
        ),
        # Also stale: listed once, under the most urgent section.
        "overdue_and_stale": _action(
            area, people["overdue"], due=MONDAY - dt.timedelta(days=10), last_note=None
        ),
        "soon": _action(area, people["soon"], due=MONDAY + dt.timedelta(days=14), last_note=recent),
        "not_soon": _action(
            area, people["soon"], due=MONDAY + dt.timedelta(days=15), last_note=recent
        ),
        # Noted before the round opened on 1 December: asked for an update.
        "round": _action(
            area,
            people["round"],
            due=MONDAY + dt.timedelta(days=90),
            last_note=dt.date(2026, 11, 25),
        ),
        "stale": _action(
            area,
            people["stale"],
            due=MONDAY + dt.timedelta(days=90),
            last_note=dt.date(2026, 11, 1),
        ),
        "quiet": _action(
            area, people["quiet"], due=MONDAY + dt.timedelta(days=90), last_note=recent
        ),
        "closed": _action(
            area,
            people["closed"],
            due=MONDAY - dt.timedelta(days=30),
            last_note=dt.date(2026, 10, 1),
            delivery_status=Action.DeliveryStatus.DELIVERED,
        ),
        "inactive": _action(area, people["inactive"], due=MONDAY - dt.timedelta(days=5)),
        "noemail": _action(area, people["noemail"], due=MONDAY - dt.timedelta(days=5)),
    }
    # Another authority, with no round running: a stale action is listed as such.
    away = AuthorityFactory(name="Sefton", ons_code="E08000014")
    away_area = ImprovementAreaFactory(inspection=InspectionFactory(authority=away))
    people["elsewhere"] = OwnerFactory(username="elsewhere", authority=away)
    plan["elsewhere"] = _action(
        away_area,
        people["elsewhere"],
        due=MONDAY + dt.timedelta(days=90),
        last_note=dt.date(2026, 11, 1),
    )
    leader = LeaderFactory(username="leader", authority=authority)
    Action.objects.filter(pk=plan["closed"].pk).update(
        impact_status=Action.ImpactStatus.CLOSED_WITHOUT_IMPACT,
        rag=Action.Rag.BLUE,
        signed_off_by=leader,
        signed_off_at=_at(dt.date(2026, 10, 1)),
    )
    people["inactive"].is_active = False
    people["inactive"].save()
    BoardMeeting.objects.create(
        authority=authority,
        meets_on=dt.date(2026, 12, 17),
        updates_due_on=dt.date(2026, 12, 9),
        round_opens_on=dt.date(2026, 12, 1),
    )
    return {
        "authority": authority,
        "area": area,
        "people": people,
        "actions": plan,
        "leader": leader,
    }


def _addresses(inbox) -> list[str]:
    return sorted(address for message in inbox.messages for address in message.to)


@freeze_time(NOW)
def test_who_gets_which_reminder(plan, smtp_inbox):
    call_command("send_reminders", stdout=io.StringIO())
    assert _addresses(smtp_inbox) == [
        "elsewhere@example.org",
        "leader@example.org",
        "overdue@example.org",
        "round@example.org",
        "soon@example.org",
        "stale@example.org",
    ]
    actions = plan["actions"]

    overdue = smtp_inbox.to("overdue@example.org")[0]
    assert overdue.subject == "2 actions need your attention – Knowsley Council"
    assert "OVERDUE" in overdue.text
    assert f"{SITE}/actions/{actions['overdue'].pk}/" in overdue.text
    assert f'href="{SITE}/actions/{actions["overdue_and_stale"].pk}/"' in overdue.html
    # Listed once, under Overdue, with its other state named.
    assert overdue.text.count(actions["overdue_and_stale"].title) == 1
    # Never noted: the round asks for it too, and it is stale.
    assert "Also: Update asked for the improvement board; No update for 30 days." in overdue.text
    assert "Knowsley Council" in overdue.html

    soon = smtp_inbox.to("soon@example.org")[0]
    assert actions["soon"].title in soon.text
    assert actions["not_soon"].title not in soon.text  # 15 days away: not within 14
    assert "DUE WITHIN 14 DAYS" in soon.text

    asked = smtp_inbox.to("round@example.org")[0]
    assert "The improvement board meets on 17 December 2026" in asked.text
    assert "please add a progress note by 9 December 2026" in asked.text

    # Noted before the round opened and over 30 days ago: asked by the round, and stale.
    stale = smtp_inbox.to("stale@example.org")[0]
    assert "UPDATE ASKED FOR THE IMPROVEMENT BOARD" in stale.text
    assert "Also: No update for 30 days." in stale.text

    elsewhere = smtp_inbox.to("elsewhere@example.org")[0]
    assert "NO UPDATE FOR 30 DAYS" in elsewhere.text
    assert "Last updated on 1 November 2026" in elsewhere.text
    assert "improvement board" not in elsewhere.text

    digest = smtp_inbox.to("leader@example.org")[0]
    assert digest.subject.startswith("Weekly exception digest, week of 7 December 2026")
    assert "OVERDUE: 4" in digest.text  # the inactive and no-email owners' actions count too
    assert f"{SITE}/actions/?overdue=1" not in digest.text  # fewer than the list limit
    assert "DELIVERED, AWAITING SIGN-OFF: 0" in digest.text

    rows = SentNotification.objects.order_by("recipient__username")
    assert [(r.recipient.username, r.kind, r.day) for r in rows] == [
        ("elsewhere", "owner_daily", MONDAY),
        ("leader", "leader_weekly", MONDAY),
        ("overdue", "owner_daily", MONDAY),
        ("round", "owner_daily", MONDAY),
        ("soon", "owner_daily", MONDAY),
        ("stale", "owner_daily", MONDAY),
    ]


def test_digest_counts_the_inactive_owners_actions(plan):
    digest = next(reminder_reads.leader_digests(today=MONDAY, now=NOW))
    counts = {section.key: section.count for section in digest.sections}
    # overdue, overdue_and_stale, inactive, noemail
    assert counts["overdue"] == 4
    # Never noted: overdue_and_stale, inactive, noemail; noted on 1 November: stale.
    assert counts["stale"] == 4


def _preview_counts(client) -> tuple[dict[str, str], str]:
    response = client.get("/emails/")
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    digest = html.split("exception digest", 1)[1].split("Choose which emails", 1)[0]
    rows = re.findall(r'summary-list__key">([^<]+)</dt>\s*<dd[^>]*><a[^>]*>(\d+)</a>', digest)
    return dict(rows), digest


def test_the_preview_reuses_its_digest_counts_as_the_dashboard_does_and_says_so(
    plan, client, monkeypatch
):
    """The "Your emails" preview keeps the digest's counts under the dashboard's rule: reused for
    five minutes at most while no action in reach has changed, or in a large plan on the timer
    alone; the page says when they were counted. The reminder run itself counts afresh."""

    def change(name: str) -> None:
        Action.objects.filter(pk=plan["actions"][name].pk).update(
            due_date=MONDAY + dt.timedelta(days=9), updated_at=timezone.now()
        )

    def counted_at(digest: str) -> str | None:
        said = re.search(r'id="digest-counted-at">(.*?)</p>', digest, re.S)
        return " ".join(said[1].split()) if said else None

    with freeze_time(NOW) as clock:
        client.force_login(plan["leader"])
        counts, digest = _preview_counts(client)
        assert counts["Overdue"] == "4"
        assert counted_at(digest) is None
        counts, digest = _preview_counts(client)
        assert counts["Overdue"] == "4"
        assert counted_at(digest) == (
            "These counts were counted at 07:00 (0 minutes ago). "
            "The digest counts again when it is sent."
        )

        # A small plan: any change in reach is counted at once.
        clock.tick(dt.timedelta(minutes=1))
        change("inactive")
        counts, digest = _preview_counts(client)
        assert counts["Overdue"] == "3"
        assert counted_at(digest) is None

        # A large plan: counted on the timer alone, and the page says changes are not in them.
        monkeypatch.setattr(reminder_reads, "LARGE_PLAN_ACTIONS", 2)
        clock.tick(dt.timedelta(minutes=1))
        change("noemail")
        counts, digest = _preview_counts(client)
        assert counts["Overdue"] == "3", "reused, not recounted"
        assert counted_at(digest).startswith(
            "These counts were counted at 07:01 (1 minute ago): changes made since then are "
            "not in them yet."
        )
        # What the email says is counted when it is sent, and renews the preview's counts.
        sent = next(reminder_reads.leader_digests(today=MONDAY, now=timezone.now()))
        assert {s.key: s.count for s in sent.sections}["overdue"] == 2
        assert sent.counted_at is None
        counts, digest = _preview_counts(client)
        assert counts["Overdue"] == "2"
        assert counted_at(digest).startswith("These counts were counted at 07:02 (0 minutes ago).")

        clock.tick(dt.timedelta(minutes=6))
        change("overdue")
        assert _preview_counts(client)[0]["Overdue"] == "1", "recounted after five minutes"


def test_a_change_that_moves_no_update_time_is_counted_in_the_next_preview(
    plan, client, django_capture_on_commit_callbacks
):
    """Deleting an action or relinking moves no `updated_at`: the services mark the change, and
    a small plan's preview counts again."""
    from improvement.services.records import plan_figures_changed

    with freeze_time(NOW) as clock:
        client.force_login(plan["leader"])
        assert _preview_counts(client)[0]["Overdue"] == "4"
        assert _preview_counts(client)[0]["Overdue"] == "4"  # reused
        clock.tick(dt.timedelta(seconds=30))
        late = plan["actions"]["inactive"]
        with django_capture_on_commit_callbacks(execute=True):
            Action.objects.filter(pk=late.pk).update(due_date=MONDAY + dt.timedelta(days=9))
            plan_figures_changed(late)
        counts, digest = _preview_counts(client)
        assert counts["Overdue"] == "3"
        assert 'id="digest-counted-at"' not in digest


def test_the_latest_change_in_reach_is_the_reachs_own(db):
    """A regional leader's preview is recounted when an action of their region changes, and
    not when one elsewhere does."""
    near = AuthorityFactory(name="Near", region="North West")
    far = AuthorityFactory(name="Far", region="London")
    regional = LeaderFactory(
        authority=None, reach=User.Reach.REGION, region="North West", username="regional"
    )
    assert reminder_reads.latest_change_in_reach(regional) is None
    ActionFactory(authority=near)
    Action.objects.filter(authority=near).update(updated_at=_at(dt.date(2026, 11, 2)))
    ActionFactory(authority=far)
    Action.objects.filter(authority=far).update(updated_at=_at(dt.date(2026, 11, 30)))
    assert reminder_reads.latest_change_in_reach(regional) == _at(dt.date(2026, 11, 2))
    national = LeaderFactory(authority=None, reach=User.Reach.NATIONAL, username="national")
    assert reminder_reads.latest_change_in_reach(national) == _at(dt.date(2026, 11, 30))


@freeze_time(NOW)
def test_a_second_run_the_same_day_sends_nothing(plan, smtp_inbox):
    call_command("send_reminders", stdout=io.StringIO())
    first = len(smtp_inbox.messages)
    result = notifications.send_reminders(today=MONDAY, now=NOW)
    assert result.sent == 0
    assert len(smtp_inbox.messages) == first == 6


def test_the_next_day_owners_hear_again_but_the_digest_waits_a_week(plan, smtp_inbox):
    with freeze_time(NOW):
        notifications.send_reminders(today=MONDAY, now=NOW)
    smtp_inbox.clear()
    tuesday = MONDAY + dt.timedelta(days=1)
    with freeze_time(NOW + dt.timedelta(days=1)):
        notifications.send_reminders(today=tuesday, now=NOW + dt.timedelta(days=1))
    assert "leader@example.org" not in _addresses(smtp_inbox)
    assert "overdue@example.org" in _addresses(smtp_inbox)
    next_monday = MONDAY + dt.timedelta(days=7)
    smtp_inbox.clear()
    with freeze_time(NOW + dt.timedelta(days=7)):
        notifications.send_reminders(today=next_monday, now=NOW + dt.timedelta(days=7))
    assert "leader@example.org" in _addresses(smtp_inbox)


def test_the_digest_goes_on_the_chosen_weekday(plan, smtp_inbox, settings):
    settings.DIGEST_WEEKDAY = 2  # Wednesday
    with freeze_time(NOW):
        notifications.send_reminders(today=MONDAY, now=NOW)
    assert "leader@example.org" not in _addresses(smtp_inbox)
    wednesday = MONDAY + dt.timedelta(days=2)
    with freeze_time(NOW + dt.timedelta(days=2)):
        notifications.send_reminders(today=wednesday, now=NOW + dt.timedelta(days=2))
    digests = [m for m in smtp_inbox.messages if "Weekly exception digest" in m.subject]
    assert [m.to for m in digests] == [["leader@example.org"]]
    assert SentNotification.objects.get(kind="leader_weekly").day == MONDAY  # the week's Monday


@freeze_time(NOW)
def test_preferences_switch_off_all_but_overdue(plan, smtp_inbox):
    people = plan["people"]
    for name in ("overdue", "soon", "round", "stale", "elsewhere"):
        services.email_preferences_set(
            user=people[name],
            by=people[name],
            due_soon=False,
            no_update=False,
            round_requests=False,
        )
    services.email_preferences_set(user=plan["leader"], by=plan["leader"], weekly_digest=False)
    notifications.send_reminders(today=MONDAY, now=NOW)
    assert _addresses(smtp_inbox) == ["overdue@example.org"]
    overdue = smtp_inbox.messages[0]
    assert "OVERDUE" in overdue.text
    # The stale reason is switched off, so the action is listed without it.
    assert "Also:" not in overdue.text


class DyingBackend(EmailBackend):
    """The SMTP backend, but the process "dies" on the Nth email (an uncaught error)."""

    die_on = 3
    sent = 0

    def send_messages(self, email_messages):
        DyingBackend.sent += 1
        if DyingBackend.sent == DyingBackend.die_on:
            raise RuntimeError("killed half way")
        return super().send_messages(email_messages)


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_half_way_and_run_again_sends_nothing_twice_and_misses_nobody(
    smtp_inbox, settings
):
    # Each claim is committed as it goes, as in production: no test transaction around the run.
    with freeze_time(NOW):
        world = build_plan()
        settings.EMAIL_BACKEND = "tests.test_reminders.DyingBackend"
        DyingBackend.sent = 0
        with pytest.raises(RuntimeError, match="killed half way"):
            call_command("send_reminders", stdout=io.StringIO())
        after_death = _addresses(smtp_inbox)
        assert len(after_death) == 2
        assert SentNotification.objects.count() == 2  # the third claim died with its send
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        call_command("send_reminders", stdout=io.StringIO())
    everyone = _addresses(smtp_inbox)
    assert everyone == sorted(set(everyone)), "someone was sent the same email twice"
    assert everyone == [
        "elsewhere@example.org",
        "leader@example.org",
        "overdue@example.org",
        "round@example.org",
        "soon@example.org",
        "stale@example.org",
    ]
    assert SentNotification.objects.count() == 6
    assert world["leader"].sent_notifications.count() == 1


@freeze_time(NOW)
def test_a_refused_recipient_is_reported_and_retried_next_run(plan, smtp_inbox):
    smtp_inbox.refuse.add("round@example.org")
    with pytest.raises(CommandError, match=r"round@example\.org"):
        call_command("send_reminders", stdout=io.StringIO())
    assert "round@example.org" not in _addresses(smtp_inbox)
    assert len(smtp_inbox.messages) == 5
    assert not SentNotification.objects.filter(recipient__username="round").exists()
    smtp_inbox.refuse.clear()
    smtp_inbox.clear()
    call_command("send_reminders", stdout=io.StringIO())
    assert _addresses(smtp_inbox) == ["round@example.org"]


def test_site_url_is_required(plan, settings):
    settings.SITE_URL = ""
    with pytest.raises(Exception, match="SITE_URL"):
        notifications.send_reminders(today=MONDAY, now=NOW)
    assert not SentNotification.objects.exists()


def _queries_for_run(day: dt.date) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        result = notifications.send_reminders(today=day, now=_at(day))
    return len(queries), result.sent


def test_the_run_costs_the_same_queries_per_email_at_two_sizes(plan, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    area, authority = plan["area"], plan["authority"]

    def add_owners(n: int, prefix: str) -> None:
        for i in range(n):
            owner = OwnerFactory(username=f"{prefix}{i}", authority=authority)
            _action(area, owner, due=MONDAY - dt.timedelta(days=2))

    add_owners(5, "small")
    small_queries, small_sent = _queries_for_run(MONDAY)
    add_owners(20, "large")
    large_queries, large_sent = _queries_for_run(MONDAY + dt.timedelta(days=1))
    assert (small_sent, large_sent) == (5 + 5 + 1, 5 + 25)  # Monday includes the digest
    # Reads are a fixed number (rounds, actions, leaders, the digest's sections); each email
    # costs its claim in a savepoint: SAVEPOINT, INSERT, RELEASE.
    per_email = 3
    digest_reads = small_queries - per_email * small_sent - (large_queries - per_email * large_sent)
    assert large_queries == 3 + per_email * large_sent  # rounds, leaders, actions
    assert 0 < digest_reads <= 8


def test_notes_keep_an_owner_from_the_round(plan):
    owner = plan["people"]["round"]
    ProgressNoteFactory(action=plan["actions"]["round"], created_at=_at(dt.date(2026, 12, 2)))
    Action.objects.filter(pk=plan["actions"]["round"].pk).update(
        last_note_at=_at(dt.date(2026, 12, 2))
    )
    reminders = list(reminder_reads.owner_reminders(today=MONDAY, now=NOW, owner_ids=[owner.pk]))
    assert reminders == []


@freeze_time(NOW)
def test_a_relay_that_hangs_up_is_reconnected(plan, smtp_inbox):

    relay = get_connection()
    relay.open()
    relay.connection.close()  # the relay ended the session
    result = notifications.send_reminders(today=MONDAY, now=NOW, connection=relay)
    assert (result.sent, result.failed) == (6, [])
    assert len(smtp_inbox.messages) == 6


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the covering index is PostgreSQL's"
)
def test_digest_figures_read_only_columns_of_the_covering_index(plan):
    """Every column the digest's counts read is in scale_action_auth_states, so PostgreSQL can
    count from the index alone: counting ids (not in it) sent it to 100,000 rows of the largest
    authority at a million actions. (A test table is too small for the planner to prefer the
    index, so this holds the query to the index's columns rather than reading a plan.)"""
    with CaptureQueriesContext(connection) as queries:
        next(reminder_reads.leader_digests(today=MONDAY, now=NOW))
    figures = next(q["sql"] for q in queries.captured_queries if "FILTER (WHERE" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('scale_action_auth_states'::regclass)")
        (definition,) = cursor.fetchone()
    covered = set(re.findall(r"\w+", definition.partition("(")[2]))
    read = set(re.findall(r'"improvement_action"\."(\w+)"', figures))
    assert read
    assert read <= covered
