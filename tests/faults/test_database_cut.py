"""The database connection cut in the middle of a request (by the server terminating its
backend, as a failover or a restart would): a clean 503 saying nothing was stored, no partial
write, and the next request served on a fresh connection."""

import json

import pytest
from django.test import Client

from core.models import AuditEvent
from evaluations import ingestion
from evaluations.models import EvaluationRun, Result
from releases.models import Release
from tests.faults.conftest import backend_pid, run_body

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cut_after(monkeypatch, database):
    """Terminate this thread's database backend just before ``module.name`` runs, after the
    request has written part of its work inside its transaction."""

    def install(module, name):
        real = getattr(module, name)

        def cut_then_continue(*args, **kwargs):
            database.execute("SELECT pg_terminate_backend(%s)", [backend_pid()])
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, cut_then_continue)
        return monkeypatch

    return install


def test_an_api_write_cut_mid_request_is_a_503_and_stores_nothing(world, cut_after):
    client = Client(raise_request_exception=False)
    events = AuditEvent.objects.count()
    body = run_body(world["versions"][0].label, "cut-1")
    patch = cut_after(ingestion, "mark_for_recompute")  # the run and its results are written

    response = client.post(
        "/api/v1/evaluation-runs/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {world['token']}",
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["detail"].startswith("The database is unavailable; nothing was stored")

    patch.undo()
    assert not EvaluationRun.objects.filter(run_id="cut-1").exists()
    assert not Result.objects.filter(run__run_id="cut-1").exists()
    assert AuditEvent.objects.count() == events
    retried = client.post(  # the same request again, on a fresh connection
        "/api/v1/evaluation-runs/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {world['token']}",
    )
    assert retried.status_code == 201


def test_a_form_cut_mid_request_is_a_503_page_and_stores_nothing(world, owner, cut_after):
    from core import audit

    client = Client(raise_request_exception=False)
    client.force_login(owner)
    events = AuditEvent.objects.count()
    patch = cut_after(audit, "record_many")  # the release row is written, its event is next

    response = client.post(
        "/releases/new/",
        {"model_version": world["versions"][0].label, "context": "api", "title": "Cut"},
    )
    assert response.status_code == 503
    assert b"nothing of what you sent was stored" in response.content

    patch.undo()
    assert not Release.objects.exists()
    assert AuditEvent.objects.count() == events
