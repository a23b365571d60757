"""The same task delivered twice, to two workers at once (a broker redelivery, a sweep racing
the original enqueue): one set of changes, and one audit event per real change."""

from pathlib import Path

import pytest

from core import audit
from core.models import AuditEvent
from evaluations import imports, ingestion, tasks
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import Determination, EvaluationRun, ImportJob, ModelVersion
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]
LOG = Path(__file__).parents[1] / "fixtures/evals/inspect/bio_uplift_probe-0.6.eval"


def test_a_recompute_delivered_twice_changes_things_once(world, workers, owner):
    workers(), workers()  # two processes on the same queue
    versions = world["versions"]
    ids = [v.pk for v in versions]
    runs = [
        RunInput(model_version=v.label, evaluation="bio_uplift_probe", run_id=f"twice-{v.pk}",
                 status="success", results=(ResultInput("includes/accuracy", 0.7),))
        for v in versions
    ]  # fmt: skip
    ingestion.ingest_runs(actor=owner, runs=runs, source="api")  # enqueues one batch on commit
    first = tasks.recompute_model_versions.apply_async(args=[ids])
    second = tasks.recompute_model_versions.apply_async(args=[ids])
    results = [first.get(timeout=60), second.get(timeout=60)]

    assert not ModelVersion.objects.filter(pk__in=ids, needs_recompute=True).exists()
    # Whichever ran first changed the versions; the others found nothing left to do.
    assert sum(len(r["changed"]) for r in results) <= len(ids)
    thresholds = world["policy"].thresholds.count()
    for version in versions:
        assert Determination.objects.filter(model_version=version).count() == thresholds
        events = AuditEvent.objects.filter(
            object_id=str(version.pk), object_type="evaluations.modelversion"
        )
        changed = events.filter(action="evaluations.determination.changed")
        # Each determination recorded once, as new (the version was never assessed before).
        assert changed.count() == changed.filter(before__isnull=True).count() == thresholds
        assert events.filter(action="evaluations.required_level.changed").count() == 1
    assert audit.verify_chain().ok


def test_an_import_delivered_twice_stores_its_runs_once(world, workers, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    workers(), workers()
    upload = SimpleUploadedFile(LOG.name, LOG.read_bytes())
    job = imports.import_job_create(
        actor=owner, upload=upload, model_version=world["versions"][0].label
    )  # enqueues its run on commit
    duplicates = [tasks.run_import.apply_async(args=[str(job.pk)]) for _ in range(2)]
    for result in duplicates:  # a delivery that finds the import running elsewhere returns
        result.get(timeout=60)

    def finished():
        job.refresh_from_db()
        return job.finished

    assert wait_for(finished)
    assert job.state == ImportJob.State.SUCCEEDED, job.errors
    assert EvaluationRun.objects.filter(raw_file=job.raw_file).count() == len(job.runs_created)
    assert audit.verify_chain().ok
