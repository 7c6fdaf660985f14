from django.core.management.base import BaseCommand
from django.db import transaction

from wagtail import hooks

from learning.demo import DEMO_ACCOUNTS, DEMO_PASSWORD


class Command(BaseCommand):
    help = (
        "Load the demo organisation and content from the seed document. "
        "Idempotent: running it again changes nothing."
    )

    def handle(self, *args, **options):
        loaders = []
        for hook in hooks.get_hooks("register_demo_data"):
            loaders.extend(hook())
        for _order, label, loader in sorted(loaders, key=lambda item: item[0]):
            with transaction.atomic():
                summary = loader()
            self.stdout.write(f"{label}: {summary}")

        self.stdout.write(
            self.style.SUCCESS(f"\nDemo accounts (demo only, password for all: {DEMO_PASSWORD})")
        )
        for username, role, name, _department in DEMO_ACCOUNTS:
            self.stdout.write(f"  {username:<10} {role:<10} {name}")
        self.stdout.write("Open http://127.0.0.1:8000/ and sign in with one of them.")
