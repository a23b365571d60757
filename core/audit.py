"""The audit chain: the only writer of ``AuditEvent`` rows, and their verifier.

Every change to governed data calls ``record(...)`` inside the transaction that makes the
change, so the event commits or rolls back with it.

Hash of an event = SHA-256 (hex) of the canonical JSON (``core.canonical``) of::

    {"v": 1, "seq": …, "occurred_at": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "actor_id": … | null,
     "actor": …, "action": …, "object_type": …, "object_id": …, "object_repr": …,
     "subject": …, "before": … | null, "after": … | null, "reason": …, "request_id": …,
     "prev_hash": …}

``prev_hash`` of the first event (seq 1) is 64 zeros; every later event carries the hash of
the event before it, and seq has no gaps. A change, removal, insertion or reordering of any
row therefore breaks the chain at or just after that row.

Sequence numbers are assigned under a lock held until the caller's transaction ends, so
events are chained in commit order and two writers never fork the chain: a transaction-
scoped advisory lock on PostgreSQL; on SQLite, transactions begin IMMEDIATE (settings), which
already serialises writers.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.utils import timezone

from core import bulk, chainhash
from core.canonical import canonical_json, format_timestamp
from core.models import AuditEvent

GENESIS_HASH = "0" * 64
HASH_VERSION = 1
# Arbitrary but fixed: the key of the advisory lock that serialises audit writers.
_ADVISORY_LOCK_KEY = 0x6175646974  # "audit"
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_SYSTEM_ACTOR = re.compile(r"^system:[a-z0-9_.:-]+$")

_request_id: ContextVar[str] = ContextVar("audit_request_id", default="")


@contextmanager
def bound_request_id(request_id: str) -> Iterator[None]:
    """Tag every event recorded inside the block with a request or task id."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(hash_payload(fields))).hexdigest()


def hash_payload(fields: dict[str, Any]) -> dict[str, Any]:
    """What an event's hash covers, as JSON values (also the event's form in an export)."""
    return {
        "v": HASH_VERSION,
        "seq": fields["seq"],
        "occurred_at": format_timestamp(fields["occurred_at"]),
        "actor_id": fields["actor_id"],
        "actor": fields["actor_label"],
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "object_repr": fields["object_repr"],
        "subject": fields["subject"],
        "before": fields["before"],
        "after": fields["after"],
        "reason": fields["reason"],
        "request_id": fields["request_id"],
        "prev_hash": fields["prev_hash"],
    }


def _actor_fields(actor: AbstractBaseUser | str) -> tuple[int | None, str]:
    if isinstance(actor, str):
        if not _SYSTEM_ACTOR.match(actor):
            raise ValueError(f"a non-user actor must look like 'system:<task>', not {actor!r}")
        return None, actor
    if actor.pk is None:
        raise ValueError("the acting user must be saved before acting")
    return int(actor.pk), actor.get_username()


def _lock_chain_head() -> tuple[int, str]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    elif connection.vendor != "sqlite":
        raise NotImplementedError(f"the audit chain has no lock for {connection.vendor}")
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return head if head is not None else (0, GENESIS_HASH)


