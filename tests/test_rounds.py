"""Board meetings and their update rounds: dates, coverage, pages, and "Your emails"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from improvement import services
from improvement.models import Action, BoardMeeting, EmailPreference, ProgressNote
from improvement.selectors.rounds import current_meeting, round_coverage
from improvement.services.rounds import default_updates_due_on, working_days_before
from tests.factories import (
    ActionFactory,
    AuthorityFactory,
    ImprovementAreaFactory,
    InspectionFactory,
    LeaderFactory,
    OwnerFactory,
    bulk_actions,
)

TODAY = dt.date(2026, 12, 7)  # a Monday
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


@pytest.fixture
def authority(db):
    return AuthorityFactory(name="Knowsley", ons_code="E08000011")


@pytest.fixture
def area(authority):
    return ImprovementAreaFactory(inspection=InspectionFactory(authority=authority))


@pytest.fixture
def leader(authority):
    return LeaderFactory(username="leader", authority=authority)


# Dates


def test_updates_are_due_ten_working_days_before_skipping_bank_holidays():
    # Thursday 14 January 2027: back over New Year's Day and the Christmas bank holidays.
    assert working_days_before(dt.date(2027, 1, 14), 10) == dt.date(2026, 12, 30)
    assert default_updates_due_on(dt.date(2027, 1, 14), today=TODAY) == dt.date(2026, 12, 30)
    # A meeting too close for ten working days: updates are due today.
    assert default_updates_due_on(dt.date(2026, 12, 10), today=TODAY) == TODAY


def test_a_round_opens_the_day_after_the_previous_meeting(authority, leader):
    first = services.board_meeting_create(
        authority=authority, meets_on=dt.date(2027, 1, 14), by=leader, today=TODAY
    )
    assert (first.updates_due_on, first.round_opens_on) == (dt.date(2026, 12, 30), TODAY)
    second = services.board_meeting_create(
        authority=authority, meets_on=dt.date(2027, 3, 11), by=leader, today=TODAY
    )
    assert second.round_opens_on == dt.date(2027, 1, 15)
    assert second.updates_due_on == dt.date(2027, 2, 25)
    assert second.history.get().history_user == leader


@pytest.mark.parametrize(
    ("meets_on", "due", "field"),
    [
        (dt.date(2026, 12, 1), None, "meets_on"),
        (dt.date(2027, 1, 14), dt.date(2027, 1, 15), "updates_due_on"),
        (dt.date(2027, 1, 14), dt.date(2026, 12, 1), "updates_due_on"),
    ],
)
def test_bad_dates_are_refused_and_nothing_is_written(authority, leader, meets_on, due, field):
    with pytest.raises(ValidationError) as caught:
        services.board_meeting_create(
            authority=authority, meets_on=meets_on, updates_due_on=due, by=leader, today=TODAY
        )
    assert field in caught.value.message_dict
    assert not BoardMeeting.objects.exists()


def test_one_meeting_a_day(authority, leader):
    services.board_meeting_create(
        authority=authority, meets_on=dt.date(2027, 1, 14), by=leader, today=TODAY
    )
    with pytest.raises(ValidationError):
        services.board_meeting_create(
            authority=authority, meets_on=dt.date(2027, 1, 14), by=leader, today=TODAY
        )
    assert BoardMeeting.objects.count() == 1


def test_moving_a_meeting(authority, leader):
    meeting = services.board_meeting_create(
        authority=authority, meets_on=dt.date(2027, 1, 14), by=leader, today=TODAY
    )
    moved = services.board_meeting_update(
        meeting=meeting,
        meets_on=dt.date(2027, 1, 21),
        updates_due_on=dt.date(2027, 1, 11),
        by=leader,
        today=TODAY,
    )
    assert (moved.meets_on, moved.updates_due_on, moved.round_opens_on) == (
        dt.date(2027, 1, 21),
        dt.date(2027, 1, 11),
        TODAY,
    )
    assert moved.history.count() == 2
    with pytest.raises(ValidationError):
        services.board_meeting_update(
            meeting=moved,
            meets_on=dt.date(2027, 1, 21),
            updates_due_on=dt.date(2027, 1, 11),
            by=leader,
            today=dt.date(2027, 1, 22),
        )


# Coverage


def test_round_coverage_counts_people_and_actions(authority, area, leader):
    meeting = BoardMeeting.objects.create(
        authority=authority,
        meets_on=dt.date(2026, 12, 17),
        updates_due_on=dt.date(2026, 12, 9),
        round_opens_on=dt.date(2026, 12, 1),
    )
    done, partly, none_yet = (
        OwnerFactory(username=name, authority=authority) for name in ("done", "partly", "none")
    )
    updated = ActionFactory(authority=authority, owner=done, improvement_areas=[area])
    partly_done = ActionFactory(authority=authority, owner=partly, improvement_areas=[area])
    partly_missing = ActionFactory(authority=authority, owner=partly, improvement_areas=[area])
    missing = ActionFactory(authority=authority, owner=none_yet, improvement_areas=[area])
    closed = ActionFactory(
        authority=authority,
        owner=none_yet,
        improvement_areas=[area],
        delivery_status=Action.DeliveryStatus.DELIVERED,
    )
    Action.objects.filter(pk=closed.pk).update(
        impact_status=Action.ImpactStatus.EVIDENCED,
        rag=Action.Rag.BLUE,
        signed_off_by=leader,
        signed_off_at=_at(dt.date(2026, 11, 1)),
    )
    for action, day in [
        (updated, dt.date(2026, 12, 1)),  # the day the round opened counts
        (partly_done, dt.date(2026, 12, 3)),
        (partly_missing, dt.date(2026, 11, 30)),  # before the round
        (missing, dt.date(2026, 12, 18)),  # after the meeting
    ]:
        ProgressNote.objects.create(
            action=action, author=action.owner, text="x", created_at=_at(day)
        )
    coverage = round_coverage(authority, meeting)
    assert (coverage.asked, coverage.updated) == (3, 1)
    assert (coverage.actions_asked, coverage.actions_updated) == (4, 2)
    assert [row.owner for row in coverage.updated_owners] == [done]
    outstanding = {row.owner.username: row.outstanding for row in coverage.not_updated}
    assert outstanding == {"partly": [partly_missing], "none": [missing]}
    assert coverage.percent_updated == 33


def test_reminders_ask_exactly_the_actions_the_coverage_counts_as_outstanding(
    authority, area, leader
):
    """One definition of "updated in the round" (rulebook.updated_in_round) for both."""
    from improvement.selectors.reminders import ROUND, owner_reminders

    meeting = BoardMeeting.objects.create(
        authority=authority,
        meets_on=dt.date(2026, 12, 17),
        updates_due_on=dt.date(2026, 12, 9),
        round_opens_on=dt.date(2026, 12, 1),
    )
    owner = OwnerFactory(username="owner", authority=authority)
    actions = {
        day: ActionFactory(
            authority=authority,
            owner=owner,
            improvement_areas=[area],
            due_date=dt.date(2027, 6, 1),
        )
        for day in (dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 4), None)
    }
    for day, action in actions.items():
        if day is not None:
            services.action_record_progress(
                action=action, by=owner, expected_version=action.version, text="x", at=_at(day)
            )

    with freeze_time(_at(dt.date(2026, 12, 7))):
        coverage = round_coverage(authority, meeting)
        reminders = list(
            owner_reminders(today=dt.date(2026, 12, 7), now=timezone.now(), exclude_sent=False)
        )
    asked = {item.action for r in reminders for item in r.sections.get(ROUND, [])}
    outstanding = {a for row in coverage.not_updated for a in row.outstanding}
    assert asked == outstanding == {actions[dt.date(2026, 11, 30)], actions[None]}


def test_the_current_round_is_the_next_meeting_once_it_opens(authority):
    meeting = BoardMeeting.objects.create(
        authority=authority,
        meets_on=dt.date(2026, 12, 17),
        updates_due_on=dt.date(2026, 12, 9),
        round_opens_on=dt.date(2026, 12, 8),
    )
    assert current_meeting(authority, today=TODAY) is None
    assert current_meeting(authority, today=dt.date(2026, 12, 8)) == meeting
    assert current_meeting(authority, today=dt.date(2026, 12, 17)) == meeting
    assert current_meeting(authority, today=dt.date(2026, 12, 18)) is None


# Pages


def _meeting_post(meets_on: dt.date, due: dt.date | None = None) -> dict:
    data = {"meets_on_0": meets_on.day, "meets_on_1": meets_on.month, "meets_on_2": meets_on.year}
    if due:
        data |= {"updates_due_on_0": due.day, "updates_due_on_1": due.month}
        data["updates_due_on_2"] = due.year
    return data


@freeze_time(NOW)
def test_a_leader_sets_a_meeting_on_the_page(client, authority, leader):
    client.force_login(leader)
    url = reverse("improvement:board-meetings", args=[authority.pk])
    response = client.post(url, _meeting_post(dt.date(2027, 1, 14)))
    meeting = BoardMeeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == meeting.get_absolute_url()
    assert meeting.updates_due_on == dt.date(2026, 12, 30)
    page = client.get(url).content.decode()
    assert "14 January 2027" in page
    assert "updates due by 30 December 2026" in page


@freeze_time(NOW)
def test_bad_dates_on_the_page_show_errors(client, authority, leader):
    client.force_login(leader)
    url = reverse("improvement:board-meetings", args=[authority.pk])
    response = client.post(url, _meeting_post(dt.date(2027, 1, 14), dt.date(2027, 2, 1)))
    assert response.status_code == 200
    html = response.content.decode()
    assert "govuk-error-summary" in html
    assert "Updates must be due on or before the meeting date." in html
    response = client.post(url, {"meets_on_0": "31", "meets_on_1": "2", "meets_on_2": "2027"})
    assert "The meeting date must be a real date" in response.content.decode()
    assert not BoardMeeting.objects.exists()


@freeze_time(NOW)
def test_the_round_page_names_who_has_not_updated(client, authority, area, leader):
    meeting = BoardMeeting.objects.create(
        authority=authority,
        meets_on=dt.date(2026, 12, 17),
        updates_due_on=dt.date(2026, 12, 9),
        round_opens_on=dt.date(2026, 12, 1),
    )
    slow = OwnerFactory(username="slow", authority=authority, first_name="Sam", last_name="Slow")
    action = ActionFactory(
        authority=authority, owner=slow, improvement_areas=[area], title="Audit pathway plans"
    )
    client.force_login(leader)
    html = client.get(meeting.get_absolute_url()).content.decode()
    assert "Sam Slow" in html
    assert action.get_absolute_url() in html
    assert "0 of 1 (0%)" in html
    # The leader can move the dates; an owner cannot.
    response = client.post(
        meeting.get_absolute_url(), _meeting_post(dt.date(2026, 12, 18), dt.date(2026, 12, 10))
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.meets_on == dt.date(2026, 12, 18)
    client.force_login(slow)
    response = client.post(meeting.get_absolute_url(), _meeting_post(dt.date(2026, 12, 19)))
    assert response.status_code == 403


def _page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@freeze_time(NOW)
def test_board_pages_run_the_same_queries_for_10_and_200_actions(client, authority, area, leader):
    meeting = BoardMeeting.objects.create(
        authority=authority,
        meets_on=dt.date(2026, 12, 17),
        updates_due_on=dt.date(2026, 12, 9),
        round_opens_on=dt.date(2026, 12, 1),
    )
    BoardMeeting.objects.create(
        authority=authority,
        meets_on=dt.date(2026, 10, 1),
        updates_due_on=dt.date(2026, 9, 17),
        round_opens_on=dt.date(2026, 9, 1),
    )
    client.force_login(leader)
    urls = [reverse("improvement:board-meetings", args=[authority.pk]), meeting.get_absolute_url()]

    def add(n: int) -> None:
        owners = [OwnerFactory(authority=authority) for _ in range(max(1, n // 10))]
        for i, owner in enumerate(owners):
            bulk_actions(n // len(owners), area=area, owner=owner)
            if i % 2:
                last = Action.objects.filter(owner=owner).first()
                ProgressNote.objects.create(
                    action=last, author=owner, text="x", created_at=_at(dt.date(2026, 12, 2))
                )

    add(10)
    small = [_page_queries(client, url) for url in urls]
    add(190)
    large = [_page_queries(client, url) for url in urls]
    assert small == large


@freeze_time(NOW)
def test_your_emails_previews_today_and_runs_fixed_queries(client, authority, area, leader):
    owner = OwnerFactory(username="owner", authority=authority)
    client.force_login(owner)
    url = reverse("improvement:your-emails")
    html = client.get(url).content.decode()
    assert "Nothing today" in html

    def add(n: int) -> None:
        bulk_actions(n, area=area, owner=owner, due_date=lambda i: TODAY - dt.timedelta(days=1 + i))

    add(3)
    html = client.get(url).content.decode()
    assert "You will be sent this today" in html
    assert "Overdue" in html
    small = _page_queries(client, url)
    add(60)
    assert _page_queries(client, url) == small

    # A leader also sees this week's digest.
    client.force_login(leader)
    html = client.get(url).content.decode()
    assert "exception digest" in html
    assert "Overdue" in html
    small = _page_queries(client, url)
    add(30)
    assert _page_queries(client, url) == small


def test_your_emails_saves_choices_but_not_overdue(client, authority):
    owner = OwnerFactory(username="owner", authority=authority)
    client.force_login(owner)
    url = reverse("improvement:your-emails")
    html = client.get(url).content.decode()
    assert 'name="weekly_digest"' not in html  # owners get no digest to switch off
    assert 'name="overdue"' not in html
    response = client.post(url, {"round_requests": "on", "decisions": "on"})
    assert response.status_code == 302
    preference = EmailPreference.objects.get(user=owner)
    assert (preference.round_requests, preference.due_soon, preference.no_update) == (
        True,
        False,
        False,
    )
    assert preference.decisions is True
    assert preference.history.get().history_user == owner
