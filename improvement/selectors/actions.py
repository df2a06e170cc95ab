"""Reads of actions: lists, My actions, the whole trail, what a leader weighs at sign-off."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from improvement import rulebook, scope
from improvement.models import (
    Action,
    DueDateChange,
    Evidence,
    Finding,
    ImprovementArea,
    Measure,
    MeasureValue,
    Milestone,
    ProgressNote,
    Team,
    User,
)


def action_queryset() -> QuerySet[Action]:
    """Actions with what every list row shows, fetched in one query."""
    return Action.objects.select_related("authority", "owner", "team")


def actions_visible_to(*, user: User) -> QuerySet[Action]:
    """The actions a user may see, as their reach allows."""
    return scope.restrict(action_queryset(), user)


def actions_for_owner(*, user: User, today: dt.date) -> QuerySet[Action]:
    """Open actions the user owns or whose team they lead: overdue first, then by due date."""
    overdue = rulebook.overdue(today=today)
    # team IN (teams they lead) rather than a join, so each side of the OR can use an index.
    led_teams = Team.objects.filter(lead=user).values("pk")
    return (
        actions_visible_to(user=user)
        .filter(Q(owner=user) | Q(team__in=led_teams))
        .filter(rulebook.not_closed())
        .annotate(overdue_rank=Case(When(overdue, then=Value(0)), default=Value(1)))
        .order_by("overdue_rank", "due_date", "pk")
    )


def action_trail_queryset() -> QuerySet[Action]:
    """Actions with the whole trail prefetched: a fixed number of queries for the detail page."""
    areas = ImprovementArea.objects.select_related("inspection__authority").prefetch_related(
        Prefetch("supporting_findings", queryset=Finding.objects.order_by("number"))
    )
    measures = Measure.objects.prefetch_related(
        Prefetch("values", queryset=MeasureValue.objects.order_by("-recorded_on", "-pk"))
    )
    return (
        action_queryset()
        .select_related("signed_off_by")
        .prefetch_related(
            Prefetch("improvement_areas", queryset=areas),
            "themes",
            Prefetch("milestones", queryset=Milestone.objects.order_by("position", "due_date")),
            Prefetch("notes", queryset=ProgressNote.objects.select_related("author")),
            Prefetch("evidence", queryset=Evidence.objects.select_related("added_by")),
            Prefetch(
                "due_date_changes",
                queryset=DueDateChange.objects.select_related("requested_by", "decided_by"),
            ),
            Prefetch("measures", queryset=measures),
        )
    )


def action_sign_off_queryset() -> QuerySet[Action]:
    """Actions with what a leader weighs before closing one: evidence, measures, areas."""
    measures = Measure.objects.prefetch_related(
        Prefetch("values", queryset=MeasureValue.objects.order_by("-recorded_on", "-pk"))
    )
    return action_queryset().prefetch_related(
        Prefetch("evidence", queryset=Evidence.objects.select_related("added_by")),
        Prefetch("measures", queryset=measures),
        Prefetch("improvement_areas", queryset=ImprovementArea.objects.order_by("position")),
    )


# Decisions that reach the owner: a send-back, or a refused new date, until the owner acts.

SENT_BACK_PREFIX = "Sent back: "


def with_decisions(queryset: QuerySet[Action]) -> QuerySet[Action]:
    """Annotate the leader's latest decision the owner has not yet acted on (no extra query).

    Sent back: services.action_send_back records the reason as a note ("Sent back: ...") and
    sets sent_back_at, which the owner's next note clears. Refused: the action's latest
    deadline request was refused, and neither its owner nor its team lead has written a note
    since (a new request would be the latest instead).
    """
    send_back_note = ProgressNote.objects.filter(
        action=OuterRef("pk"),
        created_at__lte=OuterRef("sent_back_at"),
        text__startswith=SENT_BACK_PREFIX,
    ).order_by("-created_at", "-pk")
    latest_change = DueDateChange.objects.filter(action=OuterRef("pk")).order_by(
        "-created_at", "-pk"
    )
    owner_note_since = ProgressNote.objects.filter(
        action=OuterRef("pk"), created_at__gt=OuterRef("refused_at")
    ).filter(Q(author=OuterRef("owner_id")) | Q(author=OuterRef("team__lead_id")))
    return queryset.annotate(
        sent_back_note=Subquery(send_back_note.values("text")[:1]),
        last_change_status=Subquery(latest_change.values("status")[:1]),
        refused_at=Subquery(latest_change.values("decided_at")[:1]),
        refused_date=Subquery(latest_change.values("new_date")[:1]),
        refused_reason=Subquery(latest_change.values("decision_note")[:1]),
    ).annotate(refusal_answered=Exists(owner_note_since))


@dataclass(frozen=True)
class OwnerDecision:
    """What a leader decided that the owner has still to act on."""

    kind: str  # "sent_back" or "refused"
    label: str
    reason: str
    when: dt.datetime
    asked_for: dt.date | None = None


def decision_of(action: Action) -> OwnerDecision | None:
    """The decision awaiting the owner, from `with_decisions` annotations: no query."""
    if action.sent_back_at is not None and not action.is_closed:
        note = getattr(action, "sent_back_note", None) or ""
        return OwnerDecision(
            kind="sent_back",
            label="Sent back",
            reason=note.removeprefix(SENT_BACK_PREFIX),
            when=action.sent_back_at,
        )
    refused_at = getattr(action, "refused_at", None)
    if (
        getattr(action, "last_change_status", None) == DueDateChange.Status.REFUSED
        and refused_at is not None
        and not action.refusal_answered
        and not action.is_closed
    ):
        return OwnerDecision(
            kind="refused",
            label="New date refused",
            reason=action.refused_reason,
            when=refused_at,
            asked_for=action.refused_date,
        )
    return None
