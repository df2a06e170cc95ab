"""Emails: reminders and digests (sent by the daily run), and notices as things happen.

Services call the `notify_*` functions; each schedules its email with transaction.on_commit, so
nothing is sent for a change that is rolled back and no email is sent inside a transaction.
Mail goes through Django's mail framework (SMTP to the council's relay, or GOV.UK Notify via
improvement.mail). The demo loader runs inside `suppressed()`: it must email nobody.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from improvement import roles
from improvement.models import Action, DueDateChange, SentNotification, User
from improvement.selectors import reminders as reminder_reads
from improvement.services.emails import sent_notification_claim

logger = logging.getLogger(__name__)

_suppressed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "notifications_suppressed", default=False
)


@contextmanager
def suppressed() -> Iterator[None]:
    """Send no notices for what happens inside (the demo loader, bulk loads)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def is_suppressed() -> bool:
    return _suppressed.get()


def absolute_url(path: str) -> str:
    base = (settings.SITE_URL or "").rstrip("/")
    if not base:
        raise ImproperlyConfigured("Set SITE_URL so that emails can link to the tracker.")
    return f"{base}{path}"


def build_email(template: str, context: dict, *, to: User, subject: str) -> EmailMultiAlternatives:
    """A plain-text email with an HTML alternative, from templates/email/<template>.txt|html."""
    context = {
        "council_name": settings.COUNCIL_NAME,
        "service_name": settings.SERVICE_NAME,
        "recipient": to,
        "site_url": absolute_url("/"),
        "emails_url": absolute_url(reverse("improvement:your-emails")),
        "subject": subject,
        **context,
    }
    message = EmailMultiAlternatives(
        subject=f"{subject} – {settings.COUNCIL_NAME}",
        body=render_to_string(f"email/{template}.txt", context),
        to=[to.email],
    )
    message.attach_alternative(render_to_string(f"email/{template}.html", context), "text/html")
    return message


# The daily run's emails


def owner_daily_email(
    reminder: reminder_reads.OwnerReminder, *, today: dt.date
) -> EmailMultiAlternatives:
    for item in reminder.items:
        item.url = absolute_url(item.action.get_absolute_url())
    count = len(reminder.items)
    return build_email(
        "owner_daily",
        {"reminder": reminder, "sections": reminder.section_list, "today": today},
        to=reminder.owner,
        subject=f"{count} action{'s' if count != 1 else ''} need{'s' if count == 1 else ''} "
        "your attention",
    )


def leader_digest_email(digest: reminder_reads.LeaderDigest) -> EmailMultiAlternatives:
    for section in digest.sections:
        section.url = absolute_url(section.path)
        for item in section.items:
            if isinstance(item, DueDateChange):
                item.url = absolute_url(reverse("improvement:deadline-decide", args=[item.pk]))
            else:
                item.url = absolute_url(item.get_absolute_url())
    return build_email(
        "leader_weekly",
        {"digest": digest, "sections": digest.sections},
        to=digest.leader,
        subject=f"Weekly exception digest, week of {digest.week_of:%-d %B %Y}",
    )


@dataclass
class RunResult:
    sent: int = 0
    already_sent: int = 0
    failed: list[str] = field(default_factory=list)
    sent_to: list[tuple[str, str]] = field(default_factory=list)


