"""Audit chain throughput: appending through ``core.audit.record`` and verifying the chain.

    make bench                      # embedded default (a SQLite file, never the app's own)
    DATABASE_URL=postgres://… REDIS_URL=redis://… make bench   # a throw-away test_… database
    .venv/bin/python benchmarks/audit_chain.py --events 200000 --reference

``--reference`` also times a walk by the hash's definition (ORM rows and ``event_hash``),
which is how ``verify_chain`` worked before its fast path.

It builds its own scratch database with Django's test-database machinery and drops it after,
so it never touches real data. Figures are printed; the README quotes them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-" + "b" * 50)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")


def _setup(scratch: Path) -> None:
    import django
    from django.conf import settings

    if not os.environ.get("SIGNING_KEY_FILE"):  # checkpoints are signed: a throw-away key
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key_file = scratch / "signing-key.pem"
        key_file.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        os.environ["SIGNING_KEY_FILE"] = str(key_file)
    django.setup()
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(scratch / "bench.sqlite3")


def _thing(n: int) -> dict[str, Any]:
    """The content of the n-th benchmark event: nested data, a float, a non-ASCII string."""
    return {
        "actor_id": None, "actor_label": "system:benchmark", "action": "bench.thing.changed",
        "object_type": "bench.thing", "object_id": str(n % 1000),
        "object_repr": f"thing {n % 1000}", "subject": "",
        "before": {"value": n - 1, "note": "é"},
        "after": {"value": n, "score": n / 7, "tags": ["a", "b"]}, "reason": "",
        "request_id": f"req:{n}",
    }  # fmt: skip


def _bulk_chain(count: int, content: Callable[[int], dict[str, Any]] = _thing) -> None:
    """Append ``count`` well-formed events after the chain's head, quickly, hashed as ``record``
    hashes them; ``content(n)`` gives each one's fields (and its ``scope_id`` if any)."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from core import audit
    from core.models import AuditEvent

    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    last_seq, last_hash = head or (0, audit.GENESIS_HASH)
    start = timezone.now() - timedelta(seconds=count)
    batch: list[AuditEvent] = []
    with transaction.atomic():
        for n in range(1, count + 1):
            fields = content(n)
            scope_id = fields.pop("scope_id", None)
            fields.update(
                seq=last_seq + 1, occurred_at=start + timedelta(seconds=n), prev_hash=last_hash
            )
            fields["hash"] = audit.event_hash(fields)
            batch.append(AuditEvent(**fields, scope_id=scope_id))
            last_seq, last_hash = fields["seq"], fields["hash"]
            if len(batch) == 5000:
                AuditEvent.objects.bulk_create(batch)
                batch = []
        AuditEvent.objects.bulk_create(batch)


def _reference_rate() -> float:
    """Events/s of a walk by the definition: ORM rows, a dict each, ``event_hash``. What
    ``verify_chain`` did before its fast path; kept here to compare against."""
    from core import audit
    from core.models import AuditEvent

    started = time.perf_counter()
    rows = AuditEvent.objects.order_by("seq").values_list(*audit._VERIFY_FIELDS)
    count = 0
    for row in rows.iterator(chunk_size=5000):
        fields = dict(zip(audit._VERIFY_FIELDS, row, strict=True))
        assert audit.event_hash(fields) == fields["hash"]  # nosec B101  # self-check
        count += 1
    return count / (time.perf_counter() - started)


def _record_rate(samples: int) -> tuple[float, float]:
    """Events/s and p95 latency (ms) of ``record`` in its own transaction each time."""
    from core import audit

    latencies = []
    for n in range(samples):
        started = time.perf_counter()
        audit.record(action="bench.thing.recorded", actor="system:benchmark", after={"n": n})
        latencies.append(time.perf_counter() - started)
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
    return samples / sum(latencies), p95


def _checkpoint_timings(report: Any) -> None:
    from core import checkpoints

    started = time.perf_counter()
    checkpoint = checkpoints.checkpoint_create(verified=report)
    created = time.perf_counter() - started
    assert checkpoint is not None  # nosec B101  # self-check
    started = time.perf_counter()
    checked = checkpoints.verify_checkpoints(report)
    assert checked.ok, checked.problems  # nosec B101  # self-check
    print(f"checkpoint_create: {created * 1000:.1f} ms; verify_checkpoints: "
          f"{(time.perf_counter() - started) * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--record-samples", type=int, default=2_000)
    parser.add_argument(
        "--reference", action="store_true", help="also time a walk by the hash's definition"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        _setup(Path(scratch))
        from django.db import connection

        from core import audit

        name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            started = time.perf_counter()
            _bulk_chain(args.events)
            print(f"database: {connection.vendor} ({name})")
            print(
                f"built a chain of {args.events:,} events in {time.perf_counter() - started:.1f} s"
            )
            report = audit.verify_chain()
            # A self-check, like every assert of the benchmarks (never run with python -O).
            assert report.ok and report.entries == args.events, report.problem  # nosec B101
            print(f"verify_chain: {report.entries:,} events in {report.seconds:.2f} s "
                  f"= {report.rate:,.0f} events/s ({report.rechecked:,} rows rechecked "
                  "by the definition)")  # fmt: skip
            if args.reference:
                print(f"reference walk (ORM rows + event_hash): {_reference_rate():,.0f} events/s")
            _checkpoint_timings(report)
            rate, p95 = _record_rate(args.record_samples)
            print(f"record(): {rate:,.0f} events/s, p95 {p95:.2f} ms "
                  f"({args.record_samples:,} events, one transaction each)")  # fmt: skip
        finally:
            connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
