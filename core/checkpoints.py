"""Audit checkpoints: the chain's head, signed from time to time, so that a rewrite shows.

The hash chain alone proves that each event follows from the one before. It cannot tell a
chain whose last events were removed from one that simply ends there, nor a chain rebuilt
from the first event with fresh, consistent hashes from the original. A checkpoint can: it is
the deployment key's signature over the head at a moment, canonical JSON of::

    {"type": "audit.checkpoint", "seq": …, "head_hash": …, "created_at": "…Z"}

stored as that exact text, so it verifies offline with the public key and OpenSSL, like a
``Signature``. Later, the chain must still reach ``seq`` and the event there must still
carry ``head_hash``.

Creating a checkpoint is not itself an audit event. A checkpoint is a statement about the
chain; an event for it would move the head it has just signed, and the periodic job would
then find a new head every time and write an event and a checkpoint every run, forever. The
checkpoints are their own append-only, signed table, and ``verify_audit`` reports them.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from core import audit, keys
from core.canonical import canonical_json, format_timestamp
from core.models import AuditCheckpoint, AuditEvent

log = logging.getLogger(__name__)
CHECKPOINT_TYPE = "audit.checkpoint"


class CheckpointRefused(Exception):
    """The chain is not in a state a checkpoint may vouch for; the message says why."""


def manifest_bytes(*, seq: int, head_hash: str, created_at: datetime) -> bytes:
    return canonical_json(
        {
            "type": CHECKPOINT_TYPE,
            "seq": seq,
            "head_hash": head_hash,
            "created_at": format_timestamp(created_at),
        }
    )


@dataclass
class CheckpointReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    latest: AuditCheckpoint | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_checkpoints(report: audit.ChainReport) -> CheckpointReport:
    """Check every checkpoint against the key and against the chain ``report`` walked.

    Two queries whatever the number of checkpoints: the checkpoints with the hash the chain
    holds today at each one's seq, and (only if the walk stopped early) the last seq stored.
    """
    rows = AuditCheckpoint.objects.annotate(
        event_hash=Subquery(AuditEvent.objects.filter(seq=OuterRef("seq")).values("hash")[:1])
    ).order_by("seq")
    head = report.head_seq if report.ok else _stored_head()
    key = None  # loaded only when there is something to check with it
    result = CheckpointReport()
    for checkpoint in rows:
        key = key or keys.signing_key()
        result.checked += 1
        result.latest = checkpoint
        problem = _problem(checkpoint, key, head)
        if problem:
            result.problems.append(problem)
    return result


def _stored_head() -> int:
    return AuditEvent.objects.aggregate(head=Max("seq"))["head"] or 0


def _problem(checkpoint: AuditCheckpoint, key: keys.SigningKey, head: int) -> str:
    name = f"checkpoint {checkpoint.pk}"
    if checkpoint.key_id != key.key_id:
        return (
            f"{name} was signed with key {checkpoint.key_id}, not this deployment's key "
            f"{key.key_id}"
        )
    try:
        key.public.verify(
            base64.b64decode(checkpoint.signature), checkpoint.manifest.encode("utf-8")
        )
    except (InvalidSignature, ValueError):
        return f"{name}: its signature does not verify over its manifest: it was forged"
    expected = manifest_bytes(
        seq=checkpoint.seq, head_hash=checkpoint.head_hash, created_at=checkpoint.created_at
    )
    if checkpoint.manifest.encode("utf-8") != expected:
        return f"{name}: its columns differ from its signed manifest: the row was altered"
    if checkpoint.seq > head:
        return (
            f"the chain ends at seq {head} but checkpoint {checkpoint.pk} recorded seq "
            f"{checkpoint.seq}: events were removed from the end"
        )
    if checkpoint.event_hash != checkpoint.head_hash:  # type: ignore[attr-defined]
        return (
            f"seq {checkpoint.seq} no longer has the hash checkpoint {checkpoint.pk} recorded: "
            "the chain was rewritten"
        )
    return ""


def checkpoint_create(
    *, verified: audit.ChainReport, now: datetime | None = None
) -> AuditCheckpoint | None:
    """Sign the chain's head, taken under the lock ``audit.record`` holds, so no event is
    half-written; None when the head has not moved since the last checkpoint.

    ``verified`` is a walk of the whole chain made just before (outside the lock: a long walk
    must not stop every writer). Events appended since are checked here, under the lock, from
    the head that walk reached; earlier checkpoints are checked too, so that a rewritten
    chain is never signed over.
    """
    if not verified.ok:
        raise CheckpointRefused(
            f"the audit chain is broken at seq {verified.first_bad_seq}: {verified.problem}"
        )
    with transaction.atomic():
        head_seq, head_hash = audit._lock_chain_head()
        delta = audit.verify_chain(after=(verified.head_seq, verified.head_hash))
        if not delta.ok or delta.head_seq != head_seq:
            raise CheckpointRefused(
                f"the audit chain changed since it was verified: {delta.problem or 'its head'}"
            )
        checks = verify_checkpoints(delta)
        if not checks.ok:
            raise CheckpointRefused("; ".join(checks.problems))
        if head_seq == 0 or (checks.latest is not None and checks.latest.seq == head_seq):
            return None
        created_at = now or timezone.now()
        manifest = manifest_bytes(seq=head_seq, head_hash=head_hash, created_at=created_at)
        key = keys.signing_key()
        checkpoint = AuditCheckpoint.objects.create(
            seq=head_seq,
            head_hash=head_hash,
            created_at=created_at,
            manifest=manifest.decode("utf-8"),
            signature=base64.b64encode(key.sign(manifest)).decode("ascii"),
            key_id=key.key_id,
        )
    log.info("audit checkpoint %s written at seq %s", checkpoint.pk, head_seq)
    return checkpoint
