import threading

import pytest
from django.db import connection, transaction

from core import audit, checkpoints
from core.models import AuditCheckpoint, AuditEvent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WRITERS = 4
EVENTS_EACH = 25


def test_checkpoints_taken_while_writers_append_each_sign_a_real_head():
    """The head is read under the writers' lock: no checkpoint names a seq whose event
    committed with another hash, or that never committed."""
    barrier = threading.Barrier(WRITERS + 1)
    writing = threading.Event()
    errors = []

    def write(writer):
        try:
            barrier.wait(timeout=30)
            for n in range(EVENTS_EACH):
                with transaction.atomic():
                    audit.record(
                        action="core.test.happened",
                        actor="system:tests",
                        after={"writer": writer, "n": n},
                    )
        except Exception as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    def checkpoint():
        try:
            barrier.wait(timeout=30)
            while writing.is_set():
                checkpoints.checkpoint_create(verified=audit.verify_chain())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    writing.set()
    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    checkpointer = threading.Thread(target=checkpoint)
    for thread in [*threads, checkpointer]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    writing.clear()
    checkpointer.join(timeout=120)
    assert errors == []
    checkpoints.checkpoint_create(verified=audit.verify_chain())
    report = audit.verify_chain()
    assert report.ok and report.entries == WRITERS * EVENTS_EACH
    result = checkpoints.verify_checkpoints(report)
    assert result.ok, result.problems
    assert result.latest.seq == report.head_seq
    assert AuditCheckpoint.objects.count() > 1  # some were taken while the writers wrote
    hashes = dict(AuditEvent.objects.values_list("seq", "hash"))
    assert all(
        hashes[seq] == head for seq, head in AuditCheckpoint.objects.values_list("seq", "head_hash")
    )
