"""Reads for the leaders' dashboard: every count is one aggregate query, whatever the data size.

The action states come from the rulebook, so each count equals the list it links to."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from improvement import rulebook
from improvement.models import (
    Action,
    Authority,
    DueDateChange,
    Finding,
    ImprovementArea,
    Inspection,
    Judgement,
    Measure,
    MeasureValue,
    PlanSubmission,
    Theme,
)

EXCEPTION_LIST_LENGTH = 10


ActionAreas = Action.improvement_areas.through


AreaFindings = ImprovementArea.supporting_findings.through


def dashboard_action_counts(
    *, authority: Authority, today: dt.date, now: dt.datetime
) -> dict[str, int]:
    """Every headline count of the authority's plan: one aggregate query over the actions, and
    one over the deadline requests awaiting a decision."""
    counts = _action_counts(authority=authority, today=today, now=now)
    counts["pending_deadline_changes"] = dashboard_pending_deadline_changes(authority=authority)
    return counts


def _action_counts(*, authority: Authority, today: dt.date, now: dt.datetime) -> dict[str, int]:
    # Every column read here is in the covering index on the authority (migration 0011, id
    # included), so PostgreSQL answers without reading the rows.
    counts = {
        "total": Count("pk"),
        "open": Count("pk", filter=~rulebook.closed()),
        "overdue": Count("pk", filter=rulebook.overdue(today=today)),
        "due_soon": Count("pk", filter=rulebook.due_soon(today=today)),
        "stale": Count("pk", filter=rulebook.stale(now=now)),
        "slipped": Count("pk", filter=rulebook.slipped()),
        "awaiting_sign_off": Count("pk", filter=rulebook.awaiting_sign_off()),
    }
    for value in Action.DeliveryStatus.values:
        counts[f"status_{value}"] = Count("pk", filter=Q(delivery_status=value))
    for value in Action.Rag.values:
        counts[f"rag_{value}"] = Count("pk", filter=Q(rag=value))
    for value in Action.ImpactStatus.values:
        counts[f"impact_{value}"] = Count("pk", filter=Q(impact_status=value))
    result = Action.objects.filter(authority=authority).order_by().aggregate(**counts)
    return {key: value or 0 for key, value in result.items()}


def dashboard_pending_deadline_changes(*, authority: Authority) -> int:
    """Deadline requests awaiting a decision: a handful, found through their partial index, so
    always counted live (an action has at most one pending request: a database constraint)."""
    return DueDateChange.objects.filter(
        status=DueDateChange.Status.PENDING, authority=authority
    ).count()


# The plan's figures (headline counts, recurring themes and the gaps in the plan) are kept in the
# shared cache, so a board member's visit does not recount a large plan. They are recounted
# whenever an action of the authority has changed since (the latest `updated_at`, one index
# probe) or the inspections whose plan is live are others, and at the latest after
# DASHBOARD_FIGURES_CACHE_SECONDS, when states that move with time alone (stale, overdue at
# midnight), theme tags and the links behind the gaps are caught up. A plan of
# LARGE_PLAN_ACTIONS or more is recounted only on that timer. Whenever figures come from the
# cache the page says when they were counted, and, if the plan has changed since, that those
# changes are not yet in them.
FIGURES_CACHE_KEY = "dashboard-figures:v2"
LARGE_PLAN_ACTIONS = 10_000


def figures_cache_seconds() -> int:
    return getattr(settings, "DASHBOARD_FIGURES_CACHE_SECONDS", 300)


@dataclass
class PlanFigures:
    counts: dict[str, int]
    themes: list[RecurringTheme]
    counted_at: dt.datetime
    gaps: list[PlanGaps] = field(default_factory=list)
    # True when the figures were counted before the authority's latest change (a large plan).
    behind_changes: bool = False
    from_cache: bool = False


def _latest_change(authority: Authority) -> dt.datetime | None:
    return (
        Action.objects.filter(authority=authority)
        .order_by("-updated_at")
        .values_list("updated_at", flat=True)
        .first()
    )


def figures_cache_key(authority_id: int, today: dt.date) -> str:
    return f"{FIGURES_CACHE_KEY}:{authority_id}:{today.isoformat()}"


def count_large_plans(*, today: dt.date, now: dt.datetime) -> list[tuple[Authority, int]]:
    """Count again, and cache, the figures of every plan of LARGE_PLAN_ACTIONS or more, so that
    no leader waits for them (manage.py count_large_plans, from cron every few minutes).
    Returns each such authority with its number of actions."""
    large = (
        Authority.objects.annotate(actions_count=Count("actions"))
        .filter(actions_count__gte=LARGE_PLAN_ACTIONS)
        .order_by("name")
    )
    counted = []
    for authority in large:
        live = live_inspections(dashboard_inspections(authority=authority))
        counts, _, _ = _count_and_keep(
            authority=authority,
            changed=_latest_change(authority),
            live_ids=tuple(i.pk for i in live),
            today=today,
            now=now,
        )
        counted.append((authority, counts["total"]))
    return counted


def _count_and_keep(
    *,
    authority: Authority,
    changed: dt.datetime | None,
    live_ids: tuple[int, ...],
    today: dt.date,
    now: dt.datetime,
) -> tuple[dict[str, int], list, tuple[list, list]]:
    """Count the plan's figures and keep them in the cache with what they were counted after."""
    counts = _action_counts(authority=authority, today=today, now=now)
    theme_rows = _recurring_theme_rows(authority=authority)
    gap_rows = _plan_gap_rows(live_ids)
    seconds = figures_cache_seconds()
    if seconds:
        shared_cache.set(
            figures_cache_key(authority.pk, today),
            (now, changed, live_ids, counts, theme_rows, gap_rows),
            seconds,
        )
    return counts, theme_rows, gap_rows


