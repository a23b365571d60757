"""Reads of the audit chain that the pages share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

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


def recent_events(*, limit: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.select_related("actor").order_by("-seq")[:limit])


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None


def filtered_events(filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("actor"):
        events = events.filter(actor_label=filters["actor"])
    if filters.get("object_type"):
        events = events.filter(object_type=filters["object_type"])
    if filters.get("object_id"):
        events = events.filter(object_id=filters["object_id"])
    return events


def audit_page(filters: dict[str, Any], *, page_size: int | None = None) -> AuditPage:
    """Newest first, keyset-paginated on seq: a deep page costs what the first one does."""
    page_size = page_size or PAGE_SIZE
    events = filtered_events(filters)
    if filters.get("before"):
        events = events.filter(seq__lt=filters["before"])
    rows = list(events.select_related("actor").order_by("-seq")[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    return AuditPage(events=rows, next_before=rows[-1].seq if more else None)
