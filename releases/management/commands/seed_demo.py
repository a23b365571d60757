from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core import demo
from evaluations.demo import seed_models
from governance.demo import seed_register
from releases.demo import seed_releases


class Command(BaseCommand):
    help = "Load the demo data (embedded default only) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.EMBEDDED:
            raise CommandError(
                "seed_demo runs only on the embedded default (DATABASE_URL unset): demo "
                "logins with printed passwords do not belong in a real deployment."
            )
        passwords = demo.seed_people(password_file=settings.VAR_DIR / "demo-passwords.json")
        people = get_user_model().objects.in_bulk(
            ["lead", "owner", "authority", "authority2"], field_name="username"
        )
        version = seed_register(
            lead=people["lead"], authorities=[people["authority"], people["authority2"]]
        )
        labels = seed_models(owner=people["owner"], lead=people["lead"])
        self.stdout.write(f"Models: Orion ({', '.join(labels)}), owned by owner")
        release = seed_releases(owner=people["owner"])
        if release is not None:
            self.stdout.write(f"Release: {release.title} ({release.get_state_display().lower()})")
        state = version.get_state_display().lower()
        self.stdout.write(f"Register: {version.policy.name}, version {version.number} ({state})")
        self.stdout.write("Demo logins (embedded default only):")
        for person in demo.PEOPLE:
            role = person.role.name if person.role else "Administrator (superuser)"
            self.stdout.write(f"  {person.username:<11} {passwords[person.username]:<18} {role}")