def dashboard_figures(
    *, authority: Authority, inspections: list[Inspection], today: dt.date, now: dt.datetime
) -> PlanFigures:
    """The headline counts, recurring themes and the gaps in the live plans, from the cache while
    still true (see above); the deadline requests to decide are counted live every time.
    `inspections`: oldest first, annotated by dashboard_inspections."""
    live = live_inspections(inspections)
    live_ids = tuple(i.pk for i in live)
    changed = _latest_change(authority)
    seconds = figures_cache_seconds()
    cached = shared_cache.get(figures_cache_key(authority.pk, today)) if seconds else None
    figures: PlanFigures | None = None
    if cached is not None:
        counted_at, counted_change, counted_live, counts, theme_rows, gap_rows = cached
        fresh = now - counted_at < dt.timedelta(seconds=seconds)
        large = counts["total"] >= LARGE_PLAN_ACTIONS
        if fresh and counted_live == live_ids and (counted_change == changed or large):
            figures = PlanFigures(
                counts=dict(counts),
                themes=_recurring_from_rows(theme_rows, inspections),
                gaps=_plan_gaps_from_rows(gap_rows, live),
                counted_at=counted_at,
                behind_changes=counted_change != changed,
                from_cache=True,
            )
    if figures is None:
        counts, theme_rows, gap_rows = _count_and_keep(
            authority=authority, changed=changed, live_ids=live_ids, today=today, now=now
        )
        figures = PlanFigures(
            counts=counts,
            themes=_recurring_from_rows(theme_rows, inspections),
            gaps=_plan_gaps_from_rows(gap_rows, live),
            counted_at=now,
        )
    figures.counts["pending_deadline_changes"] = dashboard_pending_deadline_changes(
        authority=authority
    )
    return figures


# What an exception list shows of each action: plain values, not model rows (the owner's and the
# team's names by a join).
EXCEPTION_COLUMNS = (
    "pk",
    "reference",
    "title",
    "due_date",
    "last_note_at",
    "created_at",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "team__name",
)


def dashboard_overdue_actions(
    *, authority: Authority, today: dt.date, limit: int = EXCEPTION_LIST_LENGTH
) -> list[dict]:
    """The most overdue actions first (EXCEPTION_COLUMNS of each)."""
    return list(
        Action.objects.filter(rulebook.overdue(today=today), authority=authority)
        .order_by("due_date", "pk")
        .values(*EXCEPTION_COLUMNS)[:limit]
    )


def dashboard_stale_actions(
    *, authority: Authority, now: dt.datetime, limit: int = EXCEPTION_LIST_LENGTH
) -> list[dict]:
    """The longest-silent open actions first (EXCEPTION_COLUMNS of each, and `last_update`: the
    last note or the creation)."""
    return list(
        Action.objects.filter(rulebook.stale(now=now), authority=authority)
        .annotate(last_update=rulebook.last_update())
        .order_by("last_update", "pk")
        .values(*EXCEPTION_COLUMNS, "last_update")[:limit]
    )


