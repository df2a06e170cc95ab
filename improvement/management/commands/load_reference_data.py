from django.core.management.base import BaseCommand

from improvement.models import Authority, Theme
from improvement.reference import load_reference_data


class Command(BaseCommand):
    help = "Load or refresh the English local authorities and the theme taxonomy. Idempotent."

    def handle(self, *args, **options) -> None:
        authorities_created, themes_created = load_reference_data()
        self.stdout.write(
            f"Authorities: {Authority.objects.count()} ({authorities_created} new); "
            f"themes: {Theme.objects.count()} ({themes_created} new)"
        )
