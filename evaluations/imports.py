"""File imports: the upload is kept aside until parsed, then stored with its runs in one
transaction through the ingestion service. A file that cannot be imported stores nothing."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import jobs
from evaluations import importers, ingestion
from evaluations.models import ImportJob, RawFile

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class ImportResult:
    format: str
    raw_file: RawFile
    outcome: ingestion.IngestOutcome


def import_bytes(
    *, actor: User, data: bytes, filename: str, model_version: str | None
) -> ImportResult:
    """Parse, then store the raw file and its runs together; raise with a clear message if not.

    Raises ``importers.ImportFailed``, ``ingestion.IngestionError`` or ``ingestion.RunConflict``.
    """
    parsed = importers.parse(data, model_version=model_version)
    digest = hashlib.sha256(data).hexdigest()
    written = None  # the storage name this call wrote, and only that one is ever deleted
    try:
        with transaction.atomic():
            raw = RawFile.objects.filter(sha256=digest).first()
            if raw is None:
                # Storage picks a fresh name if another import is writing the same bytes.
                written = default_storage.save(f"raw/{digest}", ContentFile(data))
                raw = RawFile.objects.create(
                    sha256=digest,
                    size=len(data),
                    name=filename[:255],
                    file=written,
                    uploaded_by=actor,
                )
            outcome = ingestion.ingest_runs(
                actor=actor, runs=parsed.runs, source=parsed.source, raw_file=raw
            )
    except Exception:
        if written:
            default_storage.delete(written)
        raise
    return ImportResult(parsed.format, raw, outcome)


@transaction.atomic
def import_job_create(
    *,
    actor: User,
    upload: UploadedFile,  # type: ignore[type-arg]
    model_version: str,
) -> ImportJob:
    """Keep the upload aside and queue its import; the caller has checked its size."""
    job_id = uuid.uuid4()
    pending = default_storage.save(f"imports/pending/{job_id}", upload)
    job = ImportJob.objects.create(
        id=job_id,
        filename=(upload.name or "upload")[:255],
        size=upload.size or 0,
        pending_name=pending,
        model_version_label=model_version,
        requested_by=actor,
    )
    from evaluations import tasks

    jobs.enqueue_on_commit(tasks.run_import, str(job.id))
    return job


def _progress(job: ImportJob, **fields: object) -> None:
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def import_job_run(job_id: str) -> ImportJob:
    """Idempotent: a finished job is left alone; a crashed one runs again from the upload; a
    second delivery while it runs elsewhere leaves it to that run."""
    with jobs.exclusive(f"evaluations.import:{job_id}") as ours:
        if not ours:
            return ImportJob.objects.get(pk=job_id)
        return _run(job_id)


def _run(job_id: str) -> ImportJob:
    job = ImportJob.objects.select_related("requested_by").get(pk=job_id)
    if job.finished:
        return job
    if job.attempts >= MAX_ATTEMPTS:  # it keeps killing its worker (memory, time): stop trying
        _progress(
            job,
            state=ImportJob.State.FAILED,
            progress=100,
            finished_at=timezone.now(),
            errors=[f"the import did not finish in {MAX_ATTEMPTS} attempts"],
        )
        if job.pending_name:
            default_storage.delete(job.pending_name)
        job.refresh_from_db()
        return job
    _progress(job, state=ImportJob.State.RUNNING, progress=10, attempts=F("attempts") + 1)
    errors: list[str] = []
    result = None
    try:
        with default_storage.open(job.pending_name, "rb") as handle:
            data = handle.read()
        _progress(job, progress=40)
        result = import_bytes(
            actor=job.requested_by,
            data=data,
            filename=job.filename,
            model_version=job.model_version_label or None,
        )
    except importers.ImportFailed as error:
        errors = [str(error)]
    except ingestion.IngestionError as error:
        errors = [f"{field}: {' '.join(messages)}" for field, messages in error.errors.items()]
    except ingestion.RunConflict as error:
        errors = [str(error)]
    except FileNotFoundError:
        errors = ["the uploaded file is gone; upload it again"]
    except Exception:  # the job must end, and the worker stay healthy, whatever the file did
        log.exception("import %s failed", job.pk)
        errors = ["the import failed unexpectedly; the error has been logged"]
    finished = {"progress": 100, "finished_at": timezone.now(), "pending_name": ""}
    if result is None:
        _progress(job, state=ImportJob.State.FAILED, errors=errors, **finished)
    else:
        _progress(
            job,
            state=ImportJob.State.SUCCEEDED,
            detected_format=result.format,
            raw_file=result.raw_file,
            runs_created=[run.run_id for run in result.outcome.created],
            runs_replayed=[run.run_id for run in result.outcome.replayed],
            **finished,
        )
    if job.pending_name:
        default_storage.delete(job.pending_name)
    job.refresh_from_db()
    return job


def sweep_stuck(*, now: datetime | None = None) -> int:
    """Re-enqueue imports that never started (a lost enqueue) or whose worker died; each run
    counts an attempt, so a file that kills its worker ends as failed."""
    from django.conf import settings

    from evaluations import tasks

    now = now or timezone.now()
    queued = ImportJob.objects.filter(
        state=ImportJob.State.QUEUED, created_at__lt=now - timedelta(minutes=1)
    )
    running = ImportJob.objects.filter(
        state=ImportJob.State.RUNNING,
        created_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    )
    stuck = ImportJob.objects.filter(pk__in=queued.values("pk")) | ImportJob.objects.filter(
        pk__in=running.values("pk")
    )
    ids = [str(pk) for pk in stuck.order_by("created_at").values_list("pk", flat=True)[:100]]
    for job_id in ids:
        jobs.enqueue(tasks.run_import, job_id)
    return len(ids)