# The authority's inspections with the flags the live plans and the statutory clock need
# (clock.py): an open action answers one of its areas; it has areas; it has areas for priority
# action. Written out, because composing and compiling it through the ORM cost more than running
# it. Only the columns the dashboard shows or reasons on are read (the others are deferred).
# Ordered on the first known date: PostgreSQL sorts NULL start dates last, SQLite first.
_INSPECTIONS = """
SELECT i.id, i.authority_id, i.kind, i.title, i.start_date, i.end_date, i.publication_date,
       i.outcome,
       EXISTS (
           SELECT 1 FROM improvement_improvementarea a
           JOIN improvement_action_improvement_areas aa ON aa.improvementarea_id = a.id
           JOIN improvement_action ac ON ac.id = aa.action_id
           WHERE a.inspection_id = i.id AND ac.impact_status = %s
       ) AS has_open_action,
       EXISTS (
           SELECT 1 FROM improvement_improvementarea a WHERE a.inspection_id = i.id
       ) AS has_improvement_area,
       EXISTS (
           SELECT 1 FROM improvement_improvementarea a
           WHERE a.inspection_id = i.id AND a.is_priority_action
       ) AS has_priority_action_area
FROM improvement_inspection i
WHERE i.authority_id = %s
ORDER BY COALESCE(i.start_date, i.publication_date), i.id
"""


def dashboard_inspections(*, authority: Authority) -> list[Inspection]:
    """The authority's inspections, oldest first, each with its judgements and plans sent
    (`judgements.all()` and `plan_submissions.all()` ask no query), overall_judgement, and the
    flags has_open_action, has_improvement_area and has_priority_action_area (three queries)."""
    inspections = list(Inspection.objects.raw(_INSPECTIONS, [rulebook.NOT_ASSESSED, authority.pk]))
    ids = [i.pk for i in inspections]
    judgements = defaultdict(list)
    for judgement in (
        Judgement.objects.filter(inspection_id__in=ids)
        .only("inspection_id", "area", "grade", "is_overall", "position")
        .order_by("is_overall", "position")
    ):
        judgements[judgement.inspection_id].append(judgement)
    plans = defaultdict(list)
    for plan in PlanSubmission.objects.filter(inspection_id__in=ids).order_by("submitted_on"):
        plans[plan.inspection_id].append(plan)
    for inspection in inspections:
        # SQLite answers EXISTS with 0 or 1.
        inspection.has_open_action = bool(inspection.has_open_action)
        inspection.has_improvement_area = bool(inspection.has_improvement_area)
        inspection.has_priority_action_area = bool(inspection.has_priority_action_area)
        _hold_prefetched(inspection, "judgements", Judgement, judgements[inspection.pk])
        _hold_prefetched(inspection, "plan_submissions", PlanSubmission, plans[inspection.pk])
        inspection.overall_judgement = next(
            (j for j in judgements[inspection.pk] if j.is_overall), None
        )
    return inspections


def _hold_prefetched(instance, relation: str, model, rows: list) -> None:
    """Leave `rows` as prefetch_related leaves a relation (an evaluated QuerySet in the
    instance's prefetch cache), without the filtered QuerySet it builds for each instance:
    0.1 ms an inspection, 40 inspections on the largest plan."""
    queryset = QuerySet(model=model)
    queryset._result_cache = rows
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[relation] = queryset


# Full inspections judge the whole service; each looks back at progress since the one before.
FULL_INSPECTION_KINDS = frozenset(
    {
        Inspection.Kind.ILACS_STANDARD,
        Inspection.Kind.ILACS_SHORT,
        Inspection.Kind.SIF,
        Inspection.Kind.SIF_REINSPECTION,
    }
)
LIVE_PLAN_RULE = (
    "An inspection's plan is live from the full inspection before the latest one onwards "
    "(the latest full inspection judges progress since that one, so both plans and every "
    "visit in between are still being delivered), and an older inspection stays live while "
    "an open action answers it."
)


