"""Reads for decisions: the slippage register and the sign-off queue."""

from __future__ import annotations

from django.db.models import (
    Count,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from improvement import rulebook, scope
from improvement.models import (
    Action,
    DueDateChange,
    Evidence,
    ProgressNote,
    User,
)
from improvement.selectors.actions import action_queryset


def due_date_changes_in_scope(
    *, user: User, involving: User | None = None
) -> QuerySet[DueDateChange]:
    """Deadline requests within the user's reach; `involving` narrows to one person's own."""
    queryset = DueDateChange.objects.select_related(
        "action__owner", "action__authority", "requested_by", "decided_by"
    )
    queryset = scope.restrict(queryset, user)
    if involving is not None:
        queryset = queryset.filter(
            Q(requested_by=involving) | Q(action__owner=involving) | Q(action__team__lead=involving)
        )
    return queryset


def recent_due_date_decisions(
    *, user: User, involving: User | None = None, limit: int
) -> QuerySet[DueDateChange]:
    """The latest decided deadline requests within reach, newest first.

    The newest few are picked by id alone, in a subquery, before the rows are joined to their
    action, owner and people: asked for whole rows under a LIMIT, PostgreSQL walks every decision
    in the country newest first and joins each to its action until one of the user's authority
    turns up (744 ms for the largest authority at a million actions), where picking ids hashes
    the authority's actions once and keeps the top few.
    """
    decided = due_date_changes_in_scope(user=user, involving=involving).exclude(
        status=DueDateChange.Status.PENDING
    )
    newest_first = ("-decided_at", "-pk")
    latest_ids = decided.order_by(*newest_first).values("pk")[:limit]
    return (
        due_date_changes_in_scope(user=user)
        .filter(pk__in=Subquery(latest_ids))
        .order_by(*newest_first)
    )


def actions_awaiting_sign_off(*, user: User) -> QuerySet[Action]:
    """Delivered actions not yet closed, with their evidence count and when they were delivered."""
    evidence_count = (
        Evidence.objects.filter(action=OuterRef("pk"))
        .order_by()
        .values("action")
        .annotate(n=Count("pk"))
        .values("n")
    )
    delivered_at = (
        ProgressNote.objects.filter(
            action=OuterRef("pk"), delivery_status_after=Action.DeliveryStatus.DELIVERED
        )
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    queryset = scope.restrict(action_queryset().filter(rulebook.awaiting_sign_off()), user)
    return queryset.annotate(
        evidence_count=Coalesce(Subquery(evidence_count), 0),
        delivered_at=Subquery(delivered_at),
    ).order_by("due_date", "pk")
