"""Reads of the improvement domain, shaped so that a page's query count does not grow with data."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from improvement.models import (
    Action,
    Authority,
    DueDateChange,
    Evidence,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    ProgressNote,
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
        .order_by("start_date", "publication_date", "pk")
    )
