import threading

import pytest
from django.db import connection, transaction

from core import audit
from core.models import AuditEvent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WRITERS = 8
EVENTS_EACH = 25


def test_concurrent_writers_never_fork_the_chain():
    barrier = threading.Barrier(WRITERS)
    errors = []

    def write(writer):
        try:
            barrier.wait(timeout=30)
            for n in range(EVENTS_EACH):
                with transaction.atomic():
                    audit.record(
                        action="core.test.happened",
                        actor="system:tests",
                        object_id=str(writer),
                        after={"writer": writer, "n": n},
                    )
        except Exception as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    report = audit.verify_chain()
    assert report.ok, report.problem
    assert report.entries == WRITERS * EVENTS_EACH
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(
        range(1, WRITERS * EVENTS_EACH + 1)
    )
