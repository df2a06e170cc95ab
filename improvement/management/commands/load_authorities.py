from django.core.management.base import BaseCommand

from improvement.demo import load_authorities
from improvement.models import Authority


class Command(BaseCommand):
    help = "Load or refresh every English local authority from the ONS list shipped with the app."

    def handle(self, *args, **options) -> None:
        created = load_authorities()
        self.stdout.write(f"Authorities: {Authority.objects.count()} ({created} new)")
