"""Reads for the board pack: the plan of one authority for one board meeting, as plain data.

`pack_content` gathers what the pack shows into JSON-ready values (a fixed number of queries,
whatever the plan's size), so that a frozen pack stores exactly what it showed and a later pack can
say what changed since. A pack is read by a director, so it counts every action but lists only the
first few of each exception, each improvement area and each kind of change, saying how many more
there are (and, on the page, linking to the action list filtered to them), and the measures
furthest from target, as the dashboard does: a plan of 100,000 actions is counted in SQL, never
built row by row. States come from the rulebook, the headline figures from the dashboard's
(cached) counts, the statutory clock from clock.py, the update round's coverage from the rounds
selectors.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.urls import reverse
from django.utils.dates import MONTHS_3
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import get_language

from improvement import clock, rulebook, scope
from improvement.models import (
    Action,
    Authority,
    BoardMeeting,
    BoardPack,
    ImprovementArea,
    Inspection,
    Measure,
    MeasureValue,
    User,
)
from improvement.paging import count_label
from improvement.selectors.dashboard import (
    MEASURES_SHOWN,
    attention_key,
    dashboard_action_counts,
    dashboard_figures,
    dashboard_inspections,
)
from improvement.selectors.rounds import round_coverage

# The exceptions a board asks about, in the order the pack lists them: (state, heading).
EXCEPTIONS = [
    ("overdue", "Overdue"),
    ("off_track", "Off track (red)"),
    ("slipped", f"Re-dated {rulebook.SLIPPED_AFTER_CHANGES} times or more"),
    ("stale", f"No update for {rulebook.STALE_AFTER_DAYS} days"),
    ("awaiting_sign_off", "Delivered, awaiting sign-off"),
    ("sent_back", "Sent back to the owner"),
]

_EXCEPTION_LABELS = {
    "overdue": "Overdue",
    "off_track": "Red",
    "slipped": "Re-dated",
    "stale": "No update",
    "awaiting_sign_off": "Awaiting sign-off",
    "sent_back": "Sent back",
}

# The action list's filters that show all of one exception (sent back has none).
_EXCEPTION_LIST_FILTERS = {
    "overdue": {"overdue": 1},
    "off_track": {"rag": Action.Rag.RED},
    "slipped": {"slipped": 1},
    "stale": {"stale": 1},
    "awaiting_sign_off": {"awaiting_sign_off": 1},
}

# How much a pack lists: the first actions of each exception and of each kind of change, the
# first improvement areas (newest inspection first) and the first actions of each. Everything
# is counted; the rest is "and N more".
PACK_LIST_LENGTH = 10
PACK_AREAS_SHOWN = 30
AREA_ACTIONS_SHOWN = 5
PACK_MEASURES_SHOWN = MEASURES_SHOWN
# Areas are counted up to this many, and a plan with more says "more than". A council's plan
# has tens; the benchmark's largest holds 11,000, which took longer to count than to build
# the rest of the pack's list of areas.
PACK_AREAS_COUNTED = 1000

_STATUS = dict(Action.DeliveryStatus.choices)
_IMPACT = dict(Action.ImpactStatus.choices)
_RAG = dict(Action.Rag.choices)
_ActionAreas = Action.improvement_areas.through


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _number(value: Decimal | None) -> str | None:
    # Decimals as strings, so that the frozen JSON holds exactly what was recorded.
    return None if value is None else format(value.normalize(), "f")


def round_coverage_for(authority: Authority, board_date: dt.date) -> dict | None:
    """The update round before this meeting, as the pack prints it, or None when the board has
    no meeting recorded on that date (the pack then says "No update round recorded")."""
    meeting = BoardMeeting.objects.filter(authority=authority, meets_on=board_date).first()
    if meeting is None:
        return None
    coverage = round_coverage(authority, meeting)
    still_to_update = ", ".join(
        f"{person.owner.get_full_name() or person.owner.username} ({len(person.outstanding)})"
        for person in coverage.not_updated
    )
    return {
        "updates asked for by": date_format(meeting.updates_due_on, "j F Y"),
        "owners asked": coverage.asked,
        "owners who have updated every action": coverage.updated,
        "actions updated": f"{coverage.actions_updated} of {coverage.actions_asked}",
        "still to update (actions outstanding)": still_to_update or "Nobody",
    }


# What a listed action shows: plain values, the owner's and the team's names by a join.
_ROW_FIELDS = (
    "pk",
    "reference",
    "title",
    "start_date",
    "original_due_date",
    "due_date",
    "delivery_status",
    "impact_status",
    "rag",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "team__name",
)


def _action_row(row: dict) -> dict:
    states = rulebook.states_from_annotations(SimpleNamespace(**row))
    flags = [name for name in rulebook.STATE_NAMES if getattr(states, name)]
    if row["off_track"]:
        flags.append("off_track")
    return {
        "id": row["pk"],
        "reference": row["reference"],
        "title": row["title"],
        "owner": User.name_from(
            row["owner__first_name"], row["owner__last_name"], row["owner__username"]
        ),
        "team": row["team__name"] or "",
        "start": _iso(row["start_date"]),
        "original_due": _iso(row["original_due_date"]),
        "due": _iso(row["due_date"]),
        "status": row["delivery_status"],
        "status_label": _STATUS[row["delivery_status"]],
        "impact": row["impact_status"],
        "impact_label": _IMPACT[row["impact_status"]],
        "rag": row["rag"],
        "rag_label": _RAG[row["rag"]],
        "states": flags,
        "closed": states.closed,
    }


def _action_rows(ids: set[int], *, today: dt.date, now: dt.datetime) -> list[dict]:
    """One query: the actions the pack lists, with their states and who owns them."""
    if not ids:
        return []
    rows = rulebook.with_states(Action.objects.filter(pk__in=ids), today=today, now=now)
    state_columns = [f"state_{name}" for name in rulebook.STATE_NAMES]
    return [
        _action_row(row)
        for row in rows.annotate(off_track=rulebook.flag(rulebook.off_track()))
        .order_by("due_date", "pk")
        .values(*_ROW_FIELDS, *state_columns, "off_track")
    ]


def exception_querysets(
    authority: Authority, *, today: dt.date, now: dt.datetime
) -> dict[str, QuerySet[Action]]:
    """Each exception's actions, in the order the pack lists them (each read on an index of
    its own: the pack LIMITs them)."""
    plan = Action.objects.filter(authority=authority)
    by_due = ("due_date", "pk")
    lists = {
        "overdue": plan.filter(rulebook.overdue(today=today)).order_by(*by_due),
        "off_track": plan.filter(rulebook.off_track()).order_by(*by_due),
        "slipped": plan.filter(rulebook.slipped()).order_by(*by_due),
        # The longest silent first, as the dashboard lists them.
        "stale": plan.filter(rulebook.stale(now=now))
        .annotate(last_update=rulebook.last_update())
        .order_by("last_update", "pk"),
        "awaiting_sign_off": plan.filter(rulebook.awaiting_sign_off()).order_by(*by_due),
        "sent_back": plan.filter(rulebook.sent_back()).order_by(*by_due),
    }
    return lists


def _exception_lists(authority: Authority, *, today: dt.date, now: dt.datetime) -> dict:
    """One query per exception: the first PACK_LIST_LENGTH actions of each."""
    return {
        state: list(queryset.values_list("pk", flat=True)[:PACK_LIST_LENGTH])
        for state, queryset in exception_querysets(authority, today=today, now=now).items()
    }


def _summary(
    authority: Authority,
    inspections: list[Inspection],
    *,
    today: dt.date,
    now: dt.datetime,
    live: bool,
) -> tuple[dict, dict]:
    """The headline counts and each exception's count. `live`: counted now (a pack being
    frozen); otherwise the dashboard's figures, from its cache while still true, with when they
    were counted."""
    if live:
        counts = dashboard_action_counts(authority=authority, today=today, now=now)
        counts["counted_at"] = now.isoformat()
        counts["behind_changes"] = False
    else:
        figures = dashboard_figures(
            authority=authority,
            inspections=inspections,
            today=today,
            now=now,
        )
        counts = dict(figures.counts)
        counts["counted_at"] = figures.counted_at.isoformat()
        counts["behind_changes"] = figures.behind_changes
    # Red is open by definition (blue if and only if closed: a database constraint), so the
    # off-track actions are the red ones.
    counts["off_track"] = counts["rag_red"]
    # Few actions are sent back at once, and a partial index finds them: counted live.
    counts["sent_back"] = (
        exception_querysets(authority, today=today, now=now)["sent_back"].order_by().count()
    )
    exception_counts = {state: counts[state] for state, _ in EXCEPTIONS}
    return counts, exception_counts


class _CountUpTo(Subquery):
    """How many rows a LIMITed queryset has: a count that stops at the limit."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()


