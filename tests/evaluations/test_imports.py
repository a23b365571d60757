from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from core import tokens
from core.models import AuditEvent
from evaluations import imports
from evaluations import services as evaluation_services
from evaluations.models import EvaluationRun, ImportJob, RawFile

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evals"


@pytest.fixture
def tasks_registered(lead, evaluations):
    from evaluations.models import Evaluation

    for key in ("cyber_ctf_suite", "broken_task", "slow_task", "local_bio_mc", "local_gsm_like"):
        if not Evaluation.objects.filter(key=key).exists():
            evaluation_services.evaluation_create(actor=lead, key=key, name=key)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _bytes(name):
    return (FIXTURES / name).read_bytes()


def test_an_inspect_log_is_stored_with_its_raw_file_and_importing_it_again_changes_nothing(
    owner, orion_21, tasks_registered
):
    data = _bytes("inspect/bio_uplift_probe-0.6.eval")
    first = imports.import_bytes(
        actor=owner, data=data, filename="a.eval", model_version="orion-2.1"
    )
    assert first.format == "inspect-eval" and len(first.outcome.created) == 1
    run = EvaluationRun.objects.get()
    assert (run.source, run.raw_file.size, run.raw_file.file.read()) == ("inspect", len(data), data)
    events = AuditEvent.objects.count()
    again = imports.import_bytes(
        actor=owner, data=data, filename="b.eval", model_version="orion-2.1"
    )
    assert (len(again.outcome.created), len(again.outcome.replayed)) == (0, 1)
    assert (RawFile.objects.count(), EvaluationRun.objects.count()) == (1, 1)
    assert AuditEvent.objects.count() == events


def test_an_errored_log_is_stored_as_a_failed_run_without_results(
    owner, orion_21, tasks_registered
):
    imports.import_bytes(
        actor=owner,
        data=_bytes("inspect/broken_task-error.eval"),
        filename="e.eval",
        model_version="orion-2.1",
    )
    run = EvaluationRun.objects.get()
    assert (run.status, run.results.count(), run.evaluation.key) == ("error", 0, "broken_task")


def test_an_unknown_evaluation_stores_nothing_not_even_the_file(owner, orion_21, evaluations):
    from evaluations.ingestion import IngestionError

    with pytest.raises(IngestionError, match="unknown evaluation 'local_bio_mc'"):
        imports.import_bytes(
            actor=owner,
            data=_bytes("lm_eval/local_bio_mc-results.json"),
            filename="c.eval",
            model_version="orion-2.1",
        )
    assert not RawFile.objects.exists() and not EvaluationRun.objects.exists()