def live_inspections(inspections: list[Inspection]) -> list[Inspection]:
    """The inspections whose plan is live (LIVE_PLAN_RULE); `inspections` oldest first, annotated
    by dashboard_inspections. With fewer than two full inspections, every inspection is live.
    """
    full = [i for i in inspections if i.kind in FULL_INSPECTION_KINDS]
    since = _when(full[-2]) if len(full) >= 2 else None
    return [i for i in inspections if since is None or _when(i) >= since or i.has_open_action]


# The name the dashboard used before "live" was defined; kept for callers.
current_inspections = live_inspections


def _when(inspection: Inspection) -> dt.date:
    return inspection.start_date or inspection.publication_date


@dataclass(frozen=True)
class GapArea:
    """An improvement area no action answers: what the page shows of it."""

    pk: int
    text: str
    framework_tag: str
    is_priority_action: bool


@dataclass(frozen=True)
class GapFinding:
    """A report paragraph behind no action: what the page shows of it."""

    number: int
    section: str
    text: str


@dataclass
class PlanGaps:
    """Per live inspection: improvement areas with no action, findings behind no action, and
    an Ofsted inspection graded below good with no improvement areas recorded at all."""

    inspection: Inspection
    areas_without_action: list[GapArea] = field(default_factory=list)
    findings_without_action: list[GapFinding] = field(default_factory=list)
    no_areas_recorded: bool = False

    @property
    def is_empty(self) -> bool:
        return (
            not self.areas_without_action
            and not self.findings_without_action
            and not self.no_areas_recorded
        )


def _below_good_without_areas(inspection: Inspection) -> bool:
    """Judged below good somewhere, yet nothing recorded for the plan to answer."""
    good = Judgement.GRADE_RANK[Judgement.Grade.GOOD]
    return (
        inspection.is_ofsted
        and not inspection.has_improvement_area
        and any(j.rank > good for j in inspection.judgements.all())
    )


def _plan_gap_rows(inspection_ids: tuple[int, ...]) -> tuple[list[tuple], list[tuple]]:
    """Two queries: unanswered improvement areas, and paragraphs supporting no answered area,
    as plain values (so that they can be cached), in each inspection's order. Each is an
    anti-join probing every area or paragraph of the inspections (11,000 areas take some 14 ms
    at 100,000 actions), which is why they are counted with the figures."""
    if not inspection_ids:
        return [], []
    has_action = Exists(ActionAreas.objects.filter(improvementarea_id=OuterRef("pk")))
    areas = (
        ImprovementArea.objects.filter(inspection_id__in=inspection_ids)
        .filter(~has_action)
        .order_by("inspection_id", "position")
        .values_list("inspection_id", "pk", "text", "framework_tag", "is_priority_action")
    )
    supports_answered_area = Exists(
        AreaFindings.objects.filter(
            finding_id=OuterRef("pk"),
            improvementarea__actions__isnull=False,
        )
    )
    findings = (
        Finding.objects.filter(inspection_id__in=inspection_ids)
        .filter(~supports_answered_area)
        .order_by("inspection_id", "number")
        .values_list("inspection_id", "number", "section", "text")
    )
    return list(areas), list(findings)


def _plan_gaps_from_rows(rows: tuple[list[tuple], list[tuple]], inspections) -> list[PlanGaps]:
    """The gaps of `inspections` (live, oldest first) from _plan_gap_rows; no query."""
    by_id = {
        i.pk: PlanGaps(inspection=i, no_areas_recorded=_below_good_without_areas(i))
        for i in inspections
    }
    area_rows, finding_rows = rows
    for inspection_id, *area in area_rows:
        by_id[inspection_id].areas_without_action.append(GapArea(*area))
    for inspection_id, *finding in finding_rows:
        by_id[inspection_id].findings_without_action.append(GapFinding(*finding))
    return [gaps for gaps in by_id.values() if not gaps.is_empty]


def dashboard_plan_gaps(*, inspections: list[Inspection]) -> list[PlanGaps]:
    """The gaps of `inspections` counted now (two queries); the dashboard reads them with its
    figures (dashboard_figures)."""
    if not inspections:
        return []
    rows = _plan_gap_rows(tuple(i.pk for i in inspections))
    return _plan_gaps_from_rows(rows, inspections)


@dataclass
class RecurringTheme:
    theme: Theme
    inspections: list[Inspection]
    actions: int
    open_actions: int