def _areas(authority: Authority, *, today: dt.date) -> tuple[list[dict], int, bool]:
    """Three queries: the authority's improvement areas, newest inspection first (the first
    PACK_AREAS_SHOWN of them, each row with how many there are in all, counted up to
    PACK_AREAS_COUNTED), each shown area's figures and its first actions by due date. Returns
    the rows, the count, and whether there are more than PACK_AREAS_COUNTED."""
    all_areas = ImprovementArea.objects.filter(inspection__authority=authority)
    # Counted in the same query, so that a plan with more areas than the pack lists asks no more
    # queries than a small one: as a subquery PostgreSQL counts once, where a window over every
    # area would read them all rather than the newest inspection's first few in index order.
    total = _CountUpTo(all_areas.order_by().values("pk")[: PACK_AREAS_COUNTED + 1])
    areas = list(
        all_areas.select_related("inspection")
        .annotate(total=total)
        .order_by(
            Coalesce("inspection__start_date", "inspection__publication_date").desc(),
            "-inspection_id",
            "position",
            "pk",
        )[:PACK_AREAS_SHOWN]
    )
    if not areas:
        return [], 0, False
    count = min(areas[0].total, PACK_AREAS_COUNTED)
    more_than_counted = areas[0].total > PACK_AREAS_COUNTED
    ids = [area.pk for area in areas]
    figures = {
        row["improvement_areas"]: row
        for row in Action.objects.filter(improvement_areas__in=ids)
        .values("improvement_areas")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=rulebook.not_closed()),
            red=Count("pk", filter=Q(rag=Action.Rag.RED)),
            overdue=Count("pk", filter=rulebook.overdue(today=today)),
        )
        .order_by()
    }
    first_actions: dict[int, list[int]] = defaultdict(list)
    ranked = (
        _ActionAreas.objects.filter(improvementarea_id__in=ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("improvementarea_id"),
                order_by=[F("action__due_date").asc(), F("action_id").asc()],
            )
        )
        .filter(rank__lte=AREA_ACTIONS_SHOWN)
        .order_by("improvementarea_id", "rank")
        .values_list("improvementarea_id", "action_id")
    )
    for area_id, action_id in ranked:
        first_actions[area_id].append(action_id)
    rows = []
    for area in areas:
        numbers = figures.get(area.pk, {})
        rows.append(
            {
                "id": area.pk,
                "inspection": area.inspection.title or area.inspection.get_kind_display(),
                "position": area.position,
                "text": area.text,
                "is_priority_action": area.is_priority_action,
                "actions": first_actions[area.pk],
                "count": numbers.get("total", 0),
                "open": numbers.get("open", 0),
                "red": numbers.get("red", 0),
                "overdue": numbers.get("overdue", 0),
            }
        )
    return rows, count, more_than_counted


