"""Reads of inspections: the list, one inspection page, an authority's history."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from improvement import rulebook, scope
from improvement.models import (
    Action,
    Authority,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    PlanSubmission,
    User,
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


def inspections_in_scope(*, user: User) -> QuerySet[Inspection]:
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
    queryset = scope.restrict(queryset, user)
    return queryset.annotate(
        area_count=Coalesce(Subquery(area_count), 0),
        unanswered_area_count=Coalesce(Subquery(unanswered_count), 0),
        sort_date=Coalesce("start_date", "publication_date"),
    ).order_by("-sort_date", "-pk")


def inspection_page_queryset() -> QuerySet[Inspection]:
    """Inspections with judgements, findings and themes, and plan submissions; areas come apart
    (inspection_areas), a page at a time, so the action plan clock reads whether there are any
    and whether one calls for priority action from these flags."""
    areas = ImprovementArea.objects.filter(inspection=OuterRef("pk"))
    queryset = Inspection.objects.select_related("authority").annotate(
        has_improvement_area=Exists(areas),
        has_priority_action_area=Exists(areas.filter(is_priority_action=True)),
    )
    return queryset.prefetch_related(
        Prefetch("judgements", queryset=Judgement.objects.order_by("position", "pk")),
        Prefetch(
            "findings", queryset=Finding.objects.order_by("number").prefetch_related("themes")
        ),
        Prefetch(
            "plan_submissions",
            queryset=PlanSubmission.objects.select_related("submitted_by").order_by("submitted_on"),
        ),
    )


def inspection_areas(inspection: Inspection) -> QuerySet[ImprovementArea]:
    """The inspection's areas in report order, each with how many actions answer it
    (`action_count`); their first actions come apart, a page of areas at a time
    (area_first_actions)."""
    answering = (
        Action.improvement_areas.through.objects.filter(improvementarea_id=OuterRef("pk"))
        .order_by()
        .values("improvementarea_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        ImprovementArea.objects.filter(inspection=inspection)
        .annotate(action_count=Coalesce(Subquery(answering), 0))
        .prefetch_related(
            "themes",
            Prefetch("supporting_findings", queryset=Finding.objects.order_by("number")),
        )
        .order_by("position", "pk")
    )


# What an area's action row shows: plain values, the owner's and the team's names by a join.
AREA_ACTION_FIELDS = (
    "pk",
    "reference",
    "title",
    "due_date",
    "delivery_status",
    "impact_status",
    "rag",
    "due_date_change_count",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "team__name",
)


def area_first_actions(
    area_ids: list[int], *, today: dt.date, now: dt.datetime, per_area: int
) -> dict[int, list[dict]]:
    """One query (none without areas): the first `per_area` actions answering each area,
    soonest due first, as plain values (AREA_ACTION_FIELDS and the rulebook's state_*
    columns), by area id.

    Plain values, ranked in SQL: built as model instances with their owner, team and
    authority, the 200 actions of a page of 20 areas cost more than the rest of the page
    together at a million actions.
    """
    if not area_ids:
        return {}
    ranked = (
        rulebook.with_states(
            Action.objects.filter(improvement_areas__in=area_ids), today=today, now=now
        )
        .annotate(
            area_id=F("improvement_areas"),
            rank=Window(
                RowNumber(),
                partition_by=F("improvement_areas"),
                order_by=[F("due_date").asc(), F("pk").asc()],
            ),
        )
        .filter(rank__lte=per_area)
        .order_by("area_id", "rank")
        .values(
            "area_id",
            *AREA_ACTION_FIELDS,
            *(f"state_{name}" for name in rulebook.STATE_NAMES),
        )
    )
    first: dict[int, list[dict]] = {pk: [] for pk in area_ids}
    for row in ranked:
        first[row["area_id"]].append(row)
    return first


def area_position(inspection: Inspection, area_pk: int) -> int | None:
    """How many of the inspection's areas come before this one in report order, or None when it
    is not one of the inspection's (one query)."""
    earlier = (
        ImprovementArea.objects.filter(inspection=inspection)
        .filter(
            Q(position__lt=OuterRef("position"))
            | Q(position=OuterRef("position"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("inspection")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        ImprovementArea.objects.filter(inspection=inspection, pk=area_pk)
        .annotate(earlier=Coalesce(Subquery(earlier), 0))
        .values_list("earlier", flat=True)
        .first()
    )


def unanswered_area_count(inspection: Inspection) -> int:
    """How many of the inspection's areas no action answers yet (one query)."""
    answered = Action.improvement_areas.through.objects.filter(improvementarea_id=OuterRef("pk"))
    return ImprovementArea.objects.filter(inspection=inspection).filter(~Exists(answered)).count()


def inspections_after(inspection: Inspection) -> list[Inspection]:
    """The authority's inspections after this one, oldest first, with judgements (two queries)."""
    when = inspection.start_date or inspection.publication_date
    return [
        later
        for later in authority_inspections(authority=inspection.authority)
        if (later.start_date or later.publication_date) > when
    ]