# Pairs (theme, action) tagged on the action itself or on an improvement area it answers (as the
# action list's theme filter counts them); UNION removes an action tagged both ways. One grouped
# query, instead of two correlated counts per theme that each read the authority's every action.
_THEMES_WITH_COUNTS = """
SELECT th.*, COALESCE(c.actions, 0) AS actions_count, COALESCE(c.open, 0) AS open_actions
FROM improvement_theme th
LEFT JOIN (
    SELECT pairs.theme_id, COUNT(*) AS actions,
           COUNT(*) FILTER (WHERE pairs.impact_status = %s) AS open
    FROM (
        SELECT t.theme_id, a.id, a.impact_status FROM improvement_action a
        JOIN improvement_action_themes t ON t.action_id = a.id
        WHERE a.authority_id = %s AND t.theme_id IN ({themes})
        UNION
        SELECT it.theme_id, a.id, a.impact_status FROM improvement_action a
        JOIN improvement_action_improvement_areas aa ON aa.action_id = a.id
        JOIN improvement_improvementarea_themes it
          ON it.improvementarea_id = aa.improvementarea_id
        WHERE a.authority_id = %s AND it.theme_id IN ({themes})
    ) pairs
    GROUP BY pairs.theme_id
) c ON c.theme_id = th.id
WHERE th.id IN ({themes})
"""


def _themes_with_counts(*, authority: Authority, theme_ids: list[int]) -> list[Theme]:
    """The themes, each with actions_count and open_actions (the rulebook's not_closed: impact
    not yet assessed), in one query."""
    placeholders = ", ".join(["%s"] * len(theme_ids))
    # Fixed SQL: only placeholders are formatted in; every value travels as a parameter.
    sql = _THEMES_WITH_COUNTS.format(themes=placeholders)
    # The authority is named inside each side of the UNION, so that only its own actions are
    # paired (outside it, PostgreSQL pairs every authority's actions before filtering).
    params = [
        rulebook.NOT_ASSESSED,
        authority.pk,
        *theme_ids,
        authority.pk,
        *theme_ids,
        *theme_ids,
    ]
    return list(Theme.objects.raw(sql, params))


def _recurring_theme_rows(
    *, authority: Authority, minimum: int = 2
) -> list[tuple[Theme, tuple[int, ...], int, int]]:
    """(theme, ids of the inspections raising it, actions, open actions) for each theme raised
    by at least `minimum` inspections (two queries); plain values, so that they can be cached."""
    finding_pairs = (
        Finding.themes.through.objects.filter(finding__inspection__authority=authority)
        .values_list("theme_id", "finding__inspection_id")
        .order_by()
    )
    area_pairs = (
        ImprovementArea.themes.through.objects.filter(
            improvementarea__inspection__authority=authority
        )
        .values_list("theme_id", "improvementarea__inspection_id")
        .order_by()
    )
    # UNION (not ALL) removes duplicate pairs in the database, so the rows returned are bounded
    # by themes x inspections, never by the number of findings.
    seen: dict[int, set[int]] = defaultdict(set)
    for theme_id, inspection_id in finding_pairs.union(area_pairs):
        seen[theme_id].add(inspection_id)
    recurring = {pk: ids for pk, ids in seen.items() if len(ids) >= minimum}
    if not recurring:
        return []
    themes = _themes_with_counts(authority=authority, theme_ids=sorted(recurring))
    return [
        (theme, tuple(sorted(recurring[theme.pk])), theme.actions_count, theme.open_actions)
        for theme in themes
    ]


def _recurring_from_rows(rows, inspections: list[Inspection]) -> list[RecurringTheme]:
    """Most recurrent first; `inspections` (oldest first) supplies the inspections by id."""
    order = {i.pk: position for position, i in enumerate(inspections)}
    by_pk = {i.pk: i for i in inspections}
    result = [
        RecurringTheme(
            theme=theme,
            inspections=sorted(
                (by_pk[pk] for pk in inspection_ids if pk in by_pk), key=lambda i: order[i.pk]
            ),
            actions=actions,
            open_actions=open_actions,
        )
        for theme, inspection_ids, actions, open_actions in rows
    ]
    result.sort(key=lambda r: (-len(r.inspections), r.theme.name))
    return result


