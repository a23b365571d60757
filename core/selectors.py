"""Reads of the audit chain that the pages share."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import AuditEvent

PAGE_SIZE = 50


@dataclass(frozen=True)
class ChainSummary:
    entries: int
    head: AuditEvent | None


def chain_summary() -> ChainSummary:
    head = AuditEvent.objects.order_by("-seq").first()
    # seq has no gaps, so the head's seq is the number of events: no COUNT(*) scan.
    return ChainSummary(entries=head.seq if head else 0, head=head)
