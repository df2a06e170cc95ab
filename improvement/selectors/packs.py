"""Reads for the board pack: the plan of one authority for one board meeting, as plain data.

`pack_content` gathers everything the pack shows into JSON-ready values (a fixed number of
queries, whatever the plan's size), so that a frozen pack stores exactly what it showed and a later
pack can say what changed since (`changes_since`). States come from the rulebook, the statutory
clock from clock.py, the update round's coverage from the rounds selectors where they exist.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce
from django.utils.formats import date_format

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
from improvement.selectors.dashboard import dashboard_action_counts
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
_STATUS = dict(Action.DeliveryStatus.choices)
_IMPACT = dict(Action.ImpactStatus.choices)
_RAG = dict(Action.Rag.choices)


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


def _actions(authority: Authority, *, today: dt.date, now: dt.datetime) -> list[dict]:
    """One query: every action of the plan with its states and who owns it."""
    queryset = rulebook.with_states(
        Action.objects.filter(authority=authority).select_related("owner", "team"),
        today=today,
        now=now,
    ).order_by("due_date", "pk")
    actions = []
    for action in queryset:
        states = rulebook.states_from_annotations(action)
        flags = [name for name in rulebook.STATE_NAMES if getattr(states, name)]
        if action.rag == Action.Rag.RED and not states.closed:
            flags.append("off_track")
        actions.append(
            {
                "id": action.pk,
                "reference": action.reference,
                "title": action.title,
                "owner": str(action.owner),
                "team": action.team.name if action.team else "",
                "start": _iso(action.start_date),
                "original_due": _iso(action.original_due_date),
                "due": _iso(action.due_date),
                "status": action.delivery_status,
                "status_label": _STATUS[action.delivery_status],
                "impact": action.impact_status,
                "impact_label": _IMPACT[action.impact_status],
                "rag": action.rag,
                "rag_label": _RAG[action.rag],
                "states": flags,
                "closed": states.closed,
            }
        )
    return actions


def _areas(authority: Authority) -> list[dict]:
    """Two queries: the improvement areas the plan answers, with the ids of their actions."""
    links = Action.improvement_areas.through.objects.filter(
        action__authority=authority
    ).values_list("improvementarea_id", "action_id")
    by_area: dict[int, list[int]] = defaultdict(list)
    for area_id, action_id in links.order_by("improvementarea_id", "action__due_date", "action_id"):
        by_area[area_id].append(action_id)
    areas = (
        ImprovementArea.objects.filter(pk__in=list(by_area))
        .select_related("inspection")
        .order_by(Coalesce("inspection__start_date", "inspection__publication_date"), "position")
    )
    return [
        {
            "id": area.pk,
            "inspection": area.inspection.title or area.inspection.get_kind_display(),
            "position": area.position,
            "text": area.text,
            "is_priority_action": area.is_priority_action,
            "actions": by_area[area.pk],
        }
        for area in areas
    ]


def _trend(measure: Measure, latest: Decimal | None, previous: Decimal | None) -> str:
    if latest is None or previous is None:
        return "none"
    if latest == previous:
        return "steady"
    better = latest > previous
    if measure.direction == Measure.Direction.LOWER_IS_BETTER:
        better = not better
    return "improving" if better else "worsening"


def _measures(authority: Authority, *, today: dt.date) -> list[dict]:
    """Two queries: the measures, and their values up to the day, newest first."""
    measures = list(Measure.objects.filter(authority=authority).order_by("name"))
    values: dict[int, list[MeasureValue]] = defaultdict(list)
    for value in MeasureValue.objects.filter(
        measure__authority=authority, recorded_on__lte=today
    ).order_by("measure_id", "-recorded_on", "-pk"):
        values[value.measure_id].append(value)
    result = []
    for measure in measures:
        history = values[measure.pk]
        latest = history[0] if history else None
        previous = history[1] if len(history) > 1 else None
        result.append(
            {
                "id": measure.pk,
                "name": measure.name,
                "unit": measure.get_unit_display(),
                "direction": measure.get_direction_display(),
                "baseline": _number(measure.baseline_value),
                "target": _number(measure.target_value),
                "target_date": _iso(measure.target_date),
                "latest": _number(latest.value) if latest else None,
                "latest_on": _iso(latest.recorded_on) if latest else None,
                "previous": _number(previous.value) if previous else None,
                "trend": _trend(
                    measure,
                    latest.value if latest else None,
                    previous.value if previous else None,
                ),
                "on_target": measure.is_on_target(latest.value) if latest else None,
            }
        )
    return result


def _clock(authority: Authority, *, today: dt.date) -> dict | None:
    """One query: the statutory clock of the latest Ofsted inspection, if there is one."""
    priority = ImprovementArea.objects.filter(inspection=OuterRef("pk"), is_priority_action=True)
    inspection = (
        Inspection.objects.filter(authority=authority, kind__in=Inspection.OFSTED_KINDS)
        .annotate(has_priority=Exists(priority))
        .order_by(Coalesce("start_date", "publication_date").desc(), "-pk")
        .first()
    )
    if inspection is None:
        return None
    plan_clock = clock.action_plan_clock(
        inspection, today, has_priority_actions=inspection.has_priority
    )
    return {
        "inspection": str(inspection),
        "publication_date": _iso(plan_clock.publication_date),
        "not_started_reason": plan_clock.not_started_reason,
        "deadlines": [
            {"label": d.label, "due": _iso(d.due), "status": d.status, "overdue": d.is_overdue}
            for d in plan_clock.deadlines
        ],
    }


def previous_pack(authority: Authority, board_date: dt.date) -> BoardPack | None:
    """The latest frozen pack for an earlier meeting: what this one compares against."""
    return (
        BoardPack.objects.filter(authority=authority, board_date__lt=board_date)
        .order_by("-board_date", "-pk")
        .first()
    )


def changes_since(previous: dict | None, current: dict) -> dict:
    """What moved between two packs' contents: new, closed, re-dated, RAG moved, measure moved."""
    if previous is None:
        return {"since": None}
    before = {a["id"]: a for a in previous.get("actions", [])}
    new, closed, redated, rag_moved = [], [], [], []
    for action in current["actions"]:
        old = before.get(action["id"])
        if old is None:
            new.append(action["id"])
            continue
        if action["closed"] and not old["closed"]:
            closed.append(action["id"])
        if action["due"] != old["due"]:
            redated.append({"id": action["id"], "from": old["due"], "to": action["due"]})
        # Turning blue is closing, reported above.
        if action["rag"] != old["rag"] and not action["closed"]:
            rag_moved.append({"id": action["id"], "from": old["rag"], "to": action["rag"]})
    old_measures = {m["id"]: m for m in previous.get("measures", [])}
    measure_moved = []
    for measure in current["measures"]:
        old = old_measures.get(measure["id"])
        if old is not None and old["latest"] != measure["latest"]:
            measure_moved.append(
                {
                    "id": measure["id"],
                    "from": old["latest"],
                    "to": measure["latest"],
                    "trend": measure["trend"],
                }
            )
    return {
        "since": previous["board_date"],
        "new": new,
        "closed": closed,
        "redated": redated,
        "rag_moved": rag_moved,
        "measure_moved": measure_moved,
    }


