"""Inspection pages: the list, and one inspection from judgements to the actions answering it."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from improvement import rulebook, scope
from improvement.access import access_inspection
from improvement.clock import action_plan_clock, monitoring_cycle
from improvement.models import Inspection, User
from improvement.selectors import inspections as inspection_reads
from improvement.templatetags.action_tags import action_state_tags, day

PAGE_SIZE = 25
# A report names a handful of areas, each answered by a handful of actions; past these the page
# pages its areas and sends the rest of an area's actions to the action list, so that it costs
# the same whatever an inspection holds.
AREAS_PER_PAGE = 20
ACTIONS_PER_AREA = 10
# Ofsted stopped giving an overall effectiveness judgement under ILACS from this date.
NO_OVERALL_FROM = dt.date(2026, 4, 1)


@require_GET
def inspection_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("improvement.see_plan"):
        raise PermissionDenied
    queryset = inspection_reads.inspections_in_scope(user=request.user)
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    inspections = list(page_obj.object_list)
    for inspection in inspections:
        inspection.overall = next(iter(inspection.overall_judgements), None)
        inspection.after_overall_removed = _after_overall_removed(inspection)
    return render(
        request,
        "improvement/inspection_list.html",
        {
            "page_obj": page_obj,
            "inspections": inspections,
            "show_authority": scope.reaches_many(request.user),
        },
    )


def _action_row(row: dict, href: str) -> SimpleNamespace:
    """What an area's action row shows, as text ready for the page: a page of areas shows
    hundreds of rows, each cheaper so than through template tags."""
    action = SimpleNamespace(**row)
    states = rulebook.states_from_annotations(action)
    return SimpleNamespace(
        pk=row["pk"],
        href=href.format(row["pk"]),
        name=f"{row['reference']} {row['title']}".strip(),
        owner=User.name_from(
            row["owner__first_name"], row["owner__last_name"], row["owner__username"]
        ),
        team_name=row["team__name"] or "",
        due=day(row["due_date"], "j M Y"),
        states=states,
        status_tags=action_state_tags(action, states),
    )


def _after_overall_removed(inspection: Inspection) -> bool:
    when = inspection.start_date or inspection.publication_date
    return when is not None and when >= NO_OVERALL_FROM


@require_GET
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now)
    inspection = access_inspection(
        request.user, pk, queryset=inspection_reads.inspection_page_queryset()
    )
    judgements = list(inspection.judgements.all())
    page_number = request.GET.get("page")
    linked_area = request.GET.get("area", "")
    if not page_number and linked_area.isdigit():
        # A link to one area (ImprovementArea.get_absolute_url) opens the page that holds it.
        earlier = inspection_reads.area_position(inspection, int(linked_area))
        page_number = earlier // AREAS_PER_PAGE + 1 if earlier is not None else None
    areas_page = Paginator(inspection_reads.inspection_areas(inspection), AREAS_PER_PAGE).get_page(
        page_number
    )
    areas = list(areas_page.object_list)
    first_actions = inspection_reads.area_first_actions(
        [area.pk for area in areas], today=today, now=now, per_area=ACTIONS_PER_AREA
    )
    # One reverse() for the page, each row's link from it.
    href = reverse("improvement:action-detail", args=[0])[: -len("0/")] + "{}/"
    for area in areas:
        area.first_actions = [_action_row(row, href) for row in first_actions[area.pk]]
        area.more_action_count = area.action_count - len(area.first_actions)
    findings = list(inspection.findings.all())
    # Paragraphs are numbered through the report, so one section's paragraphs are consecutive.
    sections = [
        (section, list(group)) for section, group in groupby(findings, key=lambda f: f.section)
    ]
    clock = action_plan_clock(inspection, today)
    return render(
        request,
        "improvement/inspection_detail.html",
        {
            "inspection": inspection,
            "overall": next((j for j in judgements if j.is_overall), None),
            "judgements": [j for j in judgements if not j.is_overall],
            "after_overall_removed": _after_overall_removed(inspection),
            "areas": areas,
            "areas_page": areas_page,
            "unanswered_count": inspection_reads.unanswered_area_count(inspection) if areas else 0,
            "sections": sections,
            "finding_count": len(findings),
            "clock": clock,
            "submissions": list(inspection.plan_submissions.all()),
            "monitoring": monitoring_cycle(
                inspection,
                inspection_reads.inspections_after(inspection),
                clock=clock,
                today=today,
            )
            if clock.needs_plan
            else None,
            "may_record_plan": request.user.has_perm(
                "improvement.record_plan_submission", inspection
            ),
        },
    )
