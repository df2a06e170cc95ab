"""The daily reminder run: owners' reminders every day, leaders' digest once a week.

Run it once a day from cron or a systemd timer (README). It is safe to run again: whatever was
already sent for the day (or the week, for digests) is not sent twice, and a run that died half
way sends only what is missing.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from improvement import notifications


class Command(BaseCommand):
    help = "Send today's reminders to action owners and, weekly, the exception digest to leaders."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--date",
            type=dt.date.fromisoformat,
            help="Send as if today were this date (YYYY-MM-DD); for catching up a missed day.",
        )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        today = options["date"] or timezone.localdate(now)
        result = notifications.send_reminders(today=today, now=now)
        for address, subject in result.sent_to:
            self.stdout.write(f"Sent to {address}: {subject}")
        self.stdout.write(
            f"{today:%Y-%m-%d}: {result.sent} sent, {result.already_sent} already sent earlier, "
            f"{len(result.failed)} failed."
        )
        if result.failed:
            # Non-zero exit so cron or the timer reports it; the failed ones retry on the next run.
            raise CommandError("Some emails could not be sent:\n" + "\n".join(result.failed))