def _trend(direction: str, latest: Decimal | None, previous: Decimal | None) -> str:
    if latest is None or previous is None:
        return "none"
    if latest == previous:
        return "steady"
    better = latest > previous
    if direction == Measure.Direction.LOWER_IS_BETTER:
        better = not better
    return "improving" if better else "worsening"


def _labels(model, field: str) -> dict:
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


def _measures(authority: Authority, *, today: dt.date) -> tuple[list[dict], int, dict[int, tuple]]:
    """One query: the measures the pack lists, each with its latest two values up to the day
    (each read on the (measure, date) unique index, rather than every value of the plan's
    measures); how many measures there are; and of every measure (id: (name, latest, trend)),
    what the next pack compares with. A plan with more than PACK_MEASURES_SHOWN lists those
    furthest from target, in the dashboard's order (its attention_key)."""
    # One value a day at most (a unique constraint), so the date orders them.
    values = MeasureValue.objects.filter(measure=OuterRef("pk"), recorded_on__lte=today).order_by(
        "-recorded_on"
    )
    # Read as tuples, not model instances: the largest plans have hundreds of measures, of
    # which the pack builds rows for the few it lists.
    rows = list(
        Measure.objects.filter(authority=authority)
        .annotate(
            latest=Subquery(values.values("value")[:1]),
            latest_on=Subquery(values.values("recorded_on")[:1]),
            previous=Subquery(values.values("value")[1:2]),
        )
        .order_by("name")
        .values_list(
            "pk",
            "name",
            "unit",
            "direction",
            "baseline_value",
            "target_value",
            "target_date",
            "latest",
            "latest_on",
            "previous",
        )
    )
    every = {
        pk: (name, _number(latest), _trend(direction, latest, previous))
        for pk, name, _, direction, _, _, _, latest, _, previous in rows
    }
    if len(rows) > PACK_MEASURES_SHOWN:
        rows = heapq.nsmallest(
            PACK_MEASURES_SHOWN,
            rows,
            key=lambda row: attention_key(
                name=row[1], direction=row[3], baseline=row[4], target=row[5], latest=row[7]
            ),
        )
    # The choices' labels once, not through get_FOO_display for each measure.
    units = _labels(Measure, "unit")
    directions = _labels(Measure, "direction")
    shown = [
        {
            "id": pk,
            "name": name,
            "unit": units.get(unit, unit),
            "direction": directions.get(direction, direction),
            "baseline": _number(baseline),
            "target": _number(target),
            "target_date": _iso(target_date),
            "latest": every[pk][1],
            "latest_on": _iso(latest_on),
            "previous": _number(previous),
            "trend": every[pk][2],
            "on_target": (
                None
                if latest is None
                else Measure.value_on_target(latest, direction=direction, target=target)
            ),
        }
        for (
            pk,
            name,
            unit,
            direction,
            baseline,
            target,
            target_date,
            latest,
            latest_on,
            previous,
        ) in rows
    ]
    return shown, len(every), every


