"""The national overview: every authority a national or regional user reaches, side by side."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET

from improvement import rulebook, scope
from improvement.models import Authority, Inspection, Judgement
from improvement.selectors import national as reads

# (heading, sort key, numeric)
COLUMNS = [
    ("Authority", "name", False),
    ("Region", "region", False),
    ("Latest Ofsted inspection", "inspection", False),
    ("Overall effectiveness", "judgement", False),
    ("Action-plan clock", "clock", False),
    ("Open actions", "open", True),
    ("Overdue", "overdue", True),
    ("Slipped", "slipped", True),
    (f"No update for {rulebook.STALE_AFTER_DAYS} days", "stale", True),
]
# The figures shown after the clock, in the columns' order.
SHOWN_FIGURES = ("open", "overdue", "slipped", "stale")
# Figures read worst first; names and regions A to Z.
DESCENDING_FIRST = {"open", "overdue", "slipped", "stale", "judgement"}


def govuk_time(moment) -> str:
    """GOV.UK style: "3:27pm", "12:00am"."""
    local = timezone.localtime(moment)
    return f"{local.hour % 12 or 12}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def _headers(request: HttpRequest, active: str) -> list[dict]:
    headers = []
    active_key, descending = active.lstrip("-"), active.startswith("-")
    for label, key, numeric in COLUMNS:
        query = request.GET.copy()
        is_active = key == active_key
        if is_active:
            query["sort"] = key if descending else f"-{key}"
        else:
            query["sort"] = f"-{key}" if key in DESCENDING_FIRST else key
        headers.append(
            {
                "label": label,
                "numeric": numeric,
                "href": f"?{query.urlencode()}",
                "aria_sort": ("descending" if descending else "ascending") if is_active else "none",
            }
        )
    return headers


def _grouped(number: int) -> str:
    # What humanize's intcomma gives in English, without its locale lookups per number (there
    # are hundreds on this page); the clock's texts group their numbers the same way.
    return f"{number:,}"


# Stands for an authority's id in its dashboard address, resolved once per page.
_PK_MARK = 987654321


def _table_rows(rows: list[reads.AuthorityRow]) -> list[dict]:
    """Each authority's cells as the table shows them, worked out once here: the template then
    reads plain values, at about a thousand cells a page nationally."""
    # Authority.get_absolute_url() once, with a marker for the id: reverse() for each of 156
    # authorities cost as much as the rest of the table.
    dashboard_url = Authority(pk=_PK_MARK).get_absolute_url()
    # The choices' labels as dictionaries: get_FOO_display() rebuilds one on every call.
    kinds = {value: str(label) for value, label in Inspection.Kind.choices}
    grades = {value: str(label) for value, label in Judgement.Grade.choices}
    days: dict[dt.date, str] = {}
    table = []
    for row in rows:
        authority, inspection, clock, figures = (
            row.authority,
            row.inspection,
            row.clock,
            row.figures,
        )
        if inspection is not None:
            day = row.inspection_date
            if day not in days:
                # The template's |date:"j M Y", less its lookup of "j M Y" among named formats.
                days[day] = dateformat.format(day, "j M Y")
            inspected = f"{kinds.get(inspection.kind, inspection.kind)}, {days[day]}"
        else:
            inspected = "None recorded"
        if row.overall is not None:
            overall = grades.get(row.overall.grade, row.overall.grade)
        else:
            overall = "Not graded" if inspection is not None else "–"
        if clock is None:
            clock_text = "–"
        elif clock.is_running:
            clock_text = f"Final plan {clock.final.status}"
        else:
            clock_text = "Not running"
        table.append(
            {
                "url": dashboard_url.replace(str(_PK_MARK), str(authority.pk)),
                "name": authority.name,
                "region": authority.region or "Not recorded",
                "inspection": inspected,
                "overall": overall,
                "clock": clock_text,
                **{name: _grouped(getattr(figures, name)) for name in SHOWN_FIGURES},
            }
        )
    return table


def _digest(values: list) -> str:
    """Stands for every value a fragment shows: the fragment is cached as rendered under it."""
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()


@require_GET
def national_overview(request: HttpRequest) -> HttpResponse:
    """For users who reach many authorities; each row leads to that authority's dashboard."""
    user = request.user
    if not user.has_perm("improvement.see_national_overview"):
        raise PermissionDenied
    now = timezone.now()
    region = request.GET.get("region", "").strip()
    neighbours_of = None
    neighbours_pk = request.GET.get("neighbours", "").strip()
    errors = {}
    if neighbours_pk:
        # Only an authority the user reaches; anything else is answered as not found.
        neighbours_of = (
            scope.authorities_for(user).filter(pk=neighbours_pk).first()
            if neighbours_pk.isdigit()
            else None
        )
        if neighbours_of is None:
            errors["neighbours"] = "Select an authority from the list"
    overview = reads.national_overview(
        user=user, now=now, region=region, neighbours_of=neighbours_of
    )
    if region and region not in overview.all_regions:
        errors["region"] = "Select a region from the list"
    sort = request.GET.get("sort", "name")
    if sort.lstrip("-") not in reads.SORTS:
        sort = "name"
    rows = reads.sort_rows(overview.rows, sort)
    reach = scope.reach_of(user)
    table = _table_rows(rows)
    # The id as text: an int in a template is localised, number by number.
    neighbour_choices = [(str(a.pk), a.name, a == neighbours_of) for a in overview.authorities]
    return render(
        request,
        "national/overview.html",
        {
            "overview": overview,
            "rows": rows,
            "table": table,
            "table_key": _digest(table),
            "fragment_seconds": reads.cache_seconds(),
            "neighbour_choices": neighbour_choices,
            "neighbour_key": _digest(neighbour_choices),
            "headers": _headers(request, sort),
            "region": region,
            "neighbours_of": neighbours_of,
            "authorities": overview.authorities,
            "errors": errors,
            "counted_at": govuk_time(overview.counted_at),
            "counted_on": timezone.localtime(overview.counted_at),
            "cache_minutes": reads.cache_seconds() // 60,
            "is_regional": reach == scope.Reach.REGION,
            "filtered": bool(region or neighbours_of),
        },
    )