def _claim_and_send(
    *,
    recipient: User,
    kind: str,
    day: dt.date,
    message: EmailMultiAlternatives,
    items: int,
    connection,
    result: RunResult,
) -> None:
    """Claim the (recipient, kind, day) row and send in one transaction.

    If the send fails or the process dies, the claim is rolled back with it and the next run
    sends; a claim that is already there (a finished or concurrent run) means "sent": skip.
    """
    try:
        with transaction.atomic():
            sent_notification_claim(
                recipient=recipient,
                kind=kind,
                day=day,
                subject=message.subject,
                item_count=items,
            )
            try:
                sent = connection.send_messages([message])
            except smtplib.SMTPServerDisconnected:
                # Relays close long sessions; reconnect once for this message.
                connection.close()
                sent = connection.send_messages([message])
            if sent != 1:
                raise smtplib.SMTPException(f"the mail backend did not send to {recipient.email}")
    except IntegrityError:
        result.already_sent += 1
    except (smtplib.SMTPException, OSError) as exc:
        # The relay refused this one: nothing is recorded, so tomorrow's run (or a re-run) retries.
        logger.warning("Could not send %s to %s: %s", kind, recipient.email, exc)
        result.failed.append(f"{recipient.email}: {exc}")
    else:
        result.sent += 1
        result.sent_to.append((recipient.email, message.subject))


