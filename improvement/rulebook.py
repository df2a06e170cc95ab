"""What state an action is in: each state once, as a database-side expression with its threshold.

The dashboard's counts, the action list's filters, My actions, reminders, exports, board packs and
the national overview all ask these, so a count and the list behind it cannot disagree. Python
code that holds one action asks `states_of`, which evaluates the same expressions in the
database, or `states_of_loaded`, which evaluates the same Q objects on the action as read,
rather than restating them.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, fields
from typing import ClassVar

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan, Lookup
from django.utils import timezone

from improvement.models import Action, BoardMeeting, ProgressNote

# Thresholds, each stated once.
STALE_AFTER_DAYS = 30
DUE_SOON_DAYS = 30
SLIPPED_AFTER_CHANGES = 2
# Owners' reminders look closer ahead than the dashboard's "due soon".
DUE_REMINDER_DAYS = 14

DELIVERED = Action.DeliveryStatus.DELIVERED
NOT_ASSESSED = Action.ImpactStatus.NOT_ASSESSED


def closed() -> Q:
    """Signed off by a senior leader: impact evidenced, or closed without it."""
    return Q(impact_status__in=Action.CLOSED_IMPACT)


def not_closed() -> Q:
    return Q(impact_status=NOT_ASSESSED)


def overdue(*, today: dt.date) -> Q:
    """Not delivered and due before today: due today is not yet overdue."""
    return Q(due_date__lt=today) & ~Q(delivery_status=DELIVERED)


def due_soon(*, today: dt.date, days: int = DUE_SOON_DAYS) -> Q:
    """Still to deliver, due between today and today + days, both included."""
    return (
        Q(due_date__gte=today, due_date__lte=today + dt.timedelta(days=days))
        & ~Q(delivery_status=DELIVERED)
        & not_closed()
    )


def stale(*, now: dt.datetime, days: int = STALE_AFTER_DAYS) -> Q:
    """Open with no progress note for `days` (never noted: created more than `days` ago)."""
    # Written on last_update() (the same rows as "last note before the cutoff, or never noted and
    # created before it") so that PostgreSQL answers it from the open-actions index on that
    # expression (migration 0010_scale) instead of reading every open action.
    cutoff = now - dt.timedelta(days=days)
    return not_closed() & Q(LessThan(last_update(), cutoff))


def off_track() -> Q:
    """Rated red and not yet signed off."""
    return Q(rag=Action.Rag.RED) & not_closed()


def slipped() -> Q:
    """Re-dated at least twice."""
    return Q(due_date_change_count__gte=SLIPPED_AFTER_CHANGES)


def awaiting_sign_off() -> Q:
    """Delivered, and waiting for a senior leader to record its impact."""
    return Q(delivery_status=DELIVERED, impact_status=NOT_ASSESSED)


def sent_back() -> Q:
    """Returned by a senior leader, and the owner has not yet acted on it."""
    return Q(sent_back_at__isnull=False) & not_closed()


def start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, in the project's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def round_window(meeting: BoardMeeting) -> tuple[dt.datetime, dt.datetime]:
    """A board meeting's update round: from the start of the day it opens to the end of the
    meeting day."""
    return start_of(meeting.round_opens_on), start_of(meeting.meets_on + dt.timedelta(days=1))


def updated_in_round(meeting: BoardMeeting) -> Exists:
    """A progress note was written on the action during the meeting's round. The round's
    coverage counts it, and owners' reminders stop asking once it is there."""
    opens, closes = round_window(meeting)
    return Exists(
        ProgressNote.objects.filter(
            action=OuterRef("pk"), created_at__gte=opens, created_at__lt=closes
        )
    )


def last_update():
    """When the action was last updated: its latest progress note (last_note_at, kept by the
    services). For ordering and the stale rule an action never noted counts from its creation;
    every page shows the date through the last_update tag (improvement/templatetags/
    action_tags.py), which says "No progress note yet" rather than passing the creation off as
    an update.
    """
    return Coalesce("last_note_at", "created_at")


def flag(condition: Q) -> ExpressionWrapper:
    """A condition as a boolean column (with_states' state_* annotations are these)."""
    return ExpressionWrapper(
        Case(When(condition, then=Value(True)), default=Value(False)), output_field=BooleanField()
    )


def state_conditions(*, today: dt.date, now: dt.datetime) -> dict[str, Q]:
    """Each of ActionStates' states as its condition: what with_states annotates and
    states_of_loaded evaluates."""
    return {
        "closed": closed(),
        "overdue": overdue(today=today),
        "due_soon": due_soon(today=today),
        "stale": stale(now=now),
        "slipped": slipped(),
        "awaiting_sign_off": awaiting_sign_off(),
        "sent_back": sent_back(),
    }


def with_states(queryset: QuerySet[Action], *, today: dt.date, now: dt.datetime) -> QuerySet:
    """Annotate every state as a boolean (state_overdue, state_stale, ...) and `last_update`."""
    conditions = state_conditions(today=today, now=now)
    return queryset.annotate(
        **{f"state_{name}": flag(condition) for name, condition in conditions.items()},
        last_update=last_update(),
    )


