"""Reads of the improvement domain, shaped so that a page's query count does not grow with data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from improvement.models import (
    Action,
    Authority,
    DueDateChange,
    Evidence,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
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


def action_detail(*, pk: int) -> Action:
    """One action with its whole trail: report paragraphs, areas, milestones, notes, evidence."""
    areas = ImprovementArea.objects.select_related("inspection__authority").prefetch_related(
        Prefetch("supporting_findings", queryset=Finding.objects.order_by("number"))
    )
    return (
        action_queryset()
        .select_related("signed_off_by")
        .prefetch_related(
            Prefetch("improvement_areas", queryset=areas),
            "themes",
            "milestones",
            Prefetch("notes", queryset=ProgressNote.objects.select_related("author")),
            Prefetch("evidence", queryset=Evidence.objects.select_related("added_by")),
            Prefetch(
                "due_date_changes",
                queryset=DueDateChange.objects.select_related("requested_by", "decided_by"),
            ),
            "measures__values",
        )
        .get(pk=pk)
    )


def inspection_detail(*, pk: int) -> Inspection:
    return (
        Inspection.objects.select_related("authority")
        .prefetch_related(
            Prefetch("judgements", queryset=Judgement.objects.order_by("is_overall", "position")),
            Prefetch(
                "improvement_areas",
                queryset=ImprovementArea.objects.prefetch_related(
                    "themes",
                    "supporting_findings",
                    Prefetch("actions", queryset=action_queryset()),
                ),
            ),
            Prefetch("findings", queryset=Finding.objects.prefetch_related("themes")),
        )
        .get(pk=pk)
    )


def authority_inspections(*, authority: Authority) -> QuerySet[Inspection]:
    """The authority's inspection history, oldest first, with judgements."""
    return (
        Inspection.objects.filter(authority=authority)
        .prefetch_related(
            Prefetch("judgements", queryset=Judgement.objects.order_by("is_overall", "position"))
        )
        # Old inspections may have only a publication date; NULLs sort differently per database.
        .order_by(Coalesce("start_date", "publication_date"), "pk")
    )


# Action pages: lists, "my actions", the whole trail, and what changed while someone edited

# Fields whose changes the action's history shows; bookkeeping (version, last_note_at) is left out.
ACTION_HISTORY_FIELDS = (
    "title",
    "reference",
    "description",
    "owner",
    "team",
    "start_date",
    "due_date",
    "delivery_status",
    "rag",
    "impact_status",
    "priority",
    "success_measure",
    "signed_off_by",
    "closure_note",
)


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    when: dt.datetime
    who: User | None
    created: bool
    changes: tuple[FieldChange, ...]


def actions_visible_to(*, user: User) -> QuerySet[Action]:
    """The actions a user may see: every authority's for national users, else their own."""
    queryset = action_queryset()
    if user.authority_id is not None:
        queryset = queryset.filter(authority_id=user.authority_id)
    return queryset


