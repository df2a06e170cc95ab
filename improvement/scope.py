"""Who may see and change which authorities' records: the one answer every route asks.

Reach is an explicit grant on the user (their authority, a region, or national); a user with no
grant sees nothing, so a forgotten field fails closed. Superusers are the platform's own
administrators and reach everything. Selectors, filters, rules, access helpers, the admin, the
importer, exports and reports all narrow their querysets here and nowhere else.
"""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

from improvement.models import (
    Action,
    Authority,
    BoardMeeting,
    BoardPack,
    DueDateChange,
    EmailPreference,
    Evidence,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    Measure,
    MeasureValue,
    Milestone,
    PlanImport,
    PlanSubmission,
    ProgressNote,
    SentNotification,
    Team,
    User,
)

Reach = User.Reach

# The lookup from each scoped model to its authority; "" means the model is the authority.
AUTHORITY_PATHS: dict[type[Model], str] = {
    Authority: "",
    Action: "authority",
    Inspection: "authority",
    Team: "authority",
    Measure: "authority",
    User: "authority",
    Judgement: "inspection__authority",
    Finding: "inspection__authority",
    ImprovementArea: "inspection__authority",
    Milestone: "action__authority",
    ProgressNote: "authority",
    Evidence: "authority",
    DueDateChange: "authority",
    MeasureValue: "measure__authority",
    PlanSubmission: "inspection__authority",
    BoardPack: "authority",
    PlanImport: "authority",
    BoardMeeting: "authority",
    # Personal records: scoped by their person's authority.
    SentNotification: "recipient__authority",
    EmailPreference: "user__authority",
}


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def reach_of(user) -> str | None:
    """The user's effective reach, or None when they reach nothing."""
    if not _active(user):
        return None
    if user.is_superuser:
        return Reach.NATIONAL
    if user.reach == Reach.NATIONAL:
        return Reach.NATIONAL
    if user.reach == Reach.REGION:
        return Reach.REGION if user.region else None
    return Reach.AUTHORITY if user.authority_id is not None else None


def reaches_many(user) -> bool:
    """True for national and regional users, who choose among authorities."""
    return reach_of(user) in (Reach.NATIONAL, Reach.REGION)


def authority_q(user, *, path: str = "") -> Q | None:
    """A filter on `path` (a lookup to an Authority) for the user's reach; None means no limit.

    Users with no reach get a filter that matches nothing.
    """
    prefix = f"{path}__" if path else ""
    reach = reach_of(user)
    if reach == Reach.NATIONAL:
        return None
    if reach == Reach.REGION:
        return Q(**{f"{prefix}region": user.region})
    if reach == Reach.AUTHORITY:
        return Q(**{f"{prefix}pk": user.authority_id})
    return Q(pk__in=[])


def restrict(queryset: QuerySet, user, *, path: str | None = None) -> QuerySet:
    """The part of `queryset` the user may see; `path` defaults to the model's authority path."""
    if path is None:
        path = AUTHORITY_PATHS[queryset.model]
    condition = authority_q(user, path=path)
    if condition is None:
        return queryset
    if reach_of(user) is None:
        return queryset.none()
    return queryset.filter(condition)


def authorities_for(user) -> QuerySet[Authority]:
    """The authorities whose records the user may see, by name."""
    return restrict(Authority.objects.order_by("name"), user)


def authority_of(obj) -> Authority | int | None:
    """The authority (or its id) a scoped object belongs to, walking its path."""
    if obj is None:
        return None
    if isinstance(obj, Authority):
        return obj
    path = AUTHORITY_PATHS.get(type(obj))
    if path is None:
        return None
    *hops, last = path.split("__")
    target = obj
    for hop in hops:
        target = getattr(target, hop, None)
        if target is None:
            return None
    return getattr(target, f"{last}_id", None)


def can_reach(user, obj) -> bool:
    """May the user see records of this object's authority (an Authority, id or scoped object)?"""
    reach = reach_of(user)
    if reach is None or obj is None:
        return False
    if reach == Reach.NATIONAL:
        return True
    authority = obj if isinstance(obj, int) else authority_of(obj)
    if authority is None:
        return False
    authority_id = authority if isinstance(authority, int) else authority.pk
    if reach == Reach.AUTHORITY:
        return authority_id == user.authority_id
    region = (
        authority.region
        if isinstance(authority, Authority)
        else Authority.objects.filter(pk=authority_id).values_list("region", flat=True).first()
    )
    return bool(region) and region == user.region


def default_authority(user) -> Authority | None:
    """The authority a user's pages start from: their own, when they have one."""
    return user.authority if reach_of(user) == Reach.AUTHORITY else None
