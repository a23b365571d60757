"""Export bundles: a zip an auditor verifies offline, with nothing from the application.

Contents (one folder, ``audit-bundle-<UTC time>/``):

* ``events.jsonl``: the chosen events in seq order, each the canonical JSON of exactly what its
  hash covers (``core.audit.hash_payload``) plus ``hash``;
* ``chain.csv``: ``seq,prev_hash,hash`` of every event from the first exported one to an anchor
  (the first checkpoint at or after the last exported event, else the chain's head), so the
  links between exported events are checked even where events in between are not exported;
* ``checkpoints.jsonl``: every checkpoint, with its signed manifest and signature;
* ``signatures.jsonl``: every signature recorded by an exported event, with its manifest;
* ``public_key.pem``: the deployment's Ed25519 public key;
* ``bundle.json`` (what was exported, when, by whom, and the SHA-256 of every file above) and
  ``bundle.sig`` (its signature, base64);
* ``verify_bundle.py`` and ``README.md``: the standalone verifier and how to run it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

from core import chainhash, keys
from core.audit import hash_payload
from core.canonical import canonical_json, format_timestamp
from core.models import AuditCheckpoint, AuditEvent, Signature

FORMAT = "audit-bundle/1"
FILES = Path(__file__).resolve().parent / "bundle_files"
_EVENT_FIELDS = chainhash.FIELDS  # what an event's hash covers, and its hash


@dataclass(frozen=True)
class BundleSummary:
    name: str
    events: int
    chain_from: int | None
    chain_to: int | None
    checkpoints: int
    signatures: int
    seconds: float


class _Hashed:
    """A member being written to the zip, hashed as it goes."""

    def __init__(self, archive: zipfile.ZipFile, name: str) -> None:
        self.digest = hashlib.sha256()
        self.handle = archive.open(name, "w", force_zip64=True)

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.handle.write(data)

    def close(self) -> str:
        self.handle.close()
        return self.digest.hexdigest()


def write_bundle(
    out: IO[bytes],
    *,
    events: QuerySet[AuditEvent],
    filters: dict[str, Any],
    generated_by: str,
    now: datetime | None = None,
) -> BundleSummary:
    """Write the bundle of ``events`` (any order; exported in seq order) to ``out``."""
    started = timezone.now()
    now = now or started
    folder = f"audit-bundle-{now.strftime('%Y%m%dT%H%M%SZ')}"
    key = keys.signing_key()
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    digests: dict[str, str] = {}
    exported, first, last = 0, None, None
    signature_ids: list[int] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:

        def member(name: str) -> _Hashed:
            return _Hashed(archive, f"{folder}/{name}")

        target = member("events.jsonl")
        rows = events.order_by("seq").values_list(*_EVENT_FIELDS)
        batch: list[bytes] = []
        for row in rows.iterator(chunk_size=5000):
            fields = dict(zip(_EVENT_FIELDS, row, strict=True))
            payload = hash_payload(fields)
            payload["hash"] = fields["hash"]
            batch.append(canonical_json(payload) + b"\n")
            if len(batch) >= 1000:
                target.write(b"".join(batch))
                batch.clear()
            exported += 1
            first = first or fields["seq"]
            last = fields["seq"]
            if fields["action"] == "core.signature.created" and fields["object_id"].isdigit():
                signature_ids.append(int(fields["object_id"]))
        target.write(b"".join(batch))
        digests["events.jsonl"] = target.close()

        checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
        chain_from = first
        chain_to = None
        if last is not None:
            anchor = next((c.seq for c in checkpoints if c.seq >= last), None)
            chain_to = anchor or (head[0] if head else last)
        target = member("chain.csv")
        target.write(b"seq,prev_hash,hash\n")
        if chain_from is not None and chain_to is not None:
            skeleton = (
                AuditEvent.objects.filter(seq__gte=chain_from, seq__lte=chain_to)
                .order_by("seq")
                .values_list("seq", "prev_hash", "hash")
            )
            batch = []
            for seq, prev_hash, digest in skeleton.iterator(chunk_size=20000):
                batch.append(f"{seq},{prev_hash},{digest}\n".encode())
                if len(batch) >= 5000:
                    target.write(b"".join(batch))
                    batch.clear()
            target.write(b"".join(batch))
        digests["chain.csv"] = target.close()

        target = member("checkpoints.jsonl")
        for checkpoint in checkpoints:
            target.write(
                canonical_json(
                    {
                        "seq": checkpoint.seq,
                        "head_hash": checkpoint.head_hash,
                        "created_at": format_timestamp(checkpoint.created_at),
                        "manifest": checkpoint.manifest,
                        "signature": checkpoint.signature,
                        "key_id": checkpoint.key_id,
                    }
                )
                + b"\n"
            )
        digests["checkpoints.jsonl"] = target.close()

        target = member("signatures.jsonl")
        signatures = Signature.objects.filter(pk__in=signature_ids).order_by("pk")
        signature_count = 0
        for signature in signatures.iterator(chunk_size=1000):
            signature_count += 1
            target.write(canonical_json(_signature_json(signature)) + b"\n")
        digests["signatures.jsonl"] = target.close()

        for name in ("verify_bundle.py", "README.md"):
            target = member(name)
            target.write((FILES / name).read_bytes())
            digests[name] = target.close()
        public_pem = key.public_pem().encode()
        archive.writestr(f"{folder}/public_key.pem", public_pem)
        digests["public_key.pem"] = hashlib.sha256(public_pem).hexdigest()

        manifest = canonical_json(
            {
                "format": FORMAT,
                "generated_at": format_timestamp(now),
                "generated_by": generated_by,
                "filters": filters,
                "events": exported,
                "chain": {"from": chain_from, "to": chain_to},
                "head": {"seq": head[0], "hash": head[1]} if head else None,
                "checkpoints": len(checkpoints),
                "signatures": signature_count,
                "key_id": key.key_id,
                "files": digests,
            }
        )
        archive.writestr(f"{folder}/bundle.json", manifest)
        archive.writestr(f"{folder}/bundle.sig", base64.b64encode(key.sign(manifest)) + b"\n")
    return BundleSummary(
        name=f"{folder}.zip",
        events=exported,
        chain_from=chain_from,
        chain_to=chain_to,
        checkpoints=len(checkpoints),
        signatures=signature_count,
        seconds=(timezone.now() - started).total_seconds(),
    )


def _signature_json(signature: Signature) -> dict[str, Any]:
    return {
        "id": signature.pk,
        "printed_name": signature.printed_name,
        "meaning": signature.meaning,
        "meaning_text": signature.meaning_text,
        "signed_at": format_timestamp(signature.signed_at),
        "object_type": signature.object_type,
        "object_id": signature.object_id,
        "manifest": signature.manifest,
        "manifest_sha256": signature.manifest_sha256,
        "signature": signature.signature,
        "key_id": signature.key_id,
    }


CSV_COLUMNS = ("seq", "occurred_at", "actor", "action", "object_type", "object_id",
               "object_repr", "subject", "reason", "request_id", "hash")  # fmt: skip


def csv_rows(events: QuerySet[AuditEvent]) -> Any:
    """The event list as CSV lines, header first, for a streaming response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Any) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CSV_COLUMNS)
    fields = [c if c != "actor" else "actor_label" for c in CSV_COLUMNS]
    for row in events.values_list(*fields).iterator(chunk_size=5000):
        values = list(row)
        values[1] = format_timestamp(values[1])
        # A cell starting with = + - @ is a formula to a spreadsheet: make it text.
        yield line(["'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v for v in values])