def measure_snapshot(every: dict[int, tuple]) -> str:
    """Every measure's latest value as a frozen pack keeps it for the next pack to compare
    with: one line per measure ("id latest", the value empty when there is none)."""
    return "\n".join(f"{pk} {latest or ''}" for pk, (_, latest, _) in every.items())


def _clock(authority: Authority, inspections: list[Inspection], *, today: dt.date) -> dict | None:
    """The statutory clock of the latest Ofsted inspection, if there is one (no query:
    `inspections` are dashboard_inspections', with their flags and plans sent)."""
    ofsted = [i for i in inspections if i.is_ofsted]
    if not ofsted:
        return None
    # Every inspection has a start or a publication date (a database constraint).
    inspection = max(ofsted, key=lambda i: (i.start_date or i.publication_date, i.pk))
    inspection.authority = authority
    plan_clock = clock.action_plan_clock(inspection, today)
    return {
        "inspection": str(inspection),
        "publication_date": _iso(plan_clock.publication_date),
        "not_started_reason": plan_clock.not_started_reason,
        "deadlines": [
            {"label": d.label, "due": _iso(d.due), "status": d.status, "overdue": d.is_overdue}
            for d in plan_clock.deadlines
        ],
    }


def previous_pack(authority: Authority, board_date: dt.date) -> QuerySet[BoardPack]:
    """The latest frozen pack for an earlier meeting, what this one compares against: a
    queryset of at most one, without its heavy columns."""
    return (
        BoardPack.objects.filter(authority=authority, board_date__lt=board_date)
        .defer("content", "html")
        .order_by("-board_date", "-pk")[:1]
    )


