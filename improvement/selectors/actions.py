"""Reads of actions: lists, My actions, the whole trail, what a leader weighs at sign-off."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Case,
    Prefetch,
    Q,
    QuerySet,
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
