"""A worker killed with SIGKILL in the middle of a recompute: its transaction dies with it, the
needs-recompute marks stay, and after a restart the sweep brings every level to where it
should be, with each change recorded once."""

import json

import pytest

from core import audit
from core.models import AuditEvent
from evaluations import recompute
from evaluations.models import Determination, ModelVersion
from tests.faults.conftest import run_body, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _waiting_on_the_chain(database) -> list[int]:
    """Backends (other than ours) blocked on the audit chain's advisory lock."""
    rows = database.execute(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND wait_event = 'advisory' AND pid <> pg_backend_pid()"
    ).fetchall()
    return [pid for (pid,) in rows]


def test_a_worker_killed_mid_recompute_loses_nothing_and_records_nothing_twice(
    world, workers, database, client
):
    versions = world["versions"]
    for n, version in enumerate(versions):  # one crossing run each; their recomputes queue up
        response = client.post(
            "/api/v1/evaluation-runs/",
            json.dumps(run_body(version.label, f"cross-{n}")),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {world['token']}",
        )
        assert response.status_code == 201
    events_before = AuditEvent.objects.count()

    # Hold the chain: the worker writes determinations and levels, then waits to append its
    # events, in the middle of its transaction.
    database.execute("SELECT pg_advisory_lock(%s)", [audit._ADVISORY_LOCK_KEY])
    doomed = workers()
    assert wait_for(lambda: _waiting_on_the_chain(database)), doomed.log.read_text()
    assert Determination.objects.filter(model_version__in=versions).exists() is False
    stuck = _waiting_on_the_chain(database)
    doomed.process.kill()  # SIGKILL, mid-transaction
    doomed.process.wait(timeout=30)
    database.execute("SELECT pg_advisory_unlock(%s)", [audit._ADVISORY_LOCK_KEY])
    # Its backend finds the client gone and rolls the transaction back.
    assert wait_for(
        lambda: (
            not database.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", [stuck]
            ).fetchall()
        )
    )

    # Nothing of the killed recompute is visible; the marks are still set.
    assert AuditEvent.objects.count() == events_before
    assert not Determination.objects.filter(model_version__in=versions).exists()
    assert (
        ModelVersion.objects.filter(pk__in=[v.pk for v in versions], needs_recompute=True).count()
        == 3
    )

    # The sweep's next tick finds all three still marked and enqueues them again; then a new
    # worker starts (the order is fixed so that the worker cannot clear a mark, from a message
    # the dead worker held, before the sweep counts them). Messages are delivered twice.
    assert recompute.sweep() == 3
    workers()

    def converged():
        return not ModelVersion.objects.filter(
            pk__in=[v.pk for v in versions], needs_recompute=True
        ).exists()

    assert wait_for(converged, timeout=60)
    thresholds = len(world["policy"].thresholds.all())
    for version in versions:
        version.refresh_from_db()
        assert version.required_level == "ASL-4"  # CBRN-3 crossed, nothing else ruled out
        assert Determination.objects.filter(model_version=version).count() == thresholds
        changed = AuditEvent.objects.filter(
            action="evaluations.determination.changed", object_id=str(version.pk)
        )
        assert changed.count() == thresholds  # each determination recorded once
        assert (
            AuditEvent.objects.filter(
                action="evaluations.required_level.changed", object_id=str(version.pk)
            ).count()
            == 1
        )
    assert audit.verify_chain().ok
