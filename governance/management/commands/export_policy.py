from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance import services
from governance.models import PolicyVersion


class Command(BaseCommand):
    help = "Print a policy version as YAML: SLUG (the version in force) or SLUG:NUMBER."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", metavar="SLUG[:NUMBER]")

    def handle(self, *args: Any, **options: Any) -> None:
        slug, _, number = options["version"].partition(":")
        versions = PolicyVersion.objects.filter(policy__slug=slug)
        if number:
            if not number.isdigit():
                raise CommandError("NUMBER must be a version number, e.g. rsp-template:2")
            version = versions.filter(number=int(number)).first()
        else:
            version = versions.filter(state=PolicyVersion.State.PUBLISHED).first()
        if version is None:
            raise CommandError(f"No such policy version: {options['version']}")
        self.stdout.write(services.policy_export(version), ending="")
