"""Redis stopped while results arrive: the API still answers 201 and stores them (the database
is the source of truth), and the levels converge once Redis is back and the sweep runs."""

import json
import logging

import pytest

from core.models import AuditEvent
from evaluations import recompute
from evaluations.models import Determination, EvaluationRun, ModelVersion
from tests.faults.conftest import run_body, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def test_results_posted_while_redis_is_down_are_kept_and_assessed_once_it_is_back(
    world, workers, private_redis, client, caplog
):
    versions = world["versions"]
    private_redis.stop()
    with caplog.at_level(logging.WARNING, logger="core.jobs"):
        for n, version in enumerate(versions):
            response = client.post(
                "/api/v1/evaluation-runs/",
                json.dumps(run_body(version.label, f"while-down-{n}")),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {world['token']}",
            )
            assert response.status_code == 201, response.content
    assert caplog.text.count("the sweep will retry it") == len(versions)
    assert EvaluationRun.objects.filter(run_id__startswith="while-down-").count() == 3
    ids = [v.pk for v in versions]
    assert ModelVersion.objects.filter(pk__in=ids, needs_recompute=True).count() == 3
    assert not Determination.objects.filter(model_version__in=ids).exists()

    private_redis.start()
    workers()
    assert recompute.sweep() == 3  # the beat's next tick

    assert wait_for(
        lambda: not ModelVersion.objects.filter(pk__in=ids, needs_recompute=True).exists()
    )
    for version in versions:
        assert Determination.objects.get(model_version=version, threshold="CBRN-3").outcome == (
            "crossed"
        )
    # One ingestion event per run, whatever the outage.
    assert AuditEvent.objects.filter(action="evaluations.run.received").count() == 3


def test_an_import_queued_while_redis_is_down_runs_once_it_is_back(
    world, workers, private_redis, client
):
    from datetime import timedelta
    from pathlib import Path

    from evaluations import imports
    from evaluations.models import ImportJob

    log = Path(__file__).parents[1] / "fixtures/evals/inspect/bio_uplift_probe-0.6.eval"
    private_redis.stop()
    with log.open("rb") as upload:
        response = client.post(
            "/api/v1/imports/",
            {"file": upload, "model_version": world["versions"][0].label},
            HTTP_AUTHORIZATION=f"Token {world['token']}",
        )
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.QUEUED

    private_redis.start()
    workers()
    assert imports.sweep_stuck(now=job.created_at + timedelta(minutes=2)) == 1  # the beat's tick

    def imported():
        job.refresh_from_db()
        return job.state == ImportJob.State.SUCCEEDED

    assert wait_for(imported), job.errors
    assert EvaluationRun.objects.filter(model_version=world["versions"][0]).count() == len(
        job.runs_created
    )
