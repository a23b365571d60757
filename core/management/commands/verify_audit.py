from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import audit
from core.models import AuditEvent


class Command(BaseCommand):
    help = "Walk the audit hash chain; exit non-zero naming the first bad seq."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect",
            metavar="SEQ:HASH",
            help="a head recorded earlier (printed by a previous run): the chain must still "
            "contain it, which catches events removed from the end",
        )

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
        if options["expect"]:
            self._check_expected(options["expect"], report)
        head = f"head seq {report.head_seq}, hash {report.head_hash}"
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {summary}; {head}"))

    def _check_expected(self, expected: str, report: audit.ChainReport) -> None:
        seq_text, _, digest = expected.partition(":")
        if not seq_text.isdigit() or len(digest) != 64:
            raise CommandError("--expect takes SEQ:HASH, e.g. 1200:3f5a…(64 hex digits)")
        seq = int(seq_text)
        if seq > report.head_seq:
            raise CommandError(
                f"the chain ends at seq {report.head_seq}, but seq {seq} was recorded earlier: "
                "events were removed from the end"
            )
        actual = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
        if actual != digest:
            raise CommandError(f"seq {seq} no longer has the hash recorded earlier")
