from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core import audit


class Command(BaseCommand):
    help = "Walk the audit hash chain; exit non-zero naming the first bad seq."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit.verify_chain()
        summary = (
            f"{report.entries} events checked in {report.seconds:.2f} s "
            f"({report.rate:,.0f} events/s)"
        )
        if not report.ok:
            raise CommandError(
                f"audit chain broken at seq {report.first_bad_seq}: {report.problem}. {summary}"
            )
        head = f"head seq {report.head_seq}, hash {report.head_hash}"
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {summary}; {head}"))
