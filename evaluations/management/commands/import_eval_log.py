from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations import importers, imports, ingestion
from evaluations.models import ModelVersion


class Command(BaseCommand):
    help = (
        "Import an evaluation log (Inspect AI .eval or .json, lm-evaluation-harness results "
        "JSON, or CSV) for a model version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--model-version", required=True, metavar="LABEL")
        parser.add_argument("--user", help="who brings the results in (default: the model's owner)")

    def handle(self, *args: Any, **options: Any) -> None:
        version = (
            ModelVersion.objects.select_related("model__owner")
            .filter(label=options["model_version"])
            .first()
        )
        if version is None:
            raise CommandError(f"No model version is labelled {options['model_version']!r}.")
        actor = version.model.owner
        if options["user"]:
            people = get_user_model().objects.filter(username=options["user"], is_active=True)
            named = people.first()
            if named is None:
                raise CommandError(f"No active person is called {options['user']!r}.")
            actor = named
        path: Path = options["file"]
        try:
            if path.stat().st_size > settings.IMPORT_MAX_BYTES:
                raise CommandError(f"{path} is larger than the import limit.")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        try:
            result = imports.import_bytes(
                actor=actor, data=data, filename=path.name, model_version=version.label
            )
        except (importers.ImportFailed, ingestion.IngestionError, ingestion.RunConflict) as exc:
            raise CommandError(f"Nothing was imported: {exc}") from None
        created, replayed = len(result.outcome.created), len(result.outcome.replayed)
        self.stdout.write(
            f"{result.format}: {created} run(s) stored, {replayed} already present "
            f"(sha256 {result.raw_file.sha256})."
        )