def actions_for_owner(*, user: User, today: dt.date) -> QuerySet[Action]:
    """Open actions the user owns or whose team they lead: overdue first, then by due date."""
    overdue = Q(due_date__lt=today) & ~Q(delivery_status=Action.DeliveryStatus.DELIVERED)
    # team IN (teams they lead) rather than a join, so each side of the OR can use an index.
    led_teams = Team.objects.filter(lead=user).values("pk")
    return (
        actions_visible_to(user=user)
        .filter(Q(owner=user) | Q(team__in=led_teams))
        .filter(impact_status=Action.ImpactStatus.NOT_ASSESSED)
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


def _history_value(field, value, names: dict[str, dict]) -> str:
    if value is None or value == "":
        return "none"
    if field.name in ("owner", "signed_off_by"):
        return str(names["users"].get(value, "a former user"))
    if field.name == "team":
        return str(names["teams"].get(value, "a former team"))
    if field.choices:
        return str(dict(field.choices).get(value, value))
    if isinstance(value, dt.date):
        return f"{value:%-d %B %Y}"
    return str(value)


def action_history(*, action: Action) -> list[HistoryEntry]:
    """The action's recorded changes, newest first, in three queries whatever their number."""
    records = list(
        Action.history.filter(id=action.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    fields = [Action._meta.get_field(name) for name in ACTION_HISTORY_FIELDS]
    user_ids, team_ids = set(), set()
    for record in records:
        user_ids.update(filter(None, (record.owner_id, record.signed_off_by_id)))
        if record.team_id:
            team_ids.add(record.team_id)
    names = {
        "users": User.objects.in_bulk(user_ids) if user_ids else {},
        "teams": Team.objects.in_bulk(team_ids) if team_ids else {},
    }
    entries: list[HistoryEntry] = []
    previous = None
    for record in records:
        changes = []
        if previous is not None:
            for field in fields:
                old, new = getattr(previous, field.attname), getattr(record, field.attname)
                if old != new:
                    changes.append(
                        FieldChange(
                            field=field.name,
                            label=str(field.verbose_name).capitalize()
                            if field.name != "rag"
                            else "RAG",
                            old=_history_value(field, old, names),
                            new=_history_value(field, new, names),
                        )
                    )
        if previous is None or changes:
            entries.append(
                HistoryEntry(
                    version=record.version,
                    when=record.history_date,
                    who=record.history_user,
                    created=previous is None,
                    changes=tuple(changes),
                )
            )
        previous = record
    entries.reverse()
    return entries


def action_changes_since(
    *, action: Action, version: int
) -> tuple[list[HistoryEntry], list[ProgressNote]]:
    """What others changed after `version`: history entries and the progress notes added since."""
    entries = [entry for entry in action_history(action=action) if entry.version > version]
    base = (
        Action.history.filter(id=action.pk, version=version)
        .order_by("-history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    notes = ProgressNote.objects.filter(action=action).select_related("author")
    notes = list(notes.filter(created_at__gt=base)) if base else list(notes[:5])
    return entries, notes


# Workflow: the slippage register, the sign-off queue and the inspection pages


def due_date_changes_in_scope(
    *, authority_id: int | None, involving: User | None = None
) -> QuerySet[DueDateChange]:
    """Deadline requests of one authority (or all); `involving` narrows to one person's own."""
    queryset = DueDateChange.objects.select_related(
        "action__owner", "action__authority", "requested_by", "decided_by"
    )
    if authority_id is not None:
        queryset = queryset.filter(action__authority_id=authority_id)
    if involving is not None:
        queryset = queryset.filter(
            Q(requested_by=involving) | Q(action__owner=involving) | Q(action__team__lead=involving)
        )
    return queryset


def actions_awaiting_sign_off(*, authority_id: int | None) -> QuerySet[Action]:
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
    queryset = action_queryset().filter(
        delivery_status=Action.DeliveryStatus.DELIVERED,
        impact_status=Action.ImpactStatus.NOT_ASSESSED,
    )
    if authority_id is not None:
        queryset = queryset.filter(authority_id=authority_id)
    return queryset.annotate(
        evidence_count=Coalesce(Subquery(evidence_count), 0),
        delivered_at=Subquery(delivered_at),
    ).order_by("due_date", "pk")


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


def inspections_in_scope(*, authority_id: int | None) -> QuerySet[Inspection]:
    """Inspections newest first, with the overall judgement and how many areas lack an action."""
    areas = ImprovementArea.objects.filter(inspection=OuterRef("pk")).order_by()
    answered = Action.improvement_areas.through.objects.filter(improvementarea_id=OuterRef("pk"))
    area_count = areas.values("inspection").annotate(n=Count("pk")).values("n")
    unanswered_count = (
        areas.filter(~Exists(answered)).values("inspection").annotate(n=Count("pk")).values("n")
    )
    queryset = Inspection.objects.select_related("authority").prefetch_related(
        Prefetch(
            "judgements",
            queryset=Judgement.objects.filter(is_overall=True),
            to_attr="overall_judgements",
        )
    )
    if authority_id is not None:
        queryset = queryset.filter(authority_id=authority_id)
    return queryset.annotate(
        area_count=Coalesce(Subquery(area_count), 0),
        unanswered_area_count=Coalesce(Subquery(unanswered_count), 0),
        sort_date=Coalesce("start_date", "publication_date"),
    ).order_by("-sort_date", "-pk")


def inspection_page_queryset() -> QuerySet[Inspection]:
    """Inspections with judgements, areas and the actions answering them, findings and themes."""
    areas = ImprovementArea.objects.order_by("position").prefetch_related(
        "themes",
        Prefetch("supporting_findings", queryset=Finding.objects.order_by("number")),
        Prefetch("actions", queryset=action_queryset().order_by("due_date", "pk")),
    )
    return Inspection.objects.select_related("authority").prefetch_related(
        Prefetch("judgements", queryset=Judgement.objects.order_by("position", "pk")),
        Prefetch("improvement_areas", queryset=areas),
        Prefetch(
            "findings", queryset=Finding.objects.order_by("number").prefetch_related("themes")
        ),
    )
