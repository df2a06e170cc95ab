"""Writes for the board's calendar: meeting dates and the update round before each."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from improvement.clock import is_working_day
from improvement.models import Authority, BoardMeeting, User

# Owners are asked to update this many working days before the board meets (issue 13).
ROUND_WORKING_DAYS = 10


def working_days_before(day: dt.date, n: int) -> dt.date:
    """The date n working days before `day` (weekends and bank holidays skipped)."""
    counted = 0
    while counted < n:
        day -= dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def default_updates_due_on(meets_on: dt.date, *, today: dt.date) -> dt.date:
    """10 working days before the meeting, or today when that has already passed."""
    return max(working_days_before(meets_on, ROUND_WORKING_DAYS), today)


def _round_opens_on(
    authority: Authority, meets_on: dt.date, updates_due_on: dt.date, today: dt.date, exclude=None
) -> dt.date:
    """The day after the previous board meeting, else today; never after the due date."""
    previous = BoardMeeting.objects.filter(authority=authority, meets_on__lt=meets_on)
    if exclude is not None:
        previous = previous.exclude(pk=exclude.pk)
    previous = previous.order_by("-meets_on").values_list("meets_on", flat=True).first()
    opens = previous + dt.timedelta(days=1) if previous else today
    return min(opens, updates_due_on)


def _check_dates(meets_on: dt.date, updates_due_on: dt.date, today: dt.date) -> None:
    errors = {}
    if meets_on < today:
        errors["meets_on"] = "The meeting date must be today or in the future."
    if updates_due_on > meets_on:
        errors["updates_due_on"] = "Updates must be due on or before the meeting date."
    elif updates_due_on < today:
        errors["updates_due_on"] = "The date updates are due must be today or in the future."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def board_meeting_create(
    *,
    authority: Authority,
    meets_on: dt.date,
    by: User,
    updates_due_on: dt.date | None = None,
    today: dt.date | None = None,
) -> BoardMeeting:
    """Set a board meeting; its round asks owners for updates by `updates_due_on`."""
    today = today or timezone.localdate()
    updates_due_on = updates_due_on or default_updates_due_on(meets_on, today=today)
    _check_dates(meets_on, updates_due_on, today)
    meeting = BoardMeeting(
        authority=authority,
        meets_on=meets_on,
        updates_due_on=updates_due_on,
        round_opens_on=_round_opens_on(authority, meets_on, updates_due_on, today),
        created_by=by,
    )
    meeting._history_user = by
    meeting.full_clean()
    meeting.save()
    return meeting


@transaction.atomic
def board_meeting_update(
    *,
    meeting: BoardMeeting,
    meets_on: dt.date,
    updates_due_on: dt.date,
    by: User,
    today: dt.date | None = None,
) -> BoardMeeting:
    """Move a meeting or its due date; a round that has opened keeps its opening day."""
    today = today or timezone.localdate()
    meeting = BoardMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.meets_on < today:
        raise ValidationError("This meeting has taken place; its dates can no longer change.")
    _check_dates(meets_on, updates_due_on, today)
    meeting.meets_on = meets_on
    meeting.updates_due_on = updates_due_on
    if meeting.round_opens_on > today:
        meeting.round_opens_on = _round_opens_on(
            meeting.authority, meets_on, updates_due_on, today, exclude=meeting
        )
    meeting.round_opens_on = min(meeting.round_opens_on, updates_due_on)
    meeting._history_user = by
    meeting.full_clean()
    meeting.save()
    return meeting