def pack_content(
    *, authority: Authority, board_date: dt.date, today: dt.date, now: dt.datetime
) -> dict:
    """Everything a board pack shows, as JSON-ready data; about ten queries at any plan size."""
    actions = _actions(authority, today=today, now=now)
    counts = dashboard_action_counts(authority=authority, today=today, now=now)
    counts["off_track"] = sum(1 for a in actions if "off_track" in a["states"])
    counts["sent_back"] = sum(1 for a in actions if "sent_back" in a["states"])
    content = {
        "authority": {"id": authority.pk, "name": authority.name},
        "board_date": board_date.isoformat(),
        "as_of": today.isoformat(),
        "summary": counts,
        "actions": actions,
        "areas": _areas(authority),
        "exceptions": {
            state: [a["id"] for a in actions if state in a["states"]] for state, _ in EXCEPTIONS
        },
        "measures": _measures(authority, today=today),
        "clock": _clock(authority, today=today),
        "round": round_coverage_for(authority, board_date),
    }
    previous = previous_pack(authority, board_date)
    content["changes"] = changes_since(previous.content if previous else None, content)
    return content


def _dates(row: dict, keys: tuple[str, ...]) -> dict:
    """A copy of the row with its ISO dates as dates, for the templates' date filter."""
    return {
        **row,
        **{
            f"{key}_date": dt.date.fromisoformat(row[key]) if row.get(key) else None for key in keys
        },
    }