def dashboard_recurring_themes(
    *, authority: Authority, inspections: list[Inspection], minimum: int = 2
) -> list[RecurringTheme]:
    """Themes raised by at least `minimum` inspections, most recurrent first (two queries)."""
    rows = _recurring_theme_rows(authority=authority, minimum=minimum)
    return _recurring_from_rows(rows, inspections)


# A board reads a handful of measures: a plan with more shows those furthest from target (the
# dashboard the rest on asking, ?measures=all; the board pack says how many there are).
MEASURES_SHOWN = 20


@dataclass
class MeasureProgress:
    measure: Measure
    latest_value: Decimal | None
    latest_on: dt.date | None

    @property
    def has_value(self) -> bool:
        return self.latest_value is not None

    @property
    def on_target(self) -> bool | None:
        return None if self.latest_value is None else self.measure.is_on_target(self.latest_value)

    @property
    def improving(self) -> bool | None:
        return None if self.latest_value is None else self.measure.is_improving(self.latest_value)

    @property
    def percent_of_way(self) -> int:
        """How far the latest value has come from baseline to target, 0 to 100."""
        return percent_of_way(
            self.latest_value,
            baseline=self.measure.baseline_value,
            target=self.measure.target_value,
        )


def percent_of_way(latest: Decimal | None, *, baseline: Decimal, target: Decimal) -> int:
    """How far a latest value has come from baseline to target, 0 to 100."""
    if latest is None:
        return 0
    # The model's constraint makes the span non-zero and signed with the direction.
    return max(0, min(100, round((latest - baseline) / (target - baseline) * 100)))


def attention_key(
    *, name: str, direction: str, baseline: Decimal, target: Decimal, latest: Decimal | None
) -> tuple:
    """Where a measure comes in measures_needing_attention's order, from plain values (a board
    pack reads hundreds of measures as rows, not model instances)."""
    # Only an improving measure short of its target is part of the way there: one not improving
    # has come 0% of it, one on target 100% (percent_of_way's bounds), one with no value 0%.
    if latest is None:
        return (2, 0, name)
    if Measure.value_on_target(latest, direction=direction, target=target):
        return (3, 100, name)
    if Measure.value_improving(latest, direction=direction, baseline=baseline):
        return (1, percent_of_way(latest, baseline=baseline, target=target), name)
    return (0, 0, name)


def measure_progress_from_prefetched(measure: Measure) -> MeasureProgress:
    """A measure's progress from its prefetched values, newest first: no query of its own.

    The action pages prefetch `values` ordered newest first (as the model's Meta does), so the
    first is the latest, the same one the dashboard's subquery picks.
    """
    values = list(measure.values.all())
    latest = values[0] if values else None
    return MeasureProgress(
        measure=measure,
        latest_value=latest.value if latest else None,
        latest_on=latest.recorded_on if latest else None,
    )


def measures_with_progress(measures: QuerySet[Measure]) -> list[MeasureProgress]:
    """Each measure with its latest value, in the queryset's order, in one query (correlated
    subqueries, no N+1): for the dashboard and for an action's page alike."""
    latest = MeasureValue.objects.filter(measure=OuterRef("pk")).order_by("-recorded_on", "-pk")
    annotated = measures.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_on=Subquery(latest.values("recorded_on")[:1]),
    )
    return [
        MeasureProgress(measure=m, latest_value=m.latest_value, latest_on=m.latest_on)
        for m in annotated
    ]


def dashboard_measures(*, authority: Authority) -> list[MeasureProgress]:
    """Each of the authority's measures with its latest value, by name."""
    return measures_with_progress(Measure.objects.filter(authority=authority).order_by("name"))


def measures_needing_attention(
    measures: list[MeasureProgress], *, limit: int
) -> list[MeasureProgress]:
    """The `limit` measures furthest from where they should be: not improving first, then
    improving but short of target, then those with no value yet, then those on target."""
    return sorted(measures, key=_attention_key)[:limit]


def _attention_key(progress: MeasureProgress) -> tuple:
    measure = progress.measure
    return attention_key(
        name=measure.name,
        direction=measure.direction,
        baseline=measure.baseline_value,
        target=measure.target_value,
        latest=progress.latest_value,
    )


