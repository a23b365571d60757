from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import audit, checkpoints, integrity, signing
from core.canonical import format_timestamp
from core.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Verify the audit trail: walk and re-hash the chain, check its signed checkpoints, "
        "every stored signature, and that published register content is what was signed. "
        "Exits non-zero, naming each failure, if anything fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect",
            metavar="SEQ:HASH",
            help="a head recorded earlier (printed by a previous run): the chain must still "
            "contain it, which catches events removed from the end",
        )
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="after a successful verification, sign the chain's head as a new checkpoint",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        failures: list[str] = []
        chain = audit.verify_chain()
        failures += self._report_chain(chain)
        if options["expect"]:
            failures += self._check_expected(options["expect"], chain)
        failures += self._report_checkpoints(checkpoints.verify_checkpoints(chain))
        failures += self._report_signatures(signing.verify_signatures())
        failures += self._report_integrity(integrity.run())
        if failures:
            raise CommandError("; ".join(failures))
        if options["checkpoint"]:
            self._write_checkpoint(chain)

    def _report_integrity(self, found: dict[str, list[str]]) -> list[str]:
        failures = []
        for name, problems in found.items():
            if not problems:
                self.stdout.write(self.style.SUCCESS(f"{name}: content matches what was signed"))
            for problem in problems:
                self.stdout.write(self.style.ERROR(f"{name}: {problem}"))
                failures.append(f"{name}: {problem}")
        return failures

    def _report_chain(self, chain: audit.ChainReport) -> list[str]:
        summary = (
            f"{chain.entries:,} events checked in {chain.seconds:.2f} s "
            f"({chain.rate:,.0f} events/s)"
        )
        if not chain.ok:
            failure = f"audit chain broken at seq {chain.first_bad_seq}: {chain.problem}"
            self.stdout.write(self.style.ERROR(f"{failure}. {summary}"))
            return [failure]
        head = f"head seq {chain.head_seq}, hash {chain.head_hash}"
        self.stdout.write(self.style.SUCCESS(f"audit chain intact: {summary}; {head}"))
        return []

    def _check_expected(self, expected: str, chain: audit.ChainReport) -> list[str]:
        seq_text, _, digest = expected.partition(":")
        if not seq_text.isdigit() or len(digest) != 64:
            raise CommandError("--expect takes SEQ:HASH, e.g. 1200:3f5a…(64 hex digits)")
        seq = int(seq_text)
        if seq > chain.head_seq:
            failure = (
                f"the chain ends at seq {chain.head_seq}, but seq {seq} was recorded earlier: "
                "events were removed from the end"
            )
        elif AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first() != digest:
            failure = f"seq {seq} no longer has the hash recorded earlier"
        else:
            self.stdout.write(self.style.SUCCESS(f"expected head: seq {seq} still has that hash"))
            return []
        self.stdout.write(self.style.ERROR(failure))
        return [failure]

    def _report_checkpoints(self, report: checkpoints.CheckpointReport) -> list[str]:
        if report.checked == 0:
            self.stdout.write("checkpoints: none yet")
            return []
        failing = len(report.problems)
        summary = f"checkpoints: {report.checked:,} checked, {failing:,} failing"
        if report.latest is not None:
            latest = report.latest
            summary += (
                f"; latest: checkpoint {latest.pk} at seq {latest.seq}, "
                f"{format_timestamp(latest.created_at)}"
            )
        self.stdout.write((self.style.ERROR if failing else self.style.SUCCESS)(summary))
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(f"  {problem}"))
        return report.problems

    def _report_signatures(self, report: signing.SignatureReport) -> list[str]:
        failing = len(report.problems)
        summary = (
            f"signatures: {report.checked:,} checked, {report.bound:,} bound, "
            f"{failing:,} failing, {report.stale:,} stale (bound to a subject that has "
            "changed since)"
        )
        self.stdout.write((self.style.ERROR if failing else self.style.SUCCESS)(summary))
        for problem in report.problems:
            self.stdout.write(self.style.ERROR(f"  {problem}"))
        return report.problems

    def _write_checkpoint(self, chain: audit.ChainReport) -> None:
        try:
            checkpoint = checkpoints.checkpoint_create(verified=chain)
        except checkpoints.CheckpointRefused as refusal:
            raise CommandError(f"no checkpoint written: {refusal}") from None
        if checkpoint is None:
            self.stdout.write(
                "no new checkpoint: the audit chain is empty"
                if chain.head_seq == 0
                else "no new checkpoint: the chain's head has not moved since the last one"
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"checkpoint {checkpoint.pk} written: seq {checkpoint.seq}, "
                f"hash {checkpoint.head_hash}"
            )
        )
