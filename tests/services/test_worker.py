import pytest
from django.urls import reverse

from core import audit, tasks

pytestmark = pytest.mark.services


def test_a_task_round_trips_through_a_real_worker_and_the_database(celery_worker_process):
    for n in range(5):
        audit.record(action="core.test.happened", actor="system:tests", after={"n": n})
    result = tasks.verify_audit_chain.apply_async(queue=celery_worker_process.queue)
    outcome = result.get(timeout=60)
    assert outcome == {
        "ok": True,
        "entries": 5,
        "head_seq": 5,
        "first_bad_seq": None,
        "problem": "",
        "checkpoint_problems": [],
    }
    assert f"Task core.tasks.verify_audit_chain[{result.id}] received" in (
        celery_worker_process.log.read_text()
    )


def test_healthz_sees_the_broker_and_a_live_worker(client, celery_worker_process):
    body = client.get(reverse("healthz")).json()
    assert body["broker"] == {"ok": True, "mode": "redis"}
    assert body["worker"]["ok"] is True
    assert body["worker"]["count"] >= 1
    assert body["database"] == {"ok": True, "vendor": "postgresql"}


def test_healthz_reports_no_worker_as_503(client, transactional_db):
    from config.celery import app

    if app.control.ping(timeout=1.0):  # another worker shares this Redis: nothing to prove
        pytest.fail("a Celery worker outside the test suite is consuming from REDIS_URL")
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["worker"] == {"ok": False, "mode": "redis", "count": 0}
