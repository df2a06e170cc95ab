"""Changes to many actions at once: all or nothing, with the reason each refused row gives.

Each row is tried in its own savepoint so that one failure does not hide the others; if any row
is refused, the whole change is rolled back and the refusals are raised together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from improvement import scope
from improvement.models import Action, User
from improvement.services.actions import (
    ConcurrentEditError,
    action_record_progress,
    action_update,
)


@dataclass(frozen=True)
class Refusal:
    action: Action
    reason: str

    def __str__(self) -> str:
        return f"“{self.action}”: {self.reason}"


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
def _apply_all(
    *,
    actions: Iterable[Action],
    by: User,
    versions: Mapping[int, int] | None,
    change: Callable[[Action, int], bool],
) -> int:
    refusals: list[Refusal] = []
    changed = 0
    # Locked in a fixed order so two bulk changes over the same rows cannot deadlock.
    ids = sorted(a.pk for a in actions)
    locked = Action.objects.select_for_update().select_related("team", "owner").filter(pk__in=ids)
    for action in locked.order_by("pk"):
        if not scope.can_reach(by, action):
            refusals.append(Refusal(action, "you may not change another authority's action"))
            continue
        if action.is_closed:
            refusals.append(Refusal(action, "it is closed, so it can no longer change"))
            continue
        expected = action.version if versions is None else versions.get(action.pk, -1)
        try:
            with transaction.atomic():
                if action.version != expected:
                    raise ConcurrentEditError(action, expected)
                changed += change(action, expected)
        except (ValidationError, ConcurrentEditError) as exc:
            refusals.append(Refusal(action, _reason(exc)))
    if refusals:
        raise BulkRefused(refusals)
    return changed


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
            author=by,
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
            author=by,
            expected_version=expected,
            text=note,
            delivery_status=delivery_status,
        )
        return True

    return _apply_all(actions=actions, by=by, versions=versions, change=change)
