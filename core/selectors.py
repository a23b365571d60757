"""Reads of the audit chain that the pages share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

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


# Columns with a (column, seq) index that ``newest_seqs`` may read by.
_KEYED_COLUMNS = frozenset({"subject", "scope_id"})
_UNION_MEMBERS = 200  # below SQLite's limit on the terms of one compound SELECT (500)


def newest_seqs(
    column: str, values: list[Any], *, limit: int, before: int | None = None
) -> list[int]:
    """The seqs of the newest ``limit`` events (older than ``before``) whose ``column`` is one
    of ``values``, newest first.

    One index range per value, each cut at ``limit``, merged by the database: the cost depends
    on ``limit`` and the number of values, not on how many other events the chain holds. (A
    plain ``column IN (…) ORDER BY seq DESC`` walks the chain from its head until it has found
    enough, which is long when the events sought are old or rare.)
    """
    found: list[int] = []
    for sql, params in _newest(column, values, limit=limit, before=before, fields=("seq",)):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found += [row[0] for row in cursor.fetchall()]
    return sorted(found, reverse=True)[:limit]


def newest_events(
    column: str, values: list[Any], *, limit: int, fields: tuple[str, ...]
) -> list[AuditEvent]:
    """As ``newest_seqs``, but the events themselves, with only ``fields`` loaded (and seq), in
    the same query."""
    found: list[AuditEvent] = []
    for sql, params in _newest(column, values, limit=limit, before=None, fields=fields):
        found += AuditEvent.objects.raw(sql, params)
    return sorted(found, key=lambda event: event.seq, reverse=True)[:limit]


def _newest(
    column: str, values: list[Any], *, limit: int, before: int | None, fields: tuple[str, ...]
) -> Iterator[tuple[str, list[Any]]]:
    if column not in _KEYED_COLUMNS:
        raise ValueError(f"no (column, seq) index on {column!r}")
    # Table and column names come from the model and the checks here, never from input.
    columns = {field.name: str(field.column) for field in AuditEvent._meta.concrete_fields}
    names = ", ".join(columns[name] for name in dict.fromkeys(("seq", *fields)))
    values = list(dict.fromkeys(values))
    table = AuditEvent._meta.db_table
    bound = " AND seq < %s" if before else ""
    for start in range(0, len(values), _UNION_MEMBERS):
        chunk = values[start : start + _UNION_MEMBERS]
        members = " UNION ALL ".join(
            f"SELECT {names} FROM (SELECT {names} FROM {table} "  # noqa: S608  # nosec B608
            f"WHERE {column} = %s{bound} ORDER BY seq DESC LIMIT %s) AS part{n}"
            for n in range(len(chunk))
        )
        params: list[Any] = []
        for value in chunk:
            params += [value, *([before] if before else []), limit]
        yield (
            f"SELECT {names} FROM ({members}) AS merged "  # noqa: S608  # nosec B608
            "ORDER BY seq DESC LIMIT %s",
            [*params, limit],
        )