def pack_view(content: dict) -> dict:
    """The content with ids resolved to rows and dates parsed, for the templates (no query)."""
    actions = {a["id"]: _dates(a, ("start", "original_due", "due")) for a in content["actions"]}
    measures = {m["id"]: _dates(m, ("target_date", "latest_on")) for m in content["measures"]}
    changes = content.get("changes") or {"since": None}

    def rows(ids):
        return [actions[i] for i in ids if i in actions]

    since = changes.get("since")
    resolved_changes = {
        "since": since,
        "since_date": dt.date.fromisoformat(since) if since else None,
    }
    if changes.get("since"):
        resolved_changes.update(
            new=rows(changes["new"]),
            closed=rows(changes["closed"]),
            redated=[
                {**_dates(c, ("from", "to")), "action": actions[c["id"]]}
                for c in changes["redated"]
                if c["id"] in actions
            ],
            rag_moved=[
                {
                    **c,
                    "action": actions[c["id"]],
                    "from_label": _RAG.get(c["from"], c["from"]),
                    "to_label": _RAG.get(c["to"], c["to"]),
                }
                for c in changes["rag_moved"]
                if c["id"] in actions
            ],
            measure_moved=[
                {**c, "measure": measures[c["id"]]}
                for c in changes["measure_moved"]
                if c["id"] in measures
            ],
        )
        resolved_changes["count"] = sum(
            len(resolved_changes[key])
            for key in ("new", "closed", "redated", "rag_moved", "measure_moved")
        )
    clock_view = content.get("clock")
    if clock_view:
        clock_view = {
            **_dates(clock_view, ("publication_date",)),
            "deadlines": [_dates(d, ("due",)) for d in clock_view["deadlines"]],
        }
    return {
        **content,
        "board": dt.date.fromisoformat(content["board_date"]),
        "as_of_date": dt.date.fromisoformat(content["as_of"]),
        "measures": list(measures.values()),
        "clock": clock_view,
        "areas": [{**area, "rows": rows(area["actions"])} for area in content["areas"]],
        "exception_counts": [
            {"state": state, "heading": heading, "count": len(content["exceptions"][state])}
            for state, heading in EXCEPTIONS
        ],
        # Each action with any exception once, with all of them named: one compact table
        # rather than a list per exception that repeats the same actions.
        "exception_rows": [
            {**action, "exception_labels": labels}
            for action in actions.values()
            if (
                labels := [_EXCEPTION_LABELS[s] for s in action["states"] if s in _EXCEPTION_LABELS]
            )
        ],
        "changes": resolved_changes,
    }


def frozen_packs_visible_to(*, user: User) -> QuerySet[BoardPack]:
    """Frozen packs the user may see, newest meeting first, without their heavy columns."""
    return (
        scope.restrict(BoardPack.objects.select_related("authority", "frozen_by"), user)
        .defer("content", "html")
        .order_by("authority__name", "-board_date", "-pk")
    )
