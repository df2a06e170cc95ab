"""The reminder run at scale, and the emails the Knowsley demo sends on a chosen day.

Migrates a throwaway SQLite database (or the database DATABASE_URL names, which it must be safe to
fill), loads the demo, lists what the demo's people would be sent, then bulk-creates N owners
(default 10,000) with overdue, due-soon, stale and round-asked actions, and times
`send_reminders`: once through Django's locmem backend, once through a real SMTP server (aiosmtpd)
on the next day. Prints figures; asserts nothing.

Usage: .venv/bin/python benchmarks/bench_reminders.py [owners] [--demo-day YYYY-MM-DD] [--no-smtp]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.test_settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}")

import django  # noqa: E402

django.setup()

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.mail import get_connection  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from improvement import notifications  # noqa: E402
from improvement.demo import load_demo  # noqa: E402
from improvement.models import (  # noqa: E402
    Action,
    Authority,
    BoardMeeting,
    ImprovementArea,
    SentNotification,
    User,
)


class CountingInbox:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))


def demo_emails(day: dt.date) -> None:
    """What the demo's people are sent on `day` (locmem; nothing is recorded)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    now = _at(day)
    result = notifications.send_reminders(
        today=day,
        now=now,
        connection=get_connection("django.core.mail.backends.locmem.EmailBackend"),
    )
    print(f"\nEmails the Knowsley demo sends on {day:%A %-d %B %Y} ({result.sent}):")
    for message in mail.outbox:
        print(f"  to {', '.join(message.to)}: {message.subject}")
        for line in message.body.splitlines():
            if line.startswith("- ") or line.isupper():
                print(f"      {line}")
    SentNotification.objects.all().delete()


def build_owners(n: int, today: dt.date) -> None:
    authority = Authority.objects.get(ons_code="E08000011")
    area = ImprovementArea.objects.filter(inspection__authority=authority).first()
    unusable = make_password(None)  # benchmark people cannot sign in
    users = User.objects.bulk_create(
        User(
            username=f"bench{i}",
            email=f"bench{i}@example.org",
            first_name="Bench",
            last_name=f"Owner {i}",
            authority=authority,
            password=unusable,
        )
        for i in range(n)
    )
    states = [
        {"due_date": today - dt.timedelta(days=3)},  # overdue
        {"due_date": today + dt.timedelta(days=7)},  # due within 14 days
        {
            "due_date": today + dt.timedelta(days=120),
            "last_note_at": _at(today) - dt.timedelta(days=45),
        },
        {
            "due_date": today + dt.timedelta(days=120),
            "last_note_at": _at(today) - dt.timedelta(days=5),
        },
    ]
    actions = []
    for i, user in enumerate(users):
        for j in range(2):
            fields = states[(i + j) % len(states)]
            actions.append(
                Action(
                    authority=authority,
                    reference=f"R{i}.{j}",
                    title=f"Reminder benchmark action {i}.{j}",
                    owner=user,
                    start_date=today - dt.timedelta(days=200),
                    original_due_date=fields["due_date"],
                    success_measure="Sample benchmark action.",
                    is_sample=True,
                    **fields,
                )
            )
    created = Action.objects.bulk_create(actions, batch_size=2000)
    through = Action.improvement_areas.through
    through.objects.bulk_create(
        (through(action_id=a.pk, improvementarea_id=area.pk) for a in created), batch_size=5000
    )
    # A round is running: the board meets in three weeks.
    BoardMeeting.objects.get_or_create(
        authority=authority,
        meets_on=today + dt.timedelta(days=21),
        defaults={
            "updates_due_on": today + dt.timedelta(days=7),
            "round_opens_on": today - dt.timedelta(days=10),
        },
    )


def timed_run(day: dt.date, backend_connection, label: str) -> None:
    executed = 0

    def count(execute, sql, params, many, context):
        nonlocal executed
        executed += 1
        return execute(sql, params, many, context)

    start = time.perf_counter()
    # A counting wrapper rather than CaptureQueriesContext, which keeps only the last 9,000.
    with connection.execute_wrapper(count):
        result = notifications.send_reminders(
            today=day, now=_at(day), connection=backend_connection
        )
    elapsed = time.perf_counter() - start
    per = executed / result.sent if result.sent else 0
    rate = ""
    if result.sent:
        rate = f" ({1000 * elapsed / result.sent:.2f} ms and {per:.2f} queries per email)"
    print(
        f"{label}: {result.sent:,} emails in {elapsed:.1f} s{rate}, "
        f"{executed:,} queries in all, {len(result.failed)} failed"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("owners", nargs="?", type=int, default=10_000)
    parser.add_argument("--demo-day", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--no-smtp", action="store_true", help="skip the run through aiosmtpd")
    args = parser.parse_args()
    print(f"Database: {connection.vendor}")
    call_command("migrate", verbosity=0)
    with notifications.suppressed():
        load_demo(log=lambda line: None)
    today = timezone.localdate()
    demo_emails(args.demo_day or today)

    build_owners(args.owners, today)
    # The week's digests go on Monday; the first run sends them too.
    locmem = get_connection("django.core.mail.backends.locmem.EmailBackend")
    mail.outbox = []
    timed_run(today, locmem, f"send_reminders, {args.owners:,} owners, locmem")
    timed_run(today, locmem, "the same day again (everything already sent)")

    if args.no_smtp:
        return
    inbox = CountingInbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        smtp = get_connection(
            "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=port
        )
        timed_run(today + dt.timedelta(days=1), smtp, "the next day, through a real SMTP server")
        print(f"SMTP server received {inbox.count:,} messages")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
