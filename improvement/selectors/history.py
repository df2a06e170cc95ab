"""Reads of an action's recorded changes, and what changed while someone was editing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from improvement.models import Action, ProgressNote, User

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


# Fields whose recorded value is another row, named through the history query's own joins.
NAMED_FIELDS = {"owner": "a former user", "signed_off_by": "a former user", "team": "a former team"}


USER_FIELDS = ("history_user", "owner", "signed_off_by")
USER_NAME = ("first_name", "last_name", "username")


def _history_value(record, field) -> str:
    value = getattr(record, field.attname)
    if value is None or value == "":
        return "none"
    if field.name in NAMED_FIELDS:
        # Historical foreign keys have no database constraint: the row may since have gone.
        named = getattr(record, field.name)
        return str(named) if named is not None else NAMED_FIELDS[field.name]
    if field.choices:
        return str(dict(field.choices).get(value, value))
    if isinstance(value, dt.date):
        return f"{value:%-d %B %Y}"
    return str(value)


def action_history(*, action: Action) -> list[HistoryEntry]:
    """The action's recorded changes, newest first, in one query whatever their number."""
    return latest_action_history(action=action, latest=None)[0]


def latest_action_history(*, action: Action, latest: int | None) -> tuple[list[HistoryEntry], bool]:
    """The changes of the action's latest `latest` records (all if None), newest first, and
    whether older records were left out: a page's length does not grow with an action's age.

    One query whatever their number: the records are read with the one before them, which the
    oldest is compared with, and the people and teams named are joined in (left joins: a
    historical record keeps its foreign keys unconstrained).
    """
    records = (
        Action.history.filter(id=action.pk)
        .select_related("history_user", *NAMED_FIELDS)
        # The compared fields, and of the rows joined only what names them (User.__str__).
        .only(
            "history_date",
            "version",
            *ACTION_HISTORY_FIELDS,
            "team__name",
            *(f"{user}__{name}" for user in USER_FIELDS for name in USER_NAME),
        )
        .order_by("-history_date", "-history_id")
    )
    records = list(records if latest is None else records[: latest + 1])
    records.reverse()
    # Past the limit, the oldest record read is only what the next one is compared with.
    base = records.pop(0) if latest is not None and len(records) > latest else None
    fields = [Action._meta.get_field(name) for name in ACTION_HISTORY_FIELDS]
    entries: list[HistoryEntry] = []
    previous = base
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
                            old=_history_value(previous, field),
                            new=_history_value(record, field),
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
    return entries, base is not None


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
