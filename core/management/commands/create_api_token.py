from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import tokens


class Command(BaseCommand):
    help = "Make an API token for a person and print it once (it is stored only hashed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active person is called {options['username']!r}.")
        created = tokens.token_create(actor=user, user=user, name=options["name"])
        self.stderr.write(f"Token {created.token.prefix}… for {user.username}; keep it secret:")
        self.stdout.write(created.key)
