"""Writes for the emails a person chooses to get (overdue reminders cannot be switched off)."""

from __future__ import annotations

from django.db import transaction

from improvement.models import EmailPreference, User


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
