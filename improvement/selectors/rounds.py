"""Reads for the board's rhythm: which meeting's round is running, and who has updated for it.

An owner has updated for a round when every open action they own has a progress note written
between the day the round opened and the end of the meeting day. Helper "packs" prints
`round_coverage` in the board pack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet

from improvement import rulebook, scope
from improvement.models import Action, Authority, BoardMeeting, User

# Kept here for callers; the rulebook defines the round's window.
start_of = rulebook.start_of


def meetings_for(*, user: User, authority: Authority) -> QuerySet[BoardMeeting]:
    return scope.restrict(BoardMeeting.objects.filter(authority=authority), user).order_by(
        "meets_on"
    )


def next_meeting(authority: Authority | int, *, today: dt.date) -> BoardMeeting | None:
    """The authority's next board meeting (today's included)."""
    return (
        BoardMeeting.objects.filter(authority=authority, meets_on__gte=today)
        .order_by("meets_on")
        .first()
    )


def current_meeting(authority: Authority | int, *, today: dt.date) -> BoardMeeting | None:
    """The next meeting, if its update round has opened."""
    meeting = next_meeting(authority, today=today)
    return meeting if meeting is not None and meeting.round_opens_on <= today else None


def current_rounds(*, today: dt.date, authority_ids=None) -> dict[int, BoardMeeting]:
    """Each authority's running round (authority id -> meeting), in one query."""
    queryset = BoardMeeting.objects.filter(meets_on__gte=today).order_by("authority_id", "meets_on")
    if authority_ids is not None:
        queryset = queryset.filter(authority_id__in=authority_ids)
    rounds: dict[int, BoardMeeting] = {}
    for meeting in queryset:
        # Only the first meeting ahead of each authority counts, and only once its round opens.
        if meeting.authority_id not in rounds:
            rounds[meeting.authority_id] = meeting
    return {a: m for a, m in rounds.items() if m.round_opens_on <= today}


@dataclass(frozen=True)
class OwnerCoverage:
    owner: User
    asked: int
    # Open actions of this owner with no note in the round, by due date.
    outstanding: list[Action] = field(default_factory=list)

    @property
    def updated(self) -> int:
        return self.asked - len(self.outstanding)


@dataclass(frozen=True)
class RoundCoverage:
    """Who was asked for an update before a board meeting, who gave one and who has not."""

    meeting: BoardMeeting
    # People (owners of open actions) asked, and how many of them have updated every action.
    asked: int
    updated: int
    not_updated: list[OwnerCoverage]
    updated_owners: list[OwnerCoverage]
    actions_asked: int
    actions_updated: int

    @property
    def percent_updated(self) -> int:
        return round(100 * self.updated / self.asked) if self.asked else 100


def round_coverage(authority: Authority | int, meeting: BoardMeeting) -> RoundCoverage:
    """The coverage of the meeting's round, in one query whatever the size of the plan."""
    actions = (
        Action.objects.filter(rulebook.not_closed(), authority=authority)
        .select_related("owner")
        .annotate(updated_in_round=rulebook.updated_in_round(meeting))
        .order_by("owner__last_name", "owner__first_name", "owner_id", "due_date", "pk")
    )
    by_owner: dict[int, tuple[User, list[Action], list[Action]]] = {}
    for action in actions:
        _, done, outstanding = by_owner.setdefault(action.owner_id, (action.owner, [], []))
        (done if action.updated_in_round else outstanding).append(action)
    rows = [
        OwnerCoverage(owner=owner, asked=len(done) + len(outstanding), outstanding=outstanding)
        for owner, done, outstanding in by_owner.values()
    ]
    not_updated = [row for row in rows if row.outstanding]
    actions_asked = sum(row.asked for row in rows)
    return RoundCoverage(
        meeting=meeting,
        asked=len(rows),
        updated=len(rows) - len(not_updated),
        not_updated=not_updated,
        updated_owners=[row for row in rows if not row.outstanding],
        actions_asked=actions_asked,
        actions_updated=actions_asked - sum(len(row.outstanding) for row in rows),
    )