def test_an_upload_runs_as_a_job_and_reports_its_runs(
    eager_tasks, owner, orion_21, tasks_registered, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("results.json", _bytes("lm_eval/combined-results.json"))
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(actor=owner, upload=upload, model_version="orion-2.1")
    job.refresh_from_db()
    assert (job.state, job.progress, job.detected_format) == ("succeeded", 100, "lm-eval")
    assert len(job.runs_created) == 2 and job.pending_name == ""


def test_a_corrupt_upload_fails_its_job_and_stores_nothing(
    eager_tasks, owner, orion_21, tasks_registered, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("x.eval", _bytes("inspect/bio_uplift_probe-0.6.eval")[:3000])
    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(actor=owner, upload=upload, model_version="orion-2.1")
    job.refresh_from_db()
    assert job.state == "failed"
    assert "not a readable .eval archive" in job.errors[0]
    assert not RawFile.objects.exists() and not EvaluationRun.objects.exists()
    assert imports.import_job_run(str(job.pk)).state == "failed"  # finished jobs stay finished


def test_the_import_api_answers_202_with_a_status_url(
    eager_tasks, client, owner, orion_21, tasks_registered, django_capture_on_commit_callbacks
):
    key = tokens.token_create(actor=owner, user=owner, name="ci").key
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    upload = SimpleUploadedFile("log.eval", _bytes("inspect/bio_uplift_probe-0.4.eval"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/", {"file": upload, "model_version": "orion-2.1"}, **auth
        )
    assert response.status_code == 202
    status = client.get(response.json()["status_url"], **auth).json()
    assert (status["state"], len(status["runs_created"])) == ("succeeded", 1)


def test_a_huge_upload_is_refused_before_it_is_read(client, owner, orion_21):
    key = tokens.token_create(actor=owner, user=owner, name="ci").key
    response = client.post(
        "/api/v1/imports/",
        {"model_version": "orion-2.1"},
        HTTP_AUTHORIZATION=f"Token {key}",
        CONTENT_LENGTH=str(2 * 1024**3),
    )
    assert response.status_code == 413
    assert not ImportJob.objects.exists()


def test_another_owner_cannot_import_into_or_see_an_import(
    eager_tasks, client, owner, orion_21, tasks_registered, django_capture_on_commit_callbacks
):
    from core import roles
    from tests.conftest import make_person

    with django_capture_on_commit_callbacks(execute=True):
        job = imports.import_job_create(
            actor=owner,
            upload=SimpleUploadedFile("a.eval", _bytes("inspect/bio_uplift_probe-0.4.eval")),
            model_version="orion-2.1",
        )
    rival = make_person("rita", roles.PRODUCT_OWNER)
    key = tokens.token_create(actor=rival, user=rival, name="x").key
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get(f"/api/v1/imports/{job.pk}/", **auth).status_code == 404
    upload = SimpleUploadedFile("b.eval", _bytes("inspect/bio_uplift_probe-0.6.eval"))
    response = client.post(
        "/api/v1/imports/", {"file": upload, "model_version": "orion-2.1"}, **auth
    )
    assert response.status_code == 400


def test_the_upload_page_shows_progress_until_done(
    eager_tasks, client, owner, orion_21, tasks_registered, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    upload = SimpleUploadedFile("a.json", _bytes("inspect/bio_uplift_probe-0.6.json"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/models/import/", {"file": upload, "model_version": "orion-2.1"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert b'data-testid="import-state">Succeeded' in page.content
    assert b"hx-trigger" not in page.content  # finished: the panel stops polling


def test_the_command_imports_a_log_for_a_model_version(owner, orion_21, tasks_registered, capsys):
    call_command(
        "import_eval_log",
        str(FIXTURES / "inspect/cyber_ctf_suite-multiscorer.json"),
        model_version="orion-2.1",
    )
    assert "inspect-json: 1 run(s) stored" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Nothing was imported: the file is empty"):
        empty = FIXTURES.parent / "empty.tmp"
        try:
            empty.write_bytes(b"")
            call_command("import_eval_log", str(empty), model_version="orion-2.1")
        finally:
            empty.unlink()
    with pytest.raises(CommandError, match="No model version"):
        call_command(
            "import_eval_log", str(FIXTURES / "inspect/broken_task-error.eval"), model_version="x"
        )


def test_stuck_imports_are_retried_by_the_sweep_and_give_up_after_three_attempts(
    owner, orion_21, tasks_registered, eager_tasks
):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone

    def stuck(name, **fields):
        pending = default_storage.save(
            f"imports/pending/{name}", ContentFile(_bytes("inspect/bio_uplift_probe-0.4.eval"))
        )
        job = ImportJob.objects.create(
            filename=name,
            size=1,
            pending_name=pending,
            model_version_label="orion-2.1",
            requested_by=owner,
            **fields,
        )
        ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
        return job

    lost = stuck("lost.eval")
    doomed = stuck("doomed.eval", state="running", attempts=3)
    assert imports.sweep_stuck() == 2
    lost.refresh_from_db()
    doomed.refresh_from_db()
    assert lost.state == "succeeded" and lost.attempts == 1
    assert doomed.state == "failed" and "did not finish in 3 attempts" in doomed.errors[0]
