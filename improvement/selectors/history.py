"""Reads of an action's recorded changes, and what changed while someone was editing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from improvement.models import (
    Action,
    ProgressNote,
    Team,
    User,
)

ACTION_HISTORY_FIELDS = (
    "title",
    "reference",
    "description",
    "owner",
    "team",
    "start_date",
    "due_date",
    "delivery_status",
    "rag",
    "impact_status",
    "priority",
    "success_measure",
    "signed_off_by",
    "closure_note",
)


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    when: dt.datetime
    who: User | None
    created: bool
    changes: tuple[FieldChange, ...]


def _history_value(field, value, names: dict[str, dict]) -> str:
    if value is None or value == "":
        return "none"
    if field.name in ("owner", "signed_off_by"):
        return str(names["users"].get(value, "a former user"))
    if field.name == "team":
        return str(names["teams"].get(value, "a former team"))
    if field.choices:
        return str(dict(field.choices).get(value, value))
    if isinstance(value, dt.date):
        return f"{value:%-d %B %Y}"
    return str(value)


def action_history(*, action: Action) -> list[HistoryEntry]:
    """The action's recorded changes, newest first, in three queries whatever their number."""
    records = list(
        Action.history.filter(id=action.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    fields = [Action._meta.get_field(name) for name in ACTION_HISTORY_FIELDS]
    user_ids, team_ids = set(), set()
    for record in records:
        user_ids.update(filter(None, (record.owner_id, record.signed_off_by_id)))
        if record.team_id:
            team_ids.add(record.team_id)
    names = {
        "users": User.objects.in_bulk(user_ids) if user_ids else {},
        "teams": Team.objects.in_bulk(team_ids) if team_ids else {},
    }
    entries: list[HistoryEntry] = []
    previous = None
    for record in records:
        changes = []
        if previous is not None:
            for field in fields:
                old, new = getattr(previous, field.attname), getattr(record, field.attname)
                if old != new:
                    changes.append(
                        FieldChange(
                            field=field.name,
                            label=str(field.verbose_name).capitalize()
                            if field.name != "rag"
                            else "RAG",
                            old=_history_value(field, old, names),
                            new=_history_value(field, new, names),
                        )
                    )
        if previous is None or changes:
            entries.append(
                HistoryEntry(
                    version=record.version,
                    when=record.history_date,
                    who=record.history_user,
                    created=previous is None,
                    changes=tuple(changes),
                )
            )
        previous = record
    entries.reverse()
    return entries


def action_changes_since(
    *, action: Action, version: int
) -> tuple[list[HistoryEntry], list[ProgressNote]]:
    """What others changed after `version`: history entries and the progress notes added since."""
    entries = [entry for entry in action_history(action=action) if entry.version > version]
    base = (
        Action.history.filter(id=action.pk, version=version)
        .order_by("-history_date")
        .values_list("history_date", flat=True)
        .first()
    )
    notes = ProgressNote.objects.filter(action=action).select_related("author")
    notes = list(notes.filter(created_at__gt=base)) if base else list(notes[:5])
    return entries, notes
