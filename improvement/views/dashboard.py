"""The leaders' dashboard: what is off track in one authority's plan, and the national list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from improvement import rulebook, scope
from improvement.access import access_authority
from improvement.clock import action_plan_clock, monitoring_cycle
from improvement.models import Action, Authority, Inspection, Measure, User
from improvement.selectors import dashboard as reads
from improvement.templatetags.action_tags import day, last_update_text

# Shown where a chart draws a category, so colour is never the only cue: text is always present.
STATUS_COLOURS = {"not_started": "grey", "in_progress": "blue", "delivered": "green"}
RAG_COLOURS = {"red": "red", "amber": "amber", "green": "green", "blue": "blue"}
# What a non-zero headline count means: red is off track, amber needs attention soon, blue is
# a decision waiting. A zero count keeps the neutral edge.
HEADLINE_TONES = {
    "overdue": "red",
    "due_soon": "amber",
    "stale": "amber",
    "slipped": "red",
    "awaiting_sign_off": "blue",
    "pending_deadline_changes": "blue",
}
IMPACT_COLOURS = {"not_assessed": "grey", "evidenced": "green", "closed_without_impact": "amber"}


class ActionLinks:
    """Builds links to the action list filtered to exactly the actions a count is about."""

    def __init__(self, authority: Authority):
        self.base = reverse("improvement:action-list")
        self.authority = authority

    def __call__(self, **params) -> str:
        return f"{self.base}?{urlencode({'authority': self.authority.pk, **params})}"


def _chart_rows(counts, prefix, choices, colours, link, param) -> list[dict]:
    total = sum(counts[f"{prefix}_{value}"] for value in choices.values) or 1
    return [
        {
            "label": label,
            "count": counts[f"{prefix}_{value}"],
            "percent": round(counts[f"{prefix}_{value}"] * 100 / total),
            "colour": colours[value],
            "href": link(**{param: value}),
        }
        for value, label in choices.choices
    ]


def _clock(inspections: list[Inspection], today: dt.date) -> dict:
    """The plan clock of the latest inspection that needs a plan, what follows it, and every
    earlier plan not recorded as sent. `inspections` is oldest first, annotated as
    reads.dashboard_inspections does, so no query is made here.
    """
    clocks = [(i, action_plan_clock(i, today)) for i in inspections if i.is_ofsted]
    needing = [(i, c) for i, c in clocks if c.needs_plan]
    if not needing:
        return {"inspection": None, "clock": None, "monitoring": None, "unsent": []}
    inspection, clock = needing[-1]
    later = inspections[inspections.index(inspection) + 1 :]
    return {
        "inspection": inspection,
        "clock": clock,
        "monitoring": monitoring_cycle(inspection, later, clock=clock, today=today),
        "unsent": [{"inspection": i, "clock": c} for i, c in needing[:-1] if not c.is_stopped],
    }


def _format_value(measure: Measure, value: Decimal) -> str:
    # normalize() drops trailing zeros; format "f" stops it writing 100 as 1E+2.
    number = f"{value.normalize():f}"
    if measure.unit == Measure.Unit.PERCENT:
        return f"{number}%"
    if measure.unit == Measure.Unit.DAYS:
        return f"{number} days"
    if measure.unit == Measure.Unit.RATE:
        return f"{number} per 10,000 children"
    return number


def _measure_rows(measures: list[reads.MeasureProgress]) -> list[dict]:
    return [
        {
            "measure": p.measure,
            "progress": p,
            "baseline": _format_value(p.measure, p.measure.baseline_value),
            "target": _format_value(p.measure, p.measure.target_value),
            "latest": _format_value(p.measure, p.latest_value) if p.has_value else "",
        }
        for p in measures
    ]


def _deadline_register_link(user, authority: Authority) -> str | None:
    # The register lists the user's whole scope, so it shows exactly this authority's requests
    # only to its own users; national users get the number without a misleading link.
    if scope.reaches_many(user) or user.authority_id != authority.pk:
        return None
    if not user.has_perm("improvement.see_whole_deadline_register"):
        return None
    return reverse("improvement:deadline-list")


def _exception_rows(actions: list[dict], *, today: dt.date, stale: bool) -> list[dict]:
    """What each row of an exception list shows, as text ready for the page."""
    # One reverse() for the list, each row's link from it.
    href = reverse("improvement:action-detail", args=[0])[: -len("0/")] + "{}/"
    rows = []
    for action in actions:
        if stale:
            days = (today - timezone.localtime(action["last_update"]).date()).days
            when = last_update_text(action["last_note_at"])
            if not action["last_note_at"]:
                added = day(action["created_at"], "j M Y")
                when = f"{when} (added {added})"
        else:
            days = (today - action["due_date"]).days
            when = day(action["due_date"], "j M Y")
        rows.append(
            {
                "pk": action["pk"],
                "href": href.format(action["pk"]),
                "name": f"{action['reference']} {action['title']}".strip(),
                "owner": User.name_from(
                    action["owner__first_name"],
                    action["owner__last_name"],
                    action["owner__username"],
                ),
                "team": action["team__name"] or "No team",
                "when": when,
                "days": days,
            }
        )
    return rows


# The judgement history shows the latest inspections (the inspections page has them all), and
# each recurring theme the latest inspections that raised it, with how many before.
HISTORY_SHOWN = 8
RAISED_BY_SHOWN = 5


def _measures_context(request: HttpRequest, authority: Authority, link: ActionLinks) -> dict:
    if request.GET.get("measures") == "all":
        measures = reads.dashboard_measures(authority=authority)
        total = len(measures)
    else:
        measures, total = reads.dashboard_measures_needing_attention(
            authority=authority, limit=reads.MEASURES_SHOWN
        )
    return {
        "measures": _measure_rows(measures),
        "measures_total": total,
        "measures_cut": total > len(measures),
        "measures_all_href": (
            reverse("improvement:dashboard-authority", args=[authority.pk])
            + "?measures=all#outcomes"
        ),
    }


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """An authority's users go to their dashboard; national and regional users to the overview."""
    user = request.user
    if not user.has_perm("improvement.see_dashboard"):
        raise PermissionDenied
    if not scope.reaches_many(user):
        own = scope.default_authority(user)
        if own is None:
            raise PermissionDenied
        return redirect("improvement:dashboard-authority", pk=own.pk)
    # National and regional users start from the national overview (views/national.py).
    return redirect("improvement:national")