def subject_key(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


# The scope of events every reader of the history may read (the commitment register); any
# other scope is the pk of the AI model the event concerns.
SHARED_SCOPE = 0
# label_lower -> the scope of the events filed under an object of that kind (apps register)
_scope_resolvers: dict[str, Callable[[Any], int | None]] = {}


def register_scope(label: str, resolve: Callable[[Any], int | None]) -> None:
    """Tell ``record`` which AI model the events filed under a kind of object concern."""
    _scope_resolvers[label] = resolve


def _scope_of(subject: models.Model | str, obj: models.Model | None) -> int | None:
    target = subject if isinstance(subject, models.Model) else obj
    if target is None:
        return None
    resolve = _scope_resolvers.get(target._meta.label_lower)
    return resolve(target) if resolve is not None else None


def record(
    *,
    action: str,
    actor: AbstractBaseUser | str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    subject: models.Model | str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    request_id: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction."""
    event = {
        "action": action, "actor": actor, "obj": obj, "object_type": object_type,
        "object_id": object_id, "object_repr": object_repr, "subject": subject,
        "before": before, "after": after, "reason": reason, "request_id": request_id,
    }  # fmt: skip
    return record_many([event])[0]


def record_many(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append several events (each given as ``record``'s keyword arguments), in order, under
    one lock of the chain's head and in one insert: what a recompute that changes many
    determinations at once writes."""
    rows = [_fields(**event) for event in events]
    if not rows:
        return []
    with transaction.atomic():
        last_seq, last_hash = _lock_chain_head()
        now = timezone.now()
        for fields in rows:
            fields["seq"] = last_seq + 1
            fields["prev_hash"] = last_hash
            fields["occurred_at"] = now
            fields["hash"] = event_hash(fields)
            last_seq, last_hash = fields["seq"], fields["hash"]
        appended = [AuditEvent(**fields) for fields in rows]
        bulk.insert(appended)  # every value, the seq included, is known: nothing to read back
        return appended


def _fields(
    *,
    action: str,
    actor: AbstractBaseUser | str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    subject: models.Model | str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    request_id: str | None = None,
) -> dict[str, Any]:
    if not _ACTION.match(action):
        raise ValueError(f"action {action!r} must be dotted lower-case, e.g. 'core.user.created'")
    actor_id, actor_label = _actor_fields(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    return {
        "actor_id": actor_id,
        "actor_label": actor_label[:150],
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr[:300],
        "subject": subject_key(subject) if isinstance(subject, models.Model) else subject,
        # Stored exactly as hashed: canonical JSON read back, so what the database returns
        # re-hashes to the same value.
        "before": _as_stored(before),
        "after": _as_stored(after),
        "reason": reason,
        "request_id": (request_id if request_id is not None else _request_id.get())[:100],
        "scope_id": _scope_of(subject, obj),
    }


def _as_stored(data: dict[str, Any] | None) -> Any:
    return None if data is None else json.loads(canonical_json(data))


@dataclass
class ChainReport:
    entries: int = 0
    first_bad_seq: int | None = None
    problem: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    seconds: float = 0.0
    # Rows the fast re-hash did not reproduce, judged again by ``event_hash`` (none normally).
    rechecked: int = 0

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else float(self.entries)


_VERIFY_FIELDS = chainhash.FIELDS


def verify_chain(*, chunk_size: int = 10_000, after: tuple[int, str] | None = None) -> ChainReport:
    """Walk the whole chain in seq order; stop at the first broken link. With ``after`` (a
    seq and its hash, already verified), walk only the events after it.

    Rows are streamed by a raw cursor (server-side on PostgreSQL) and re-hashed by
    ``core.chainhash``, which writes the canonical bytes of the fixed event shape directly.
    A row it does not take, or whose hash it does not reproduce, is read again through the ORM
    and hashed by ``event_hash``: only the definition decides that a row was altered.
    """
    report = ChainReport()
    started = time.perf_counter()
    start_seq, start_hash = after or (0, GENESIS_HASH)
    expected_seq, expected_prev = start_seq + 1, start_hash
    row_hash = chainhash.row_hasher(HASH_VERSION, connection.timezone)
    # From the start, no lower bound: a row with a seq below 1 must be seen, not skipped.
    walk = chainhash.rows(connection, chunk_size=chunk_size, after=start_seq or None)
    with closing(walk) as rows:
        for row in rows:
            seq, prev_hash, digest = row[0], row[13], row[14]
            if seq != expected_seq or prev_hash != expected_prev:
                report.first_bad_seq, report.problem = _link_problem(seq, expected_seq)
                break
            if row_hash(row) != digest:
                report.rechecked += 1
                if _exact_hash(seq) != digest:
                    report.first_bad_seq = seq
                    report.problem = (
                        f"seq {seq} has been altered (its content does not match its hash)"
                    )
                    break
            expected_seq, expected_prev = seq + 1, digest
    # seq has no gaps up to the first bad one.
    report.head_seq, report.head_hash = expected_seq - 1, expected_prev
    report.entries = report.head_seq - start_seq
    report.seconds = time.perf_counter() - started
    return report


def _link_problem(seq: int, expected_seq: int) -> tuple[int, str]:
    if seq != expected_seq:
        return expected_seq, f"seq {expected_seq} is missing (the next event found is seq {seq})"
    return seq, (
        f"seq {seq} does not link to seq {seq - 1}: one of them was altered, or events were "
        "inserted or reordered between them"
    )


def _exact_hash(seq: int) -> str | None:
    """The row's hash computed from what the ORM reads (the definition), or None when its
    content cannot be hashed at all (a NUL, a NaN: nothing ``record`` would ever write)."""
    row = AuditEvent.objects.filter(seq=seq).values_list(*_VERIFY_FIELDS).first()
    if row is None:
        return None
    try:
        return event_hash(dict(zip(_VERIFY_FIELDS, row, strict=True)))
    except (ValueError, TypeError, OverflowError, AttributeError):  # incl. NotCanonicalisable
        return None