def plan_snapshot(authority: Authority) -> str:
    """One query: every action's due date, RAG and whether closed, as a frozen pack keeps them
    for the next pack to compare with: one line per action ("id due rag closed"), a single JSON
    string, so that reading a frozen pack does not decode a list of every action."""
    rows = (
        Action.objects.filter(authority=authority)
        .annotate(is_closed=rulebook.flag(rulebook.closed()))
        .order_by("pk")
        .values_list("pk", "due_date", "rag", "is_closed")
    )
    return "\n".join(
        f"{pk} {due.isoformat()} {rag} {int(bool(closed))}" for pk, due, rag, closed in rows
    )


def _snapshot_of(
    previous: QuerySet[BoardPack], *, of_actions: bool
) -> tuple[dt.date, str | None, list[dict] | None, dict[int, str | None]] | None:
    """One query: the earlier frozen pack's meeting date and what it recorded of its actions
    (only when `of_actions`: the largest part of it) and of its measures' latest values, or
    None when there is no earlier pack. Packs frozen before snapshots were kept hold every
    action and every measure in full instead."""
    keys = ["board_date", "content__measure_snapshot", "content__measures"]
    if of_actions:
        keys = [*keys, "content__snapshot", "content__actions"]
    row = previous.values_list(*keys).first()
    if row is None:
        return None
    board_date, measure_lines, measures, *of_its_actions = row
    snapshot, actions = of_its_actions or (None, None)
    if measure_lines is None:
        latest = {m["id"]: m["latest"] for m in measures or []}
    else:
        latest = {
            int(pk): value or None
            for pk, value in (line.split(" ") for line in measure_lines.splitlines())
        }
    return board_date, snapshot, actions, latest


# The most a snapshot line holds after its id: " 2027-01-31 amber 1".
_SNAPSHOT_LINE_TAIL = len(" yyyy-mm-dd ") + max(map(len, Action.Rag.values)) + len(" 1")


def _recorded(
    snapshot: str | None, actions: list[dict] | None, pks: list[int]
) -> dict[int, tuple[str, str, bool]]:
    """What the earlier pack recorded of these actions: (due, rag, closed), by id (of every
    action it recorded, when most of them are asked for).

    The snapshot's lines are in id order, so the actions are looked for in id order, each from
    the line after the last one found, by str.find: after an update round thousands of a large
    plan's actions are written since, and parsing every line of its snapshot cost as much as
    the rest of the draft. An action the snapshot lacks (new since) is looked for no further
    than its line could be: between two lines there are at most as many lines as ids between
    them. When most of the plan is asked for, every line is read once instead."""
    if snapshot is None:
        return {a["id"]: (a["due"], a["rag"], a["closed"]) for a in actions or []}
    if not snapshot or not pks:
        return {}
    recorded = {}
    if len(pks) * 5 > (snapshot.count("\n") + 1) * 2:
        for line in snapshot.splitlines():
            pk, due, rag, closed = line.split(" ")
            recorded[int(pk)] = (due, rag, closed == "1")
        return recorded
    last_line = snapshot.rfind("\n") + 1
    line_length = snapshot.index(" ", last_line) - last_line + _SNAPSHOT_LINE_TAIL
    position = 0  # where the next line to read starts
    previous = int(snapshot[: snapshot.index(" ")]) - 1  # no line before `position` has a higher id
    for pk in sorted(set(pks)):
        if pk <= previous:
            continue
        prefix = f"{pk} "
        if position == 0 and snapshot.startswith(prefix):
            found = 0
        else:
            furthest = position + (pk - previous - 1) * (line_length + 1) + len(prefix)
            found = snapshot.find(f"\n{prefix}", max(position - 1, 0), furthest) + 1
            if not found:
                continue
        end = snapshot.find("\n", found)
        end = len(snapshot) if end == -1 else end
        _, due, rag, closed = snapshot[found:end].split(" ")
        recorded[pk] = (due, rag, closed == "1")
        position, previous = end + 1, pk
    return recorded


