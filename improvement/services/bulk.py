"""Changes to many records at once: all or nothing, with the reason each refused row gives.

Each row is tried in its own savepoint so that one failure does not hide the others; if any row
is refused, the whole change is rolled back and the refusals are raised together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction

from improvement import scope
from improvement.models import Action, User
from improvement.services.actions import (
    ConcurrentEditError,
    action_record_progress,
    action_update,
)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Refusal:
    record: object
    reason: str

    def __str__(self) -> str:
        return f"“{self.record}”: {self.reason}"


class BulkRefused(Exception):
    """Some rows were refused, so nothing was saved."""

    def __init__(self, refusals: list[Refusal]):
        self.refusals = refusals
        super().__init__("; ".join(str(r) for r in refusals))


def _reason(exc: Exception) -> str:
    if isinstance(exc, ConcurrentEditError):
        return "someone else changed it since you selected it"
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    raise exc


@transaction.atomic
def each_or_none(records: Iterable[T], change: Callable[[T], R]) -> list[R]:
    """Apply `change` to every record, or to none: refusals are collected, then raised."""
    refusals: list[Refusal] = []
    results: list[R] = []
    for record in records:
        try:
            with transaction.atomic():
                results.append(change(record))
        except (ValidationError, ConcurrentEditError) as exc:
            refusals.append(Refusal(record, _reason(exc)))
    if refusals:
        raise BulkRefused(refusals)
    return results


def _apply_all(
    *,
    actions: Iterable[Action],
    by: User,
    versions: Mapping[int, int] | None,
    change: Callable[[Action, int], bool],
) -> int:
    ids = sorted(a.pk for a in actions)

    def guarded(action: Action) -> bool:
        if not scope.can_reach(by, action):
            raise ValidationError("you may not change another authority's action")
        if action.is_closed:
            raise ValidationError("it is closed, so it can no longer change")
        expected = action.version if versions is None else versions.get(action.pk, -1)
        if action.version != expected:
            raise ConcurrentEditError(action, expected)
        return change(action, expected)

    with transaction.atomic():
        # Locked in a fixed order so two bulk changes over the same rows cannot deadlock.
        locked = Action.objects.select_for_update(of=("self",)).select_related("team", "owner")
        return sum(each_or_none(locked.filter(pk__in=ids).order_by("pk"), guarded))


def actions_reassign(
    *,
    actions: Iterable[Action],
    owner: User,
    by: User,
    note: str = "",
    versions: Mapping[int, int] | None = None,
) -> int:
    """Give every action the new owner, with a note; returns how many changed.

    `versions` (action id -> version the user saw) refuses rows changed since they were shown.
    """

    def change(action: Action, expected: int) -> bool:
        if action.owner_id == owner.pk:
            return False
        previous = action.owner
        action_update(action=action, expected_version=expected, by=by, owner=owner)
        action_record_progress(
            action=action,
            by=by,
            expected_version=action.version,
            text=note or f"Owner changed from {previous} to {owner}.",
        )
        return True

    return _apply_all(actions=actions, by=by, versions=versions, change=change)


def actions_set_status(
    *,
    actions: Iterable[Action],
    delivery_status: str,
    by: User,
    note: str,
    versions: Mapping[int, int] | None = None,
) -> int:
    """Change every action's delivery status with the same note; returns how many changed."""

    def change(action: Action, expected: int) -> bool:
        if action.delivery_status == delivery_status:
            return False
        action_record_progress(
            action=action,
            by=by,
            expected_version=expected,
            text=note,
            delivery_status=delivery_status,
        )
        return True

    return _apply_all(actions=actions, by=by, versions=versions, change=change)
