"""Writes for decisions: sign-off, send-back, and the slippage register of deadline requests."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from improvement import notifications
from improvement.models import (
    Action,
    DueDateChange,
    ProgressNote,
    User,
)
from improvement.services.actions import (
    action_record_progress,
    save_with_version_check,
)
from improvement.text import visible_text


@transaction.atomic
def action_sign_off(
    *, action: Action, by: User, expected_version: int, impact_evidenced: bool, note: str
) -> Action:
    """A senior leader closes a delivered action: impact evidenced, or why not."""
    note = (note or "").strip()
    if action.delivery_status != Action.DeliveryStatus.DELIVERED:
        raise ValidationError("Only a delivered action can be signed off.")
    if action.is_closed:
        raise ValidationError("This action is already closed.")
    if action.owner_id == by.pk:
        raise ValidationError("Someone other than the action's owner must sign it off.")
    if not note:
        raise ValidationError(
            {
                "note": "Record what shows the difference for children, or why "
                "the action is closed without it."
            }
        )
    if impact_evidenced and not action.evidence.exists():
        raise ValidationError("Add evidence of impact before recording it as evidenced.")
    previous_rag = action.rag
    action.impact_status = (
        Action.ImpactStatus.EVIDENCED
        if impact_evidenced
        else Action.ImpactStatus.CLOSED_WITHOUT_IMPACT
    )
    action.rag = Action.Rag.BLUE
    action.signed_off_by = by
    action.signed_off_at = timezone.now()
    action.closure_note = note
    action.last_note_at = action.signed_off_at
    action._history_user = by
    save_with_version_check(
        action,
        expected_version=expected_version,
        fields=[
            "impact_status",
            "rag",
            "signed_off_by",
            "signed_off_at",
            "closure_note",
            "last_note_at",
        ],
    )
    ProgressNote.objects.create(
        action=action,
        author=by,
        created_at=action.signed_off_at,
        text=f"Closed: {action.get_impact_status_display()}. {note}",
        rag_before=previous_rag,
        rag_after=Action.Rag.BLUE,
    )
    notifications.notify_signed_off(action, by=by)
    return action


@transaction.atomic
def action_send_back(*, action: Action, by: User, expected_version: int, reason: str) -> Action:
    """A senior leader returns a delivered action to the owner: not yet done."""
    reason = (reason or "").strip()
    if action.delivery_status != Action.DeliveryStatus.DELIVERED or action.is_closed:
        raise ValidationError("Only a delivered action awaiting sign-off can be sent back.")
    if not reason:
        raise ValidationError({"reason": "Say why the action is sent back."})
    action_record_progress(
        action=action,
        by=by,
        expected_version=expected_version,
        text=f"Sent back: {reason}",
        delivery_status=Action.DeliveryStatus.IN_PROGRESS,
    )
    action.sent_back_at = timezone.now()
    save_with_version_check(action, expected_version=action.version, fields=["sent_back_at"])
    notifications.notify_sent_back(action, by=by, reason=reason)
    return action


# A new deadline further off than this is a typo or a plan that needs rewriting, not a request.
MAX_YEARS_AHEAD = 10

PENDING_EXISTS = "A deadline change for this action is already awaiting a decision."


def _has_pending_request(action: Action) -> bool:
    return action.due_date_changes.filter(status=DueDateChange.Status.PENDING).exists()


@transaction.atomic
def due_date_change_request(
    *,
    action: Action,
    by: User,
    new_date: dt.date,
    reason: str,
    today: dt.date | None = None,
) -> DueDateChange:
    today = today or timezone.localdate()
    # Lock the action so simultaneous requests queue here and see each other's pending request.
    action = Action.objects.select_for_update().get(pk=action.pk)
    if action.is_closed:
        raise ValidationError("This action is closed; its deadline can no longer change.")
    if new_date < today:
        raise ValidationError({"new_date": "The new date must be today or in the future."})
    if new_date.year > today.year + MAX_YEARS_AHEAD:
        raise ValidationError(
            {"new_date": f"The new date must be within {MAX_YEARS_AHEAD} years from today."}
        )
    if new_date < action.start_date:
        raise ValidationError({"new_date": "The new date must be after the action's start date."})
    if new_date == action.due_date:
        raise ValidationError({"new_date": "The new date is the same as the current due date."})
    if _has_pending_request(action):
        raise ValidationError(PENDING_EXISTS)
    change = DueDateChange(
        action=action,
        authority_id=action.authority_id,
        old_date=action.due_date,
        new_date=new_date,
        reason=visible_text(reason),
        requested_by=by,
    )
    change._history_user = by
    change.full_clean()
    try:
        # The savepoint keeps the caller's transaction usable if the database refuses.
        with transaction.atomic():
            change.save()
    except IntegrityError:
        # The one-pending-request constraint: another request won a race the lock did not
        # cover (a backend without row locks, such as SQLite under concurrent writers).
        raise ValidationError(PENDING_EXISTS) from None
    notifications.notify_awaits_decision(change)
    return change


@transaction.atomic
def due_date_change_decide(
    *, change: DueDateChange, by: User, approve: bool, note: str = ""
) -> DueDateChange:
    change = DueDateChange.objects.select_for_update().select_related("action").get(pk=change.pk)
    if change.status != DueDateChange.Status.PENDING:
        raise ValidationError("This request has already been decided.")
    if change.requested_by_id == by.pk:
        raise ValidationError("Someone else must decide a deadline change you asked for.")
    if not approve and not visible_text(note):
        raise ValidationError({"decision_note": "Say why the request is refused."})
    action = Action.objects.select_for_update().get(pk=change.action_id)
    if approve and action.is_closed:
        raise ValidationError(
            "This action has been closed since the request was made, so its due date can no "
            "longer change. Refuse the request instead."
        )
    if approve and action.due_date != change.old_date:
        raise ValidationError("The due date has changed since this request was made.")
    change.status = DueDateChange.Status.APPROVED if approve else DueDateChange.Status.REFUSED
    change.decided_by = by
    change.decided_at = timezone.now()
    change.decision_note = visible_text(note)
    change._history_user = by
    change.full_clean()
    change.save()
    if approve:
        action.due_date = change.new_date
        action.due_date_change_count += 1
        action._history_user = by
        save_with_version_check(
            action,
            expected_version=action.version,
            fields=["due_date", "due_date_change_count"],
        )
    notifications.notify_deadline_decided(change)
    return change