def actions_written_since(authority: Authority, since: dt.datetime | Subquery) -> QuerySet:
    """(id, due date, RAG, closed) of each action written since: unordered, so that PostgreSQL
    reads them from the covering index on (authority, updated_at) alone."""
    return (
        Action.objects.filter(authority=authority, updated_at__gt=since)
        .annotate(is_closed=rulebook.flag(rulebook.closed()))
        .order_by()
        .values_list("pk", "due_date", "rag", "is_closed")
    )


def _changes(
    authority: Authority, board_date: dt.date, measures: dict[int, tuple]
) -> tuple[dict, set[int]]:
    """What moved since the last frozen pack: new, closed, re-dated, RAG moved, measure moved;
    the first PACK_LIST_LENGTH of each kind of change, and how many there are. `measures`: every
    measure's (name, latest, trend), compared with the earlier pack's latest values. Only the
    actions written since that pack was frozen can differ from it (every write through the
    services stamps `updated_at`), so only those are compared: two queries, however large the
    plan and whether or not there is an earlier pack (the first on a covering index at
    PostgreSQL: scale_action_auth_updated_cover).
    Returns the changes and the ids of the actions they list."""
    previous = previous_pack(authority, board_date)
    # Since the earlier pack's freezing, asked in the same query: none without an earlier pack.
    touched = list(actions_written_since(authority, Subquery(previous.values("frozen_at"))))
    earlier = _snapshot_of(previous, of_actions=bool(touched))
    if earlier is None:
        return {"since": None}, set()
    since, snapshot, old_actions, old_latest = earlier
    recorded = _recorded(snapshot, old_actions, [row[0] for row in touched])
    # (due date, id, what the pack lists) of each change: only the few listed are put in due
    # date order, below.
    new, closed, redated, rag_moved = [], [], [], []
    for pk, due_date, rag, is_closed in touched:
        old = recorded.get(pk)
        if old is None:
            new.append((due_date, pk, pk))
            continue
        old_due, old_rag, was_closed = old
        due = due_date.isoformat()
        if is_closed and not was_closed:
            closed.append((due_date, pk, pk))
        if due != old_due:
            redated.append((due_date, pk, {"id": pk, "from": old_due, "to": due}))
        # Turning blue is closing, reported above.
        if rag != old_rag and not is_closed:
            rag_moved.append((due_date, pk, {"id": pk, "from": old_rag, "to": rag}))
    # In name order, as the measures are read.
    measure_moved = [
        {"id": pk, "name": name, "from": old_latest[pk], "to": latest, "trend": trend}
        for pk, (name, latest, trend) in measures.items()
        if pk in old_latest and old_latest[pk] != latest
    ]
    kinds = {"new": new, "closed": closed, "redated": redated, "rag_moved": rag_moved}
    changes = {
        "since": since.isoformat(),
        **{
            kind: [row for _, _, row in heapq.nsmallest(PACK_LIST_LENGTH, rows)]
            for kind, rows in kinds.items()
        },
        "measure_moved": measure_moved[:PACK_LIST_LENGTH],
        "counts": {
            **{kind: len(rows) for kind, rows in kinds.items()},
            "measure_moved": len(measure_moved),
        },
    }
    listed = {row if isinstance(row, int) else row["id"] for kind in kinds for row in changes[kind]}
    return changes, listed


def pack_content(
    *,
    authority: Authority,
    board_date: dt.date,
    today: dt.date,
    now: dt.datetime,
    freezing: bool = False,
) -> dict:
    """Everything a board pack shows, as JSON-ready data, in a fixed number of queries at any
    plan size. `freezing`: counted live rather than from the dashboard's cache, with the
    snapshot of every action that the next pack compares against."""
    inspections = dashboard_inspections(authority=authority)
    summary, exception_counts = _summary(
        authority, inspections, today=today, now=now, live=freezing
    )
    exceptions = _exception_lists(authority, today=today, now=now)
    areas, areas_count, areas_count_capped = _areas(authority, today=today)
    measures, measures_count, every_measure = _measures(authority, today=today)
    changes, changed_ids = _changes(authority, board_date, every_measure)
    listed = {pk for ids in exceptions.values() for pk in ids}
    listed.update(pk for area in areas for pk in area["actions"])
    listed.update(changed_ids)
    content = {
        "authority": {"id": authority.pk, "name": authority.name},
        "board_date": board_date.isoformat(),
        "as_of": today.isoformat(),
        "summary": summary,
        # Only the actions the pack lists; the counts say how many there are.
        "actions": _action_rows(listed, today=today, now=now),
        "areas": areas,
        "areas_count": areas_count,
        "areas_count_capped": areas_count_capped,
        "exceptions": exceptions,
        "exception_counts": exception_counts,
        "measures": measures,
        "measures_count": measures_count,
        "clock": _clock(authority, inspections, today=today),
        "round": round_coverage_for(authority, board_date),
        "changes": changes,
    }
    if freezing:
        content["snapshot"] = plan_snapshot(authority)
        content["measure_snapshot"] = measure_snapshot(every_measure)
    return content


