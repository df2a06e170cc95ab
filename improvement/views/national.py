"""The national overview: every authority a national or regional user reaches, side by side."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from improvement import rulebook, scope
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
    return render(
        request,
        "national/overview.html",
        {
            "overview": overview,
            "rows": rows,
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
