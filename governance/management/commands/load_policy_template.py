from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance import services
from governance.management.commands._common import add_user_argument, lead


class Command(BaseCommand):
    help = "Load a shipped policy template as a draft: " + ", ".join(services.TEMPLATES)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=sorted(services.TEMPLATES))
        add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = lead(options["user"])
        try:
            version = services.template_load(actor=actor, name=options["name"])
        except services.RegisterError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Loaded {version.policy.slug} as draft version {version.number}.")
