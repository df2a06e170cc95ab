"""Writes for the emails a person chooses to get (overdue reminders cannot be switched off)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from improvement.models import EmailPreference, SentNotification, User


@transaction.atomic
def email_preferences_set(*, user: User, by: User, **choices: bool) -> EmailPreference:
    unknown = set(choices) - set(EmailPreference.SWITCHABLE)
    if unknown:
        raise ValueError(f"No such email preference: {', '.join(sorted(unknown))}")
    # One save, so that the history holds one row per change of mind.
    preference = EmailPreference.objects.select_for_update().filter(
        user=user
    ).first() or EmailPreference(user=user)
    for name, value in choices.items():
        setattr(preference, name, bool(value))
    preference._history_user = by
    preference.full_clean()
    preference.save()
    return preference


def sent_notification_claim(
    *, recipient: User, kind: str, day, subject: str, item_count: int
) -> SentNotification:
    """Claim one (recipient, kind, day) email before it is sent, in the caller's transaction.

    The unique constraint makes a second claim fail with IntegrityError: the caller reads that
    as "already sent" and, if its send fails, rolls the claim back so the next run sends.
    """
    return SentNotification.objects.create(
        recipient=recipient,
        kind=kind,
        day=day,
        sent_at=timezone.now(),
        subject=subject[:250],
        item_count=item_count,
    )