@functools.cache
def _month_abbreviations(language: str | None) -> dict[int, str]:
    return {month: str(name).title() for month, name in MONTHS_3.items()}


def _dates(row: dict, keys: tuple[str, ...], months: dict[int, str]) -> dict:
    """A copy of the row with its ISO dates as dates (`<key>_date`, for the templates' date
    filter) and written short (`<key>_short`: what the date filter writes for "j M Y", "3 Dec
    2026", without its cost per call, as a pack's measures alone print a thousand dates)."""
    parsed = {key: dt.date.fromisoformat(row[key]) if row.get(key) else None for key in keys}
    return {
        **row,
        **{f"{key}_date": day for key, day in parsed.items()},
        **{
            f"{key}_short": f"{day.day} {months[day.month]} {day.year}" if day else ""
            for key, day in parsed.items()
        },
    }


def _measure_view(measure: dict, months: dict[int, str]) -> dict:
    """A measure's row with its words ready: hundreds of rows cost the template less so."""
    trend = measure["trend"]
    if trend == "none":
        trend_text = "Not enough values"
    elif measure["previous"] is not None:
        trend_text = f"{trend.capitalize()} (was {measure['previous']})"
    else:
        trend_text = trend.capitalize()
    on_target = measure["on_target"]
    return {
        **_dates(measure, ("target_date", "latest_on"), months),
        "direction_text": measure["direction"].lower(),
        "trend_text": trend_text,
        "on_target_text": "–" if on_target is None else ("Yes" if on_target else "No"),
    }


def _action_list_url(authority_id: int, **filters) -> str:
    return (
        f"{reverse('improvement:action-list')}?{urlencode({'authority': authority_id, **filters})}"
    )


