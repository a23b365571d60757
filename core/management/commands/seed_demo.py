from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import demo


class Command(BaseCommand):
    help = "Load the demo data (embedded default only) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError(
                "seed_demo runs only on the embedded default (DATABASE_URL unset): demo "
                "logins with printed passwords do not belong in a real deployment."
            )
        passwords = demo.seed_people(password_file=settings.VAR_DIR / "demo-passwords.json")
        self.stdout.write("Demo logins (embedded default only):")
        for person in demo.PEOPLE:
            role = person.role.name if person.role else "Administrator (superuser)"
            self.stdout.write(f"  {person.username:<11} {passwords[person.username]:<18} {role}")
