import pytest
from django.conf import settings
from django.db import transaction

from core import audit, tasks
from core.models import AuditEvent
from tests.conftest import services_enabled

pytestmark = pytest.mark.django_db


def test_celery_runs_eagerly_on_the_embedded_default_and_reliably_on_redis():
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit
    assert app.conf.task_always_eager is (not services_enabled())
    assert settings.CELERY_TASK_ALWAYS_EAGER is (settings.REDIS_URL is None)


def test_a_task_is_enqueued_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            tasks.verify_audit_chain.delay_on_commit()
            raise RuntimeError("rolled back")
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        tasks.verify_audit_chain.delay_on_commit()
    assert len(callbacks) == 1


def test_the_chain_check_task_reports_a_broken_chain(audit_tamper):
    for n in range(3):
        audit.record(action="core.test.happened", actor="system:tests", after={"n": n})
    assert tasks.verify_audit_chain.apply().get()["ok"] is True
    with audit_tamper():
        AuditEvent.objects.filter(seq=2).update(after={"n": 99})
    result = tasks.verify_audit_chain.apply().get()
    assert (result["ok"], result["first_bad_seq"]) == (False, 2)


def test_events_written_by_a_task_carry_its_id():
    from celery import shared_task

    @shared_task(name="tests.record_one")
    def record_one():
        return audit.record(action="core.test.happened", actor="system:tests").seq

    seq = record_one.apply(task_id="t-123").get()
    assert AuditEvent.objects.get(seq=seq).request_id == "task:t-123"