def pack_view(content: dict) -> dict:
    """The content with ids resolved to rows and dates parsed, for the templates (no query).
    Packs frozen before lists were capped hold every action: they are shown capped alike."""
    months = _month_abbreviations(get_language())
    actions = {a["id"]: a for a in content["actions"]}
    parsed: dict[int, dict] = {}

    def action(pk):
        # Parsed when shown: a pack frozen before lists were capped holds every action.
        if pk not in parsed:
            parsed[pk] = _dates(actions[pk], ("start", "original_due", "due"), months)
        return parsed[pk]

    measures = {m["id"]: _measure_view(m, months) for m in content["measures"]}
    changes = content.get("changes") or {"since": None}
    authority_id = content["authority"]["id"]

    def rows(ids):
        return [action(i) for i in ids[:PACK_LIST_LENGTH] if i in actions]

    def with_labels(row):
        labels = [_EXCEPTION_LABELS[s] for s in row["states"] if s in _EXCEPTION_LABELS]
        return {**row, "exception_labels": labels}

    since = changes.get("since")
    resolved_changes = {
        "since": since,
        "since_date": dt.date.fromisoformat(since) if since else None,
    }
    if since:
        kinds = ("new", "closed", "redated", "rag_moved", "measure_moved")
        counts = changes.get("counts") or {kind: len(changes[kind]) for kind in kinds}
        resolved_changes.update(
            new=rows(changes["new"]),
            closed=rows(changes["closed"]),
            redated=[
                {**_dates(c, ("from", "to"), months), "action": action(c["id"])}
                for c in changes["redated"][:PACK_LIST_LENGTH]
                if c["id"] in actions
            ],
            rag_moved=[
                {
                    **c,
                    "action": action(c["id"]),
                    "from_label": _RAG.get(c["from"], c["from"]),
                    "to_label": _RAG.get(c["to"], c["to"]),
                }
                for c in changes["rag_moved"][:PACK_LIST_LENGTH]
                if c["id"] in actions
            ],
            # Packs frozen before measures were capped name their moved measures in their
            # list of every measure.
            measure_moved=[
                {**c, "name": c.get("name") or measures[c["id"]]["name"]}
                for c in changes["measure_moved"][:PACK_LIST_LENGTH]
                if "name" in c or c["id"] in measures
            ],
        )
        resolved_changes["count"] = sum(counts[kind] for kind in kinds)
        resolved_changes["more"] = [
            {"heading": heading, "count": counts[kind] - len(resolved_changes[kind])}
            for kind, heading in (
                ("new", "new actions"),
                ("closed", "actions closed"),
                ("redated", "actions re-dated"),
                ("rag_moved", "RAG ratings moved"),
                ("measure_moved", "measures moved"),
            )
            if counts[kind] > len(resolved_changes[kind])
        ]
    clock_view = content.get("clock")
    if clock_view:
        clock_view = {
            **_dates(clock_view, ("publication_date",), months),
            "deadlines": [_dates(d, ("due",), months) for d in clock_view["deadlines"]],
        }
    exception_counts = content.get("exception_counts") or {}
    exception_groups = []
    for state, heading in EXCEPTIONS:
        ids = content["exceptions"][state]
        count = exception_counts.get(state, len(ids))
        shown = [with_labels(row) for row in rows(ids)]
        filters = _EXCEPTION_LIST_FILTERS.get(state)
        exception_groups.append(
            {
                "state": state,
                "heading": heading,
                "count": count,
                "rows": shown,
                "more": max(count - len(shown), 0),
                "list_url": _action_list_url(authority_id, **filters) if filters else None,
            }
        )
    summary = content["summary"]
    counted_at = summary.get("counted_at")
    areas = [
        {
            **area,
            "rows": rows(area["actions"])[:AREA_ACTIONS_SHOWN],
            "count": area.get("count", len(area["actions"])),
            "open": area.get("open"),
            "red": area.get("red"),
            "overdue": area.get("overdue"),
            "list_url": _action_list_url(authority_id, area=area["id"]),
        }
        for area in content["areas"][:PACK_AREAS_SHOWN]
    ]
    for area in areas:
        area["more"] = max(area["count"] - len(area["rows"]), 0)
    areas_count = content.get("areas_count", len(content["areas"]))
    areas_count_capped = content.get("areas_count_capped", False)
    measures_count = content.get("measures_count", len(measures))
    return {
        **content,
        "board": dt.date.fromisoformat(content["board_date"]),
        "as_of_date": dt.date.fromisoformat(content["as_of"]),
        "counted_at": dt.datetime.fromisoformat(counted_at) if counted_at else None,
        "measures": list(measures.values()),
        "measures_count": measures_count,
        "measures_more": max(measures_count - len(measures), 0),
        "measures_all_url": (
            reverse("improvement:dashboard-authority", args=[authority_id])
            + "?measures=all#outcomes"
        ),
        "clock": clock_view,
        "areas": areas,
        "areas_count": areas_count,
        "areas_count_text": count_label(areas_count, capped=areas_count_capped),
        "areas_count_capped": areas_count_capped,
        "areas_more": max(areas_count - len(areas), 0),
        "exception_groups": exception_groups,
        "list_length": PACK_LIST_LENGTH,
        "changes": resolved_changes,
    }


def frozen_packs_visible_to(*, user: User) -> QuerySet[BoardPack]:
    """Frozen packs the user may see, newest meeting first, without their heavy columns."""
    return (
        scope.restrict(BoardPack.objects.select_related("authority", "frozen_by"), user)
        .defer("content", "html")
        .order_by("authority__name", "-board_date", "-pk")
    )