# measures_needing_attention's order, in SQL, so that a plan with hundreds of measures reads only
# the ones it shows. Each measure's latest value is read once, by the unique (measure,
# recorded_on) index alone (one value a day, so the date decides): on PostgreSQL by a lateral
# join; on SQLite, which has none, by two subqueries in a materialised CTE (inlined, they would
# be repeated wherever the value is used).
# Only "improving, not on target" measures differ in percent_of_way (0 < way < 100): not improving
# is 0, no value 0, on target 100, so the other ranks order by name alone. percent_of_way rounds
# half to even, as Python's round() does; SQL's round() rounds halves away from zero.
_MEASURES_NEEDING_ATTENTION = """
WITH latest AS {latest}, ranked AS (
    SELECT latest.*,
        CASE
            WHEN latest_value IS NULL THEN 2
            WHEN (direction = %s AND latest_value >= target_value)
              OR (direction <> %s AND latest_value <= target_value) THEN 3
            WHEN (direction = %s AND latest_value > baseline_value)
              OR (direction <> %s AND latest_value < baseline_value) THEN 1
            ELSE 0
        END AS attention,
        (latest_value - baseline_value) * 100.0 / (target_value - baseline_value) AS way
    FROM latest
)
SELECT id, authority_id, name, unit, direction, baseline_value, baseline_date,
       target_value, target_date,
       CAST(latest_value AS TEXT) AS latest_text, CAST(latest_on AS TEXT) AS latest_on_text,
       COUNT(*) OVER () AS measures_total
FROM ranked
ORDER BY CASE WHEN COUNT(*) OVER () <= %s THEN name END, attention,
    CASE WHEN attention = 1 THEN
        CASE WHEN way - {trunc_way} = 0.5 THEN 2 * round(way / 2) ELSE round(way) END
    ELSE 0 END,
    name {codepoint_order}, id
LIMIT %s
"""
_DIALECT = {
    "postgresql": {
        "latest": """(
    SELECT m.id, m.authority_id, m.name, m.unit, m.direction,
           m.baseline_value, m.baseline_date, m.target_value, m.target_date,
           v.value AS latest_value, v.recorded_on AS latest_on
    FROM improvement_measure m
    LEFT JOIN LATERAL (
        SELECT v.value, v.recorded_on FROM improvement_measurevalue v
        WHERE v.measure_id = m.id ORDER BY v.recorded_on DESC LIMIT 1
    ) v ON true
    WHERE m.authority_id = %s
)""",
        "trunc_way": "trunc(way)",
        # Python compares names by code point, as the "C" collation does.
        "codepoint_order": 'COLLATE "C"',
    },
    "sqlite": {
        "latest": """MATERIALIZED (
    SELECT m.id, m.authority_id, m.name, m.unit, m.direction,
           m.baseline_value, m.baseline_date, m.target_value, m.target_date,
           (SELECT v.value FROM improvement_measurevalue v WHERE v.measure_id = m.id
            ORDER BY v.recorded_on DESC LIMIT 1) AS latest_value,
           (SELECT v.recorded_on FROM improvement_measurevalue v WHERE v.measure_id = m.id
            ORDER BY v.recorded_on DESC LIMIT 1) AS latest_on
    FROM improvement_measure m
    WHERE m.authority_id = %s
)""",
        "trunc_way": "CAST(way AS INTEGER)",
        # SQLite's default collation compares by code point already.
        "codepoint_order": "",
    },
}


def dashboard_measures_needing_attention(
    *, authority: Authority, limit: int
) -> tuple[list[MeasureProgress], int]:
    """The `limit` measures needing attention most, in measures_needing_attention's order, and
    how many measures there are, in one query that builds only the rows shown. When all of them
    fit they come in name order (the database's, as dashboard_measures lists them)."""
    sql = _MEASURES_NEEDING_ATTENTION.format(**_DIALECT[connection.vendor])
    up = Measure.Direction.HIGHER_IS_BETTER
    rows = list(Measure.objects.raw(sql, [authority.pk, up, up, up, up, limit, limit]))
    if not rows:
        return [], 0
    total = rows[0].measures_total
    progress = [
        MeasureProgress(
            measure=m,
            latest_value=None if m.latest_text is None else Decimal(m.latest_text),
            latest_on=None if m.latest_on_text is None else dt.date.fromisoformat(m.latest_on_text),
        )
        for m in rows
    ]
    if total > limit:
        # SQL chose them; their order on the page is measures_needing_attention's own.
        progress.sort(key=_attention_key)
    return progress, total
