"""Count the dashboard figures of very large plans ahead of their readers.

A plan of LARGE_PLAN_ACTIONS actions or more (improvement.selectors.dashboard) has its headline
counts and themes cached for DASHBOARD_FIGURES_CACHE_SECONDS; counting them takes a second or
two at 100,000 actions. Run this from cron more often than that (e.g. every 4 minutes with the
default 5) so that a leader opening the dashboard never waits for the count. With no such plan
it does nothing; an ordinary council's figures are counted as they are read.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from improvement.selectors.dashboard import count_large_plans


class Command(BaseCommand):
    help = "Count and cache the dashboard figures of plans with very many actions."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        counted = count_large_plans(today=timezone.localdate(now), now=now)
        for authority, total in counted:
            self.stdout.write(f"{authority.name}: {total:,} actions counted")
        self.stdout.write(f"{len(counted)} large plan{'s' if len(counted) != 1 else ''} counted.")
