"""Reads of inspections: the list, one inspection page, an authority's history."""

from __future__ import annotations

import datetime as dt

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

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
from improvement.selectors.actions import action_queryset


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


def inspection_areas(
    inspection: Inspection, *, today: dt.date, now: dt.datetime, actions_per_area: int
) -> QuerySet[ImprovementArea]:
    """The inspection's areas in report order, each with how many actions answer it
    (`action_count`) and the first few of them, soonest due first, as `first_actions`.

    Only the first few actions are fetched: a page showing every action of every area cost
    ~670 ms of Python for the largest authority's latest inspection at a million actions.
    """
    answering = (
        Action.improvement_areas.through.objects.filter(improvementarea_id=OuterRef("pk"))
        .order_by()
        .values("improvementarea_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    first_actions = rulebook.with_states(action_queryset(), today=today, now=now).order_by(
        "due_date", "pk"
    )
    return (
        ImprovementArea.objects.filter(inspection=inspection)
        .annotate(action_count=Coalesce(Subquery(answering), 0))
        .prefetch_related(
            "themes",
            Prefetch("supporting_findings", queryset=Finding.objects.order_by("number")),
            Prefetch(
                "actions",
                queryset=first_actions[:actions_per_area],
                to_attr="first_actions",
            ),
        )
        .order_by("position", "pk")
    )


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
