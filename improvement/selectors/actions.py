"""Reads of actions: lists, My actions, the whole trail, what a leader weighs at sign-off."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
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
from django.db.models.query import EmptyQuerySet

from improvement import rulebook, scope
from improvement.models import (
    Action,
    DueDateChange,
    Evidence,
    Finding,
    ImprovementArea,
    Inspection,
    Measure,
    MeasureValue,
    Milestone,
    ProgressNote,
    Team,
    Theme,
    User,
)
from improvement.selectors.dashboard import MeasureProgress, measures_with_progress


def action_queryset() -> QuerySet[Action]:
    """Actions with what every list row shows, fetched in one query."""
    return Action.objects.select_related("authority", "owner", "team")


def actions_visible_to(*, user: User) -> QuerySet[Action]:
    """The actions a user may see, as their reach allows."""
    return scope.restrict(action_queryset(), user)


def _owner_parts(*, user: User) -> tuple[QuerySet[Action], QuerySet[Action]]:
    """A user's open actions in two parts that never overlap: owned, and led but not owned.

    Owned ones by the (owner, authority) index; a led team's by its team's open-actions index:
    the teams are limited to the user's scope, and an action's team is of its own authority
    (a database constraint), so those actions need no authority condition of their own. Each
    part is a separate index range, where "owned OR led" would read every open action in scope.
    """
    open_actions = Action.objects.filter(rulebook.not_closed())
    owned = scope.restrict(open_actions, user).filter(owner=user)
    led_teams = scope.restrict(Team.objects.filter(lead=user), user).values("pk")
    led = open_actions.filter(team__in=led_teams).exclude(owner=user)
    return owned, led


def actions_for_owner(*, user: User, today: dt.date) -> QuerySet[Action]:
    """Open actions the user owns or whose team they lead: overdue first, then by due date."""
    owned, led = _owner_parts(user=user)
    overdue = rulebook.overdue(today=today)
    return (
        action_queryset()
        .filter(Q(pk__in=owned.values("pk")) | Q(pk__in=led.values("pk")))
        .annotate(overdue_rank=Case(When(overdue, then=Value(0)), default=Value(1)))
        .order_by("overdue_rank", "due_date", "pk")
    )


class OwnerActionList:
    """`actions_for_owner` as a sequence a paginator slices, read in index order.

    A CASE sort over "owned OR led" makes PostgreSQL read every open action in scope and sort
    them. Here each part (owned, led) is read in three due-date-ordered ranges of its open-actions
    index: overdue; not overdue and due from today; not overdue and due before today (delivered
    late). On PostgreSQL each range stops at the end of the page asked for, and the database
    sorts only those few rows by (overdue first, due date, id). The count reads the two parts
    together, only up to the limit. `rows` is the queryset the page's rows are read from (with
    whatever annotations the page needs), by their ids.
    """

    ordered = True

    def __init__(self, *, user: User, today: dt.date, rows: QuerySet[Action]):
        self.owned, self.led = _owner_parts(user=user)
        self.today = today
        self.rows = rows

    def _ids(self, top: int) -> QuerySet:
        overdue = rulebook.overdue(today=self.today)
        ranges = (
            (0, overdue),
            (1, ~overdue & Q(due_date__gte=self.today)),
            (1, ~overdue & Q(due_date__lt=self.today)),
        )
        parts = [
            part.filter(condition)
            .annotate(overdue_rank=Value(rank))
            .values_list("pk", "overdue_rank", "due_date")
            .order_by("due_date", "pk")
            for part in (self.owned, self.led)
            for rank, condition in ranges
        ]
        # A user who reaches nothing has empty parts, which a union would drop.
        parts = [part for part in parts if not isinstance(part, EmptyQuerySet)]
        if len(parts) <= 1:
            return parts[0] if parts else Action.objects.none().values_list("pk", "pk", "pk")
        # SQLite cannot limit the parts of a UNION; there the whole union is sorted instead.
        if connection.features.supports_slicing_ordering_in_compound:
            parts = [part[:top] for part in parts]
        else:
            parts = [part.order_by() for part in parts]
        return parts[0].union(*parts[1:], all=True).order_by("overdue_rank", "due_date", "pk")

    def count_up_to(self, limit: int) -> int:
        """How many there are, counting no further than `limit`: one query.

        Unordered, the union reads one part after the other and stops at the limit.
        """
        owned, led = (part.order_by().values("pk") for part in (self.owned, self.led))
        return owned.union(led, all=True)[:limit].count()

    def __getitem__(self, window: slice) -> list[Action]:
        if not window.stop or (window.start or 0) >= window.stop:
            return []  # the paginator's window over no rows
        ids = [pk for pk, _, _ in self._ids(window.stop)[window]]
        by_id = {action.pk: action for action in self.rows.filter(pk__in=ids)}
        return [by_id[pk] for pk in ids if pk in by_id]


def action_trail_queryset() -> QuerySet[Action]:
    """Actions with what the detail page shows of the action itself (`action_trail`: the rest)."""
    return action_queryset().select_related("signed_off_by")


# What the detail page shows of an area, of its report paragraphs, and what names the inspection
# (Inspection.__str__).
AREA_SHOWN = ("position", "text", "framework_tag", "is_priority_action", "responsible_body")
FINDING_SHOWN = ("number", "section", "text")
INSPECTION_NAMED_BY = ("kind", "start_date", "publication_date")


@dataclass(frozen=True)
class Trail:
    """Everything linked to one action that its page shows, each part in the order shown."""

    areas: list[ImprovementArea]  # each with `findings`, its report paragraphs by number
    themes: list[str]
    milestones: list[Milestone]
    notes: list[ProgressNote]
    evidence: list[Evidence]
    due_date_changes: list[DueDateChange]
    measures: list[MeasureProgress]


def action_trail(action: Action) -> Trail:
    """The action's whole trail in seven queries, whatever it holds.

    Plain filtered reads rather than prefetch_related: a nested prefetch (an area's paragraphs, a
    measure's values) is skipped when its parents are empty, so the page's query count would
    depend on the data, and the prefetch machinery cost more than the reads themselves. The
    areas come with their paragraphs in one read; each measure's latest value is the subquery
    the dashboard uses.
    """
    pk = action.pk
    # Areas with their paragraphs in one query: one row per (area, paragraph), an area with no
    # paragraph once with none. An action's areas are of its own authority, named already.
    rows = (
        ImprovementArea.objects.filter(actions=pk)
        .order_by()
        .values(
            "pk",
            *AREA_SHOWN,
            "inspection",
            "inspection__authority",
            *(f"inspection__{name}" for name in INSPECTION_NAMED_BY),
            *(f"supporting_findings__{name}" for name in FINDING_SHOWN),
            "supporting_findings__pk",
        )
    )
    areas: dict[int, ImprovementArea] = {}
    for row in sorted(rows, key=_area_order):
        area = areas.get(row["pk"])
        if area is None:
            area = areas[row["pk"]] = ImprovementArea(
                pk=row["pk"], **{name: row[name] for name in AREA_SHOWN}
            )
            inspection = Inspection(
                pk=row["inspection"],
                authority_id=row["inspection__authority"],
                **{name: row[f"inspection__{name}"] for name in INSPECTION_NAMED_BY},
            )
            if inspection.authority_id == action.authority_id:
                inspection.authority = action.authority
            area.inspection = inspection
            area.findings = []
        if row["supporting_findings__number"] is not None:
            area.findings.append(
                Finding(**{name: row[f"supporting_findings__{name}"] for name in FINDING_SHOWN})
            )
    # A measure's actions are of its authority (services.measures), so by name is the models'
    # order (authority, name) without joining the authority.
    measures = Measure.objects.filter(actions=pk).order_by("name", "pk")
    return Trail(
        areas=list(areas.values()),
        themes=list(Theme.objects.filter(actions=pk).values_list("name", flat=True)),
        milestones=sorted(
            Milestone.objects.filter(action=pk).order_by(),
            key=lambda m: (m.position, m.due_date, m.pk),
        ),
        notes=_newest_first(ProgressNote.objects.filter(action=pk).select_related("author")),
        evidence=_newest_first(Evidence.objects.filter(action=pk).select_related("added_by")),
        due_date_changes=_newest_first(
            DueDateChange.objects.filter(action=pk).select_related("requested_by", "decided_by")
        ),
        measures=measures_with_progress(measures),
    )


def _area_order(row: dict) -> tuple:
    """The models' order (ImprovementArea's: by inspection, newest first as PostgreSQL sorts it,
    undated first; then position), each area's paragraphs by number, sorted here: the
    ORDER BY through the joins cost more to compile than sorting a handful of rows."""
    started = row["inspection__start_date"]
    return (
        started is not None,
        -started.toordinal() if started else 0,
        -row["inspection"],
        row["position"],
        row["pk"],
        row["supporting_findings__number"] or 0,
        row["supporting_findings__pk"] or 0,
    )


def _newest_first(rows: QuerySet) -> list:
    """The models' order (-created_at, -pk), sorted here: a handful of rows sort in Python for
    less than an ORDER BY costs to compile."""
    return sorted(rows.order_by(), key=lambda row: (row.created_at, row.pk), reverse=True)


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


@dataclass(frozen=True)
class _LatestChange:
    """The latest deadline request as `with_decisions` annotates it (a DueDateChange's fields)."""

    status: str
    decided_at: dt.datetime | None
    new_date: dt.date | None
    decision_note: str | None


def _decision(
    action: Action,
    *,
    sent_back_note: str | None,
    last_change: DueDateChange | _LatestChange | None,
    refusal_answered: bool,
) -> OwnerDecision | None:
    if action.sent_back_at is not None and not action.is_closed:
        return OwnerDecision(
            kind="sent_back",
            label="Sent back",
            reason=(sent_back_note or "").removeprefix(SENT_BACK_PREFIX),
            when=action.sent_back_at,
        )
    if (
        last_change is not None
        and last_change.status == DueDateChange.Status.REFUSED
        and last_change.decided_at is not None
        and not refusal_answered
        and not action.is_closed
    ):
        return OwnerDecision(
            kind="refused",
            label="New date refused",
            reason=last_change.decision_note,
            when=last_change.decided_at,
            asked_for=last_change.new_date,
        )
    return None


def decision_of(action: Action) -> OwnerDecision | None:
    """The decision awaiting the owner, from `with_decisions` annotations: no query."""
    status = getattr(action, "last_change_status", None)
    return _decision(
        action,
        sent_back_note=getattr(action, "sent_back_note", None),
        last_change=_LatestChange(
            status=status,
            decided_at=getattr(action, "refused_at", None),
            new_date=getattr(action, "refused_date", None),
            decision_note=getattr(action, "refused_reason", None),
        )
        if status is not None
        else None,
        refusal_answered=bool(getattr(action, "refusal_answered", False)),
    )


def decision_in_trail(action: Action, trail: Trail) -> OwnerDecision | None:
    """The decision awaiting the owner, read from its whole trail (`action_trail`): no query.

    The detail page holds every note and deadline request, newest first, so it asks
    `with_decisions`' three questions of them rather than of five more subqueries: the latest
    "Sent back: " note written by the send-back, the latest deadline request, and whether the
    owner or their team lead has written a note since it was refused.
    tests/test_detail_at_scale.py holds the two readings to the same answers.
    """
    sent_back_note = next(
        (
            note.text
            for note in trail.notes
            if action.sent_back_at is not None
            and note.created_at <= action.sent_back_at
            and note.text.startswith(SENT_BACK_PREFIX)
        ),
        None,
    )
    last_change = trail.due_date_changes[0] if trail.due_date_changes else None
    answerers = {action.owner_id, action.team.lead_id if action.team_id else None} - {None}
    refusal_answered = (
        last_change is not None
        and last_change.decided_at is not None
        and any(
            note.author_id in answerers and note.created_at > last_change.decided_at
            for note in trail.notes
        )
    )
    return _decision(
        action,
        sent_back_note=sent_back_note,
        last_change=last_change,
        refusal_answered=refusal_answered,
    )
