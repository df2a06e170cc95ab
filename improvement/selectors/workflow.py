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
    """The latest decided deadline requests within reach, newest first: for one authority, the
    first rows of its own index of decisions (each change stores its action's authority)."""
    decided = due_date_changes_in_scope(user=user, involving=involving).exclude(
        status=DueDateChange.Status.PENDING
    )
    return decided.order_by("-decided_at", "-pk")[:limit]


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
