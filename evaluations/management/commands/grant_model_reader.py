from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations import services
from evaluations.models import Model


class Command(BaseCommand):
    help = (
        "Let a person read one model (its versions, releases and, for an auditor of named "
        "models, its history), or with --revoke take it back. Recorded in the audit chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("model", help="the model's slug")
        parser.add_argument("--revoke", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        reader = get_user_model().objects.filter(username=options["username"]).first()
        if reader is None:
            raise CommandError(f"no person is called {options['username']!r}")
        model = Model.objects.filter(slug=options["model"]).first()
        if model is None:
            raise CommandError(f"no model has the slug {options['model']!r}")
        change = services.model_reader_revoke if options["revoke"] else services.model_reader_grant
        change(actor="system:grant_model_reader", model=model, reader=reader)
        verb = "may no longer read" if options["revoke"] else "may read"
        self.stdout.write(self.style.SUCCESS(f"{reader.get_username()} {verb} {model.slug}"))
