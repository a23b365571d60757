"""Re-hashing audit rows as a raw cursor returns them: the fast path of ``verify_chain``.

``audit.event_hash`` defines an event's hash: SHA-256 of ``canonical_json`` of a dict built
from the values the ORM reads. Walking a long chain that way pays, per row, for ORM
conversions, a dict and the generic canonicaliser. This module writes the same bytes
directly:

* the payload always has the same fifteen keys, so their sorted order is written out once;
* strings are escaped by the ``json`` module's C escaper, the one ``json.dumps`` uses with
  ``ensure_ascii=False``;
* JSON columns arrive as text (SQLite stores text, and Django reads ``jsonb`` as text too):
  they are decoded with hooks that apply the canonical number rules while parsing, then
  written by the C encoder with the canonical settings;
* the timestamp is selected as text and, when it has the one plain shape the databases write
  (``2026-11-27 09:39:06.367305``, PostgreSQL adding ``+00`` in the UTC session Django
  opens), rearranged into the canonical form instead of going through a datetime.

Only that shape is taken. A value of an unexpected type, text the decoder does not take
whole, a NUL anywhere, makes ``row_hash`` return None, and the caller falls back to the
definition. ``tests/core/test_chainhash.py`` checks byte identity with ``canonical_json``
over arbitrary values, and through the database.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from json import encoder as json_encoder
from typing import Any

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from core.canonical import NotCanonicalisable, canonical_json
from core.models import AuditEvent

# The columns ``row_hash`` takes, in this order.
FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_label", "action", "object_type", "object_id",
    "object_repr", "subject", "before", "after", "reason", "request_id", "prev_hash", "hash",
)  # fmt: skip

_PLAIN_LIMIT = 10**21
_escape: Callable[[str], str] = json_encoder.encode_basestring  # the C one when available
# What Django stores on SQLite for an aware datetime (naive UTC; no fraction when it is zero),
# and what PostgreSQL prints for a timestamptz in a UTC session (with "+00", and without the
# fraction's trailing zeros). ASCII digits only.
_PLAIN_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
)


def _canonical_float(text: str) -> float | int:
    value = float(text)
    if value.is_integer():
        return int(value) if -_PLAIN_LIMIT < value < _PLAIN_LIMIT else value
    if not math.isfinite(value):
        raise NotCanonicalisable("NaN and infinity have no JSON form")
    return value


def _canonical_int(text: str) -> int | float:
    value = int(text)
    return value if -_PLAIN_LIMIT < value < _PLAIN_LIMIT else float(value)


def _no_constants(text: str) -> Any:
    raise NotCanonicalisable(f"{text} has no JSON form")


# ``scan_once(text, 0)`` is what ``json.loads`` does for text without surrounding whitespace;
# it raises StopIteration where there is no value at all.
_decoder = json.JSONDecoder(
    parse_float=_canonical_float, parse_int=_canonical_int, parse_constant=_no_constants
)
_scan_once: Callable[[str, int], tuple[Any, int]] = _decoder.scan_once  # type: ignore[attr-defined]


def _make_encoder() -> Callable[[Any], str]:
    """The C encoder with ``canonical_json``'s settings, built once rather than per call (as
    ``json.dumps`` does); the pure-Python encoder where the C one is missing."""
    make = getattr(json_encoder, "c_make_encoder", None)
    if make is not None:
        try:
            c_encode = make(None, None, _escape, None, ":", ",", True, False, False)

            def encode(value: Any) -> str:
                return "".join(c_encode(value, 0))

            probe = {"b": [1.5, "é", None, True, 10**16], "a": {"z": 1, "y": "\n"}}
            if encode(probe).encode() == canonical_json(probe):
                return encode
        except TypeError:  # another Python's private signature
            pass
    return json.JSONEncoder(
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode


_encode = _make_encoder()


def canonical_json_text(text: Any) -> str:
    """Canonical JSON (as str) of the value a JSONField column holds as ``text``. Raises on
    anything that ``json.loads`` of the whole text (what the ORM does) might read otherwise."""
    if text is None:
        return "null"
    value, end = _scan_once(text, 0)
    if end != len(text):
        raise ValueError("trailing characters")
    return _encode(value)


def canonical_timestamp_text(text: Any, *, naive_is_utc: bool) -> str:
    """``format_timestamp`` of the datetime the ORM reads from this column text; raises when
    the text is not of the plain shape."""
    if text[-3:] == "+00":
        text = text[:-3]
    elif not naive_is_utc:
        raise ValueError("a naive timestamp in a connection that is not in UTC")
    if _PLAIN_TIMESTAMP.fullmatch(text) is None:
        raise ValueError("not a plain timestamp")
    datetime.fromisoformat(text)  # refuses a 30 February or a 25th hour, as the ORM would
    return f"{text[:10]}T{text[11:19]}.{text[20:]:0<6}Z"


RowHasher = Callable[[Sequence[Any]], str | None]


def row_hasher(version: int, connection_tz: tzinfo | None) -> RowHasher:
    """A function from a row of ``rows`` to its hash, or None when the row is not of the plain
    shape (then only ``event_hash`` may judge it)."""
    naive_is_utc = connection_tz is UTC

    def row_hash(row: Sequence[Any]) -> str | None:
        (seq, moment, actor_id, actor, action, object_type, object_id, object_repr, subject,
         before, after, reason, request_id, prev_hash, _digest) = row  # fmt: skip
        try:
            if type(seq) is not int or (actor_id is not None and type(actor_id) is not int):
                return None
            # Keys in code-point order, as canonical_json sorts them.
            text = (
                f'{{"action":{_escape(action)},"actor":{_escape(actor)},'
                f'"actor_id":{"null" if actor_id is None else actor_id},'
                f'"after":{canonical_json_text(after)},"before":{canonical_json_text(before)},'
                f'"object_id":{_escape(object_id)},"object_repr":{_escape(object_repr)},'
                f'"object_type":{_escape(object_type)},"occurred_at":'
                f'"{canonical_timestamp_text(moment, naive_is_utc=naive_is_utc)}",'
                f'"prev_hash":{_escape(prev_hash)},"reason":{_escape(reason)},'
                f'"request_id":{_escape(request_id)},"seq":{seq},"subject":{_escape(subject)},'
                f'"v":{version}}}'
            )
            # canonical_json refuses NUL; escaped, it can only appear as this (or as part of
            # an escaped backslash followed by "u0000", which merely takes the slow path).
            if "\\u0000" in text:
                return None
            return hashlib.sha256(text.encode("utf-8")).hexdigest()
        except (TypeError, ValueError, AttributeError, OverflowError, StopIteration):
            return None

    return row_hash


@contextmanager
def _cursor(connection: BaseDatabaseWrapper) -> Iterator[Any]:
    if connection.vendor == "postgresql":
        # A server-side cursor streams the rows; inside a transaction it is not WITH HOLD
        # (which would copy the whole result on the server at the first commit).
        with transaction.atomic(using=connection.alias), connection.chunked_cursor() as cursor:
            yield cursor
    else:
        # Not in a transaction: on SQLite the project's transactions begin IMMEDIATE, which
        # would shut out writers for the whole walk. sqlite3 steps the statement lazily.
        with connection.cursor() as cursor:
            yield cursor


def rows(
    connection: BaseDatabaseWrapper, *, chunk_size: int, after: int | None = None
) -> Generator[Sequence[Any], None, None]:
    """Every audit row (or every one after seq ``after``), in seq order and ``FIELDS`` order,
    fetched ``chunk_size`` at a time.

    The timestamp comes as text: cast, it has no declared type, so Django's SQLite converter
    does not parse it, and PostgreSQL does not go through Django's Python datetime loader."""
    quote = connection.ops.quote_name
    columns = [quote(name) for name in FIELDS]  # column names (actor_id: the foreign key's)
    columns[1] = f"CAST({columns[1]} AS TEXT)"
    # Quoted identifiers from the model's metadata; the one value is a parameter.
    table = quote(AuditEvent._meta.db_table)
    sql = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608  # nosec B608
    params: list[int] = []
    if after is not None:
        sql += f" WHERE {columns[0]} > %s"
        params.append(after)
    with _cursor(connection) as cursor:
        cursor.execute(f"{sql} ORDER BY {columns[0]}", params)
        while batch := cursor.fetchmany(chunk_size):
            yield from batch