@dataclass(frozen=True)
class ActionStates:
    # For the pages' wording ("No update for 30 days"), so that it follows the threshold.
    stale_after_days: ClassVar[int] = STALE_AFTER_DAYS
    slipped_after_changes: ClassVar[int] = SLIPPED_AFTER_CHANGES

    closed: bool
    overdue: bool
    due_soon: bool
    stale: bool
    slipped: bool
    awaiting_sign_off: bool
    sent_back: bool


STATE_NAMES = tuple(f.name for f in fields(ActionStates))


def states_from_annotations(action: Action) -> ActionStates:
    """The states of an action fetched through `with_states`: no query."""
    return ActionStates(**{name: bool(getattr(action, f"state_{name}")) for name in STATE_NAMES})


def states_of(action: Action, *, today: dt.date, now: dt.datetime) -> ActionStates:
    """The states of one action, asked of the database (one query)."""
    if hasattr(action, "state_overdue"):
        return states_from_annotations(action)
    row = (
        with_states(Action.objects.filter(pk=action.pk), today=today, now=now)
        .values(*(f"state_{name}" for name in STATE_NAMES))
        .get()
    )
    return ActionStates(**{name: bool(row[f"state_{name}"]) for name in STATE_NAMES})


def states_of_loaded(action: Action, *, today: dt.date, now: dt.datetime) -> ActionStates:
    """The states of an action already read, with no query: each state's condition (the same Q
    objects with_states annotates) evaluated on the action's own fields by `holds`.

    For a page that holds one action: the seven annotations cost several milliseconds to build
    and compile, on a page whose query count is fixed. tests/test_rulebook_in_python.py holds
    its answers to with_states' over the thresholds' edges.
    """
    conditions = state_conditions(today=today, now=now)
    return ActionStates(**{name: holds(conditions[name], action) is True for name in STATE_NAMES})


class NotEvaluable(ValueError):
    """A condition `holds` cannot evaluate in Python (a join, a lookup it does not know)."""


_COMPARISONS = {
    "exact": operator.eq,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "in": lambda value, options: value in options,
}
# Text orders by the database's collation, not as Python compares strings.
_ORDERINGS = ("lt", "lte", "gt", "gte")


def holds(condition: Q, obj) -> bool | None:
    """`condition` of one model instance as its SQL answers it: True, False or None (unknown).

    A field lookup on a NULL column is false, as Django writes it (a negated lookup on a
    nullable column adds "IS NOT NULL"), while a lookup on an expression (Coalesce) is unknown
    on NULL, as in SQL; AND, OR and NOT follow SQL's three-valued logic. Only the lookups and
    expressions the rulebook's conditions use: anything else raises NotEvaluable rather than
    guess.
    """
    if condition.connector not in (Q.AND, Q.OR):
        raise NotEvaluable(condition.connector)
    answers = [
        holds(child, obj) if isinstance(child, Q) else _lookup_holds(child, obj)
        for child in condition.children
    ]
    if condition.connector == Q.AND:
        answer = False if False in answers else (None if None in answers else True)
    else:
        answer = True if True in answers else (None if None in answers else False)
    if condition.negated:
        answer = None if answer is None else not answer
    return answer


def _lookup_holds(child, obj) -> bool | None:
    if isinstance(child, Lookup):
        if child.lookup_name not in _COMPARISONS:
            raise NotEvaluable(child.lookup_name)
        left, right = _expression_value(child.lhs, obj), _expression_value(child.rhs, obj)
        if left is None or right is None:
            return None
        return _compare(child.lookup_name, left, right)
    name, value = child
    if hasattr(value, "resolve_expression"):
        raise NotEvaluable(name)
    field_name, _, lookup = name.partition("__")
    lookup = lookup or "exact"
    value_of_field = getattr(obj, obj._meta.get_field(field_name).attname)
    if lookup == "isnull" or (lookup == "exact" and value is None):
        is_null = value if lookup == "isnull" else True
        return (value_of_field is None) == bool(is_null)
    if lookup not in _COMPARISONS:
        raise NotEvaluable(name)
    if value_of_field is None:
        return False
    return _compare(lookup, value_of_field, value)


def _compare(lookup: str, left, right) -> bool:
    if lookup in _ORDERINGS and isinstance(right, str):
        raise NotEvaluable(f"{lookup} on text")
    return bool(_COMPARISONS[lookup](left, right))


def _expression_value(expression, obj):
    if isinstance(expression, F):
        return getattr(obj, obj._meta.get_field(expression.name).attname)
    if isinstance(expression, Value):
        return expression.value
    if isinstance(expression, Coalesce):
        values = (_expression_value(part, obj) for part in expression.get_source_expressions())
        return next((value for value in values if value is not None), None)
    if hasattr(expression, "resolve_expression"):
        raise NotEvaluable(type(expression).__name__)
    return expression
