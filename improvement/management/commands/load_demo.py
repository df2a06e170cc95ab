from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from improvement.demo import load_demo
from improvement.notifications import suppressed


class Command(BaseCommand):
    help = "Load the Knowsley demo (authorities, inspections, sample plan, demo users). Idempotent."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            # The demo hands out known passwords: never on a server that is not a local one.
            raise CommandError(
                "load_demo refuses to run with DEBUG off: the demo users have published "
                "passwords. Run it only locally, with DEBUG=1 (`make run` does this)."
            )
        # Sample data: its owners and leaders are made up, and must not be emailed.
        with suppressed():
            summary = load_demo(log=lambda line: self.stdout.write(line))
        self.stdout.write(self.style.SUCCESS("Demo data ready. Demo logins (sample accounts):"))
        for user in summary.users:
            self.stdout.write(
                f"  {user.role:<15} username: {user.username:<8} password: {user.password}"
            )
