from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance import policy_yaml, services
from governance.management.commands._common import add_user_argument, lead


class Command(BaseCommand):
    help = "Import a policy YAML file (docs/policy-yaml.md) as a new draft."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = lead(options["user"])
        try:
            text = options["file"].read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from None
        try:
            version = services.policy_import(actor=actor, text=text, source=str(options["file"]))
        except policy_yaml.PolicyFileError as exc:
            lines = "\n".join(f"  {problem}" for problem in exc.problems)
            raise CommandError(f"Nothing was imported:\n{lines}") from None
        except services.RegisterError as exc:
            raise CommandError(f"Nothing was imported: {exc}") from None
        self.stdout.write(f"Imported {version.policy.slug} as draft version {version.number}.")