def send_reminders(
    *,
    today: dt.date,
    now: dt.datetime,
    connection=None,
    digest_weekday: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Send today's owner reminders and, when due, this week's leader digests; once each."""
    absolute_url("/")  # fail before sending anything when SITE_URL is missing
    digest_weekday = settings.DIGEST_WEEKDAY if digest_weekday is None else digest_weekday
    result = RunResult()
    connection = connection or get_connection()
    with connection:
        for reminder in reminder_reads.owner_reminders(today=today, now=now):
            _claim_and_send(
                recipient=reminder.owner,
                kind=SentNotification.Kind.OWNER_DAILY,
                day=today,
                message=owner_daily_email(reminder, today=today),
                items=len(reminder.items),
                connection=connection,
                result=result,
            )
        if reminder_reads.digest_due(today, digest_weekday):
            for digest in reminder_reads.leader_digests(today=today, now=now):
                _claim_and_send(
                    recipient=digest.leader,
                    kind=SentNotification.Kind.LEADER_WEEKLY,
                    day=digest.week_of,
                    message=leader_digest_email(digest),
                    items=digest.total,
                    connection=connection,
                    result=result,
                )
    if progress:
        progress(
            f"Sent {result.sent}, already sent {result.already_sent}, failed {len(result.failed)}"
        )
    return result


# Notices as things happen


def _wants_notices(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_active
        and user.email
        and reminder_reads.wants(user, "decisions")
    )


def _send_notice(build: Callable[[], list[EmailMultiAlternatives]]) -> None:
    messages = build()
    if messages:
        get_connection().send_messages(messages)


def _schedule(build: Callable[[], list[EmailMultiAlternatives]]) -> None:
    if is_suppressed():
        return

    def send_notice() -> None:
        _send_notice(build)

    # robust: a relay that is down is logged, and never turns a saved change into an error page.
    # (A named function, not a partial: Django logs the failing callback by its __qualname__.)
    transaction.on_commit(send_notice, robust=True)


def _notice(
    user: User, *, subject: str, action: Action, lines: list[str], link: str | None = None
) -> list[EmailMultiAlternatives]:
    if not _wants_notices(user):
        return []
    return [
        build_email(
            "notice",
            {
                "action": action,
                "lines": lines,
                "url": absolute_url(link or action.get_absolute_url()),
            },
            to=user,
            subject=subject,
        )
    ]


def _action(pk: int) -> Action:
    return Action.objects.select_related("owner", "authority", "team").get(pk=pk)


def _leaders_of(action: Action, *, excluding: set[int]) -> list[User]:
    """The senior leaders of the action's authority, who decide on it."""
    return list(
        User.objects.filter(
            is_active=True,
            groups__name=roles.SENIOR_LEADER,
            authority_id=action.authority_id,
            reach=User.Reach.AUTHORITY,
        )
        .exclude(pk__in=excluding)
        .exclude(email="")
        .select_related("email_preference")
        .distinct()
        .order_by("pk")
    )


def notify_assigned(action: Action, *, by: User | None) -> None:
    """The new owner hears that an action is theirs (unless they gave it to themselves)."""
    if by is not None and by.pk == action.owner_id:
        return
    action_id, by_name = action.pk, str(by) if by else ""

    def build():
        action = _action(action_id)
        lines = [
            f"{by_name} has made you the owner of this action."
            if by_name
            else "You are now the owner of this action."
        ]
        lines.append(f"It is due on {action.due_date:%-d %B %Y}.")
        return _notice(
            action.owner, subject=f"Action assigned to you: {action}", action=action, lines=lines
        )

    _schedule(build)


def notify_deadline_decided(change: DueDateChange) -> None:
    """The owner (and whoever asked, if someone else) hears whether the new date was agreed."""
    change_id = change.pk

    def build():
        change = DueDateChange.objects.select_related(
            "action__owner", "action__authority", "requested_by", "decided_by"
        ).get(pk=change_id)
        action = change.action
        approved = change.status == DueDateChange.Status.APPROVED
        verdict = "approved" if approved else "refused"
        lines = [
            f"{change.decided_by} has {verdict} the request to move the due date from "
            f"{change.old_date:%-d %B %Y} to {change.new_date:%-d %B %Y}.",
        ]
        if change.decision_note:
            lines.append(f"Their note: {change.decision_note}")
        if not approved:
            lines.append(f"The action is still due on {action.due_date:%-d %B %Y}.")
        people = {action.owner_id: action.owner, change.requested_by_id: change.requested_by}
        people.pop(change.decided_by_id, None)
        return [
            message
            for person in people.values()
            for message in _notice(
                person, subject=f"New date {verdict}: {action}", action=action, lines=lines
            )
        ]

    _schedule(build)


def notify_signed_off(action: Action, *, by: User) -> None:
    action_id = action.pk

    def build():
        action = _action(action_id)
        lines = [
            f"{by} has signed off this action: {action.get_impact_status_display()}.",
            f"Their note: {action.closure_note}",
        ]
        return _notice(action.owner, subject=f"Action closed: {action}", action=action, lines=lines)

    _schedule(build)


def notify_sent_back(action: Action, *, by: User, reason: str) -> None:
    action_id = action.pk

    def build():
        action = _action(action_id)
        lines = [
            f"{by} has sent this action back to you: it is not yet done.",
            f"Why: {reason}",
            "It is in progress again. Add a progress note when you have acted on this.",
        ]
        return _notice(
            action.owner, subject=f"Action sent back: {action}", action=action, lines=lines
        )

    _schedule(build)


def notify_awaits_decision(change: DueDateChange) -> None:
    """The authority's senior leaders hear that a deadline change awaits their decision."""
    change_id = change.pk

    def build():
        change = DueDateChange.objects.select_related(
            "action__owner", "action__authority", "requested_by"
        ).get(pk=change_id)
        action = change.action
        lines = [
            f"{change.requested_by} asks to move the due date from "
            f"{change.old_date:%-d %B %Y} to {change.new_date:%-d %B %Y}.",
            f"Why: {change.reason}",
        ]
        return [
            message
            for leader in _leaders_of(action, excluding={change.requested_by_id})
            for message in _notice(
                leader,
                subject=f"Deadline change awaits your decision: {action}",
                action=action,
                lines=lines,
                link=reverse("improvement:deadline-decide", args=[change.pk]),
            )
        ]

    _schedule(build)


def notify_awaits_sign_off(action: Action, *, by: User) -> None:
    """The authority's senior leaders hear that a delivered action awaits sign-off."""
    action_id, by_name = action.pk, str(by)

    def build():
        action = _action(action_id)
        lines = [
            f"{by_name} has marked this action as delivered.",
            "Delivered is not done: sign it off when its evidence shows a difference for "
            "children, or send it back.",
        ]
        return [
            message
            for leader in _leaders_of(action, excluding={action.owner_id})
            for message in _notice(
                leader,
                subject=f"Delivered, awaiting your sign-off: {action}",
                action=action,
                lines=lines,
                link=reverse("improvement:action-sign-off", args=[action.pk]),
            )
        ]

    _schedule(build)