@require_GET
def dashboard_authority(request: HttpRequest, pk: int) -> HttpResponse:
    """One honest page for an improvement board: what is off track, gaps, outcomes, history."""
    authority = access_authority(request.user, pk)
    now = timezone.now()
    today = timezone.localdate(now)
    link = ActionLinks(authority)

    inspections = reads.dashboard_inspections(authority=authority)
    figures = reads.dashboard_figures(
        authority=authority, inspections=inspections, today=today, now=now
    )
    counts = figures.counts
    plan_clock = _clock(inspections, today)

    headline = [
        ("overdue", "Overdue", "due date passed, not delivered", link(overdue=1)),
        (
            "due_soon",
            f"Due in the next {rulebook.DUE_SOON_DAYS} days",
            "not yet delivered",
            link(due_within=rulebook.DUE_SOON_DAYS),
        ),
        (
            "stale",
            f"No update for {rulebook.STALE_AFTER_DAYS} days",
            "open, no progress note",
            link(stale=1),
        ),
        ("slipped", "Slipped", "deadline moved twice or more", link(slipped=1)),
        (
            "awaiting_sign_off",
            "Awaiting impact sign-off",
            "delivered, impact not yet assessed",
            link(awaiting_sign_off=1),
        ),
        (
            "pending_deadline_changes",
            "Deadline changes to decide",
            "requests awaiting a decision",
            _deadline_register_link(request.user, authority),
        ),
    ]
    context = {
        "authority": authority,
        "today": today,
        "counts": counts,
        "headline": [
            {
                "key": key,
                "label": label,
                "hint": hint,
                "count": counts[key],
                "href": href,
                "tone": HEADLINE_TONES[key],
            }
            for key, label, hint, href in headline
        ],
        "all_actions_href": link(),
        "status_rows": _chart_rows(
            counts, "status", Action.DeliveryStatus, STATUS_COLOURS, link, "status"
        ),
        "rag_rows": _chart_rows(counts, "rag", Action.Rag, RAG_COLOURS, link, "rag"),
        "impact_rows": _chart_rows(
            counts, "impact", Action.ImpactStatus, IMPACT_COLOURS, link, "impact"
        ),
        "overdue_rows": _exception_rows(
            reads.dashboard_overdue_actions(authority=authority, today=today),
            today=today,
            stale=False,
        ),
        "stale_rows": _exception_rows(
            reads.dashboard_stale_actions(authority=authority, now=now), today=today, stale=True
        ),
        "overdue_href": link(overdue=1),
        "stale_href": link(stale=1),
        "inspections": inspections,
        "latest_inspection": inspections[-1] if inspections else None,
        "plan_gaps": figures.gaps,
        "live_plan_rule": reads.LIVE_PLAN_RULE,
        **_measures_context(request, authority, link),
        "themes": [
            {
                "item": item,
                "href": link(theme=item.theme.slug),
                "recent": item.inspections[-RAISED_BY_SHOWN:],
                "earlier": max(0, len(item.inspections) - RAISED_BY_SHOWN),
            }
            for item in figures.themes
        ],
        "history": inspections[-HISTORY_SHOWN:],
        "history_cut": len(inspections) > HISTORY_SHOWN,
        "inspections_href": reverse("improvement:inspection-list"),
        "figures": figures,
        "figures_refresh_minutes": max(1, reads.figures_cache_seconds() // 60),
        "clock_inspection": plan_clock["inspection"],
        "clock": plan_clock["clock"],
        "monitoring": plan_clock["monitoring"],
        "unsent_plans": plan_clock["unsent"],
    }
    return render(request, "improvement/dashboard.html", context)
