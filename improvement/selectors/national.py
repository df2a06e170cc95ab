"""Reads for the national overview: every authority a national or regional user reaches, side by
side, with a regional roll-up.

Per authority: its latest Ofsted inspection and its overall judgement, the statutory clock
(clock.py), and its open, overdue, slipped and stale actions. The action figures are ONE grouped
query over all actions (the rulebook's expressions as filtered counts), cached for a few minutes
because at a million actions that query reads the whole table (as an index, not the rows); the
page says when they were counted ("as at"). Inspections and judgements are small (a few per
authority) and always read fresh.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from improvement import rulebook, scope
from improvement.clock import ActionPlanClock, action_plan_clock
from improvement.models import (
    Action,
    Authority,
    ImprovementArea,
    Inspection,
    Judgement,
    PlanSubmission,
    User,
)
from improvement.reference import DATA_DIR

FIGURES = ("total", "open", "overdue", "slipped", "stale")
CACHE_KEY = "national-overview:action-figures:v1"


def cache_seconds() -> int:
    return getattr(settings, "NATIONAL_OVERVIEW_CACHE_SECONDS", 300)


@dataclass
class ActionFigures:
    total: int = 0
    open: int = 0
    overdue: int = 0
    slipped: int = 0
    stale: int = 0

    def add(self, other: ActionFigures) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class AuthorityRow:
    authority: Authority
    figures: ActionFigures
    inspection: Inspection | None = None
    overall: Judgement | None = None
    clock: ActionPlanClock | None = None
    clock_inspection: Inspection | None = None

    @property
    def inspection_date(self) -> dt.date | None:
        if self.inspection is None:
            return None
        return self.inspection.start_date or self.inspection.publication_date

    @property
    def grade_rank(self) -> int:
        # Unjudged sorts after inadequate: a missing judgement is not a good one.
        return Judgement.GRADE_RANK[self.overall.grade] if self.overall else 5

    @property
    def clock_remaining(self) -> int | None:
        if self.clock is None or not self.clock.is_running:
            return None
        return self.clock.final.remaining


@dataclass
class RegionRow:
    region: str
    authorities: int
    figures: ActionFigures
    inadequate: int


@dataclass
class Overview:
    rows: list[AuthorityRow]
    regions: list[RegionRow]
    counted_at: dt.datetime
    all_regions: list[str]
    # Every authority the user reaches, by name (for the statistical-neighbours choice).
    authorities: list[Authority]


def action_figures_query(*, today: dt.date, now: dt.datetime) -> dict[int, ActionFigures]:
    """Open, overdue, slipped and stale actions per authority: one grouped query."""
    # Counted on authority_id (never null, so one per action) rather than the id: every column
    # read is then in the covering index scale_action_auth_states (0010_scale), which PostgreSQL
    # reads alone, index-only, instead of the table's wide rows. Count("*") cannot take a filter.
    rows = (
        Action.objects.order_by()
        .values("authority_id")
        .annotate(
            total=Count("authority_id"),
            open=Count("authority_id", filter=rulebook.not_closed()),
            overdue=Count("authority_id", filter=rulebook.overdue(today=today)),
            slipped=Count("authority_id", filter=rulebook.slipped()),
            stale=Count("authority_id", filter=rulebook.stale(now=now)),
        )
    )
    return {
        row["authority_id"]: ActionFigures(**{name: row[name] for name in FIGURES}) for row in rows
    }


def action_figures(*, now: dt.datetime) -> tuple[dict[int, ActionFigures], dt.datetime]:
    """The per-authority figures and when they were counted (cached, shared between servers).

    Cached for every authority at once and narrowed to the user's reach by the caller, so one
    count serves national and regional users alike; the key holds the date because "overdue"
    changes at midnight.
    """
    today = timezone.localdate(now)
    key = f"{CACHE_KEY}:{today.isoformat()}"
    seconds = cache_seconds()
    if seconds:
        cached = shared_cache.get(key)
        if cached is not None:
            counted_at, figures = cached
            return {pk: ActionFigures(*values) for pk, values in figures.items()}, counted_at
    figures = action_figures_query(today=today, now=now)
    if seconds:
        packed = {pk: tuple(getattr(f, n) for n in FIGURES) for pk, f in figures.items()}
        shared_cache.set(key, (now, packed), seconds)
    return figures, now


@cache
def statistical_neighbours() -> dict[str, tuple[str, ...]]:
    """ONS code -> its ten statistical neighbours' ONS codes, as the DfE publishes them."""
    neighbours = {}
    with (DATA_DIR / "local-authorities.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row.get("la_code_new", "").strip()
            if code.startswith("E"):
                neighbours[code] = tuple(
                    c.strip()
                    for c in row.get("stat_neighbours_la_code", "").split(",")
                    if c.strip()
                )
    return neighbours


def _ofsted_newest_first(**conditions) -> QuerySet[Inspection]:
    return Inspection.objects.filter(kind__in=Inspection.OFSTED_KINDS, **conditions).order_by(
        Coalesce("start_date", "publication_date").desc(), "-pk"
    )


def _candidates(authorities: QuerySet[Authority]) -> tuple[QuerySet, QuerySet]:
    """The ids of each authority's newest Ofsted inspection, and of its newest published one:
    subqueries, one index probe per authority (scale_inspection_auth_newest)."""
    newest = _ofsted_newest_first(authority=OuterRef("pk")).values("pk")[:1]
    newest_published = _ofsted_newest_first(
        authority=OuterRef("pk"), publication_date__isnull=False
    ).values("pk")[:1]
    per_authority = authorities.order_by()
    return (
        per_authority.values(latest=Subquery(newest)),
        per_authority.values(published=Subquery(newest_published)),
    )


def _latest_inspections(
    newest: QuerySet, newest_published: QuerySet
) -> dict[int, tuple[Inspection, Inspection]]:
    """Per authority: its latest Ofsted inspection, and the one its clock runs from (the latest
    with a published report, else the latest), from the candidates above.

    The database picks the (at most) two candidates per authority, each from that authority's
    own inspections, so the few hundred rows read nationally do not grow with the years of
    inspections kept; the choice between them is made below, as before.
    """
    candidates = Q(pk__in=newest) | Q(pk__in=newest_published)
    priority = ImprovementArea.objects.filter(inspection=OuterRef("pk"), is_priority_action=True)
    any_area = ImprovementArea.objects.filter(inspection=OuterRef("pk"))
    inspections = (
        Inspection.objects.filter(candidates)
        .annotate(has_priority=Exists(priority), has_any_area=Exists(any_area))
        .only(
            "pk",
            "authority_id",
            "kind",
            "title",
            "start_date",
            "end_date",
            "publication_date",
        )
        .order_by()
    )
    latest: dict[int, Inspection] = {}
    published: dict[int, Inspection] = {}
    for inspection in inspections:
        when = (inspection.start_date or inspection.publication_date, inspection.pk)
        current = latest.get(inspection.authority_id)
        if current is None or when > (current.start_date or current.publication_date, current.pk):
            latest[inspection.authority_id] = inspection
        if inspection.publication_date is not None:
            current = published.get(inspection.authority_id)
            if current is None or when > (
                current.start_date or current.publication_date,
                current.pk,
            ):
                published[inspection.authority_id] = inspection
    return {pk: (inspection, published.get(pk, inspection)) for pk, inspection in latest.items()}


def national_overview(
    *, user: User, now: dt.datetime, region: str = "", neighbours_of: Authority | None = None
) -> Overview:
    """The authorities the user reaches, with figures; filtered by region or to one authority
    and its statistical neighbours. A fixed number of queries, whatever the number of actions."""
    today = timezone.localdate(now)
    reached = scope.authorities_for(user)
    authorities = list(reached.only("pk", "name", "region", "ons_code"))
    all_regions = sorted({a.region for a in authorities if a.region})
    figures, counted_at = action_figures(now=now)

    regions: dict[str, RegionRow] = {}
    shown: list[Authority] = authorities
    if region:
        shown = [a for a in shown if a.region == region]
    if neighbours_of is not None:
        codes = {neighbours_of.ons_code, *statistical_neighbours().get(neighbours_of.ons_code, ())}
        shown = [a for a in shown if a.ons_code in codes]

    # The reach and the chosen inspections as subqueries, not lists of ids as parameters.
    newest, newest_published = _candidates(reached)
    inspections = _latest_inspections(newest, newest_published)
    # The overall effectiveness judgement is all the page shows of an inspection's judgements.
    overall = {
        judgement.inspection_id: judgement
        # No order: the model's default sorts through the inspection and authority tables.
        for judgement in Judgement.objects.filter(inspection_id__in=newest, is_overall=True)
        .only("pk", "inspection_id", "area", "grade", "is_overall")
        .order_by()
    }

    # The plans recorded as sent stop each clock: one query for every authority's (those of
    # the candidates, a few more than the clocks use).
    submissions: dict[int, list[PlanSubmission]] = {}
    for submission in (
        PlanSubmission.objects.filter(
            Q(inspection_id__in=newest) | Q(inspection_id__in=newest_published)
        )
        .only("inspection_id", "stage", "submitted_on")
        # The model's order without its join through the inspections (the latest sent last).
        .order_by("submitted_on", "pk")
    ):
        submissions.setdefault(submission.inspection_id, []).append(submission)

    rows_by_pk: dict[int, AuthorityRow] = {}
    for authority in authorities:
        row = AuthorityRow(authority=authority, figures=figures.get(authority.pk, ActionFigures()))
        pair = inspections.get(authority.pk)
        if pair is not None:
            row.inspection, row.clock_inspection = pair
            row.overall = overall.get(row.inspection.pk)
            row.clock = action_plan_clock(
                row.clock_inspection,
                today,
                has_priority_actions=row.clock_inspection.has_priority,
                has_improvement_areas=row.clock_inspection.has_any_area,
                submissions=submissions.get(row.clock_inspection.pk, []),
            )
        rows_by_pk[authority.pk] = row
        # The roll-up covers every authority the user reaches, whatever the filter.
        key = authority.region or "Region not recorded"
        rollup = regions.setdefault(key, RegionRow(key, 0, ActionFigures(), 0))
        rollup.authorities += 1
        rollup.figures.add(row.figures)
        if row.overall and row.overall.grade == Judgement.Grade.INADEQUATE:
            rollup.inadequate += 1
    return Overview(
        rows=[rows_by_pk[a.pk] for a in shown],
        regions=sorted(regions.values(), key=lambda r: r.region),
        counted_at=counted_at,
        all_regions=all_regions,
        authorities=authorities,
    )


SORTS = {
    "name": lambda r: r.authority.name,
    "region": lambda r: (r.authority.region, r.authority.name),
    "inspection": lambda r: (r.inspection_date or dt.date.min, r.authority.name),
    "judgement": lambda r: (r.grade_rank, r.authority.name),
    "clock": lambda r: (
        r.clock_remaining if r.clock_remaining is not None else 10**6,
        r.authority.name,
    ),
    **{
        name: (lambda r, name=name: (getattr(r.figures, name), r.authority.name))
        for name in FIGURES
    },
}


def sort_rows(rows: list[AuthorityRow], key: str) -> list[AuthorityRow]:
    descending = key.startswith("-")
    function = SORTS.get(key.lstrip("-"), SORTS["name"])
    return sorted(rows, key=function, reverse=descending)


__all__ = [
    "FIGURES",
    "SORTS",
    "ActionFigures",
    "AuthorityRow",
    "Overview",
    "RegionRow",
    "action_figures",
    "national_overview",
    "sort_rows",
    "statistical_neighbours",
]
