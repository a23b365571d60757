from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import audit
from core.models import AuditEvent
from evaluations.models import Model
from oversight import bundle
from oversight.forms import AuditFilterForm
from oversight.selectors import narrowed
from releases.models import Release


class Command(BaseCommand):
    help = (
        "Write a verifiable audit bundle (zip) for a scope and time range; "
        "it verifies offline with the verify_bundle.py inside it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("output", help="the zip to write, e.g. audit-2026-q4.zip")
        for name in ("action", "actor", "model", "release", "object-type", "subject"):
            parser.add_argument(f"--{name}")
        parser.add_argument("--since", help="UTC date, YYYY-MM-DD")
        parser.add_argument("--until", help="UTC date, YYYY-MM-DD (inclusive)")

    def handle(self, *args: Any, **options: Any) -> None:
        fields = ("action", "actor", "model", "release", "object_type", "subject", "since", "until")
        data = {key: options[key] for key in fields if options.get(key)}
        form = AuditFilterForm(data)
        if not form.is_valid():
            problems = "; ".join(
                f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()
            )
            raise CommandError(f"invalid filter: {problems}")
        events = narrowed(
            form,
            events=AuditEvent.objects.all(),
            models=Model.objects.all(),
            releases=Release.objects.all(),
        )
        target = Path(options["output"])
        filters = {key: str(value) for key, value in form.cleaned_data.items() if value}
        with target.open("wb") as out:
            summary = bundle.write_bundle(
                out, events=events, filters=filters, generated_by="system:export_audit"
            )
        audit.record(
            action="oversight.export.created",
            actor="system:export_audit",
            object_type="oversight.export",
            object_repr=summary.name,
            after={"filters": filters, "events": summary.events},
        )
        rate = summary.events / summary.seconds if summary.seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"{target}: {summary.events} events, chain seq {summary.chain_from}.."
                f"{summary.chain_to}, {summary.checkpoints} checkpoints, {summary.signatures} "
                f"signatures in {summary.seconds:.1f} s ({rate:,.0f} events/s)"
            )
        )
