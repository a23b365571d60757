import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from core import signing
from core.models import AuditEvent
from evaluations import ingestion, recompute
from evaluations import services as evaluation_services
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import ModelVersion
from governance import publishing, services
from tests.governance.factories import designate

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_recomputes_of_one_version_at_the_same_moment_do_the_work_once(lead, owner, eager_tasks):
    policy = services.template_load(actor=lead, name="rsp")
    designate(policy, lead)
    publishing.version_sign(actor=lead, version=policy, reauth=signing.demo_reauthentication(lead))
    evaluation_services.evaluation_create(actor=lead, key="bio_uplift_probe", name="Bio")
    model = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    version = evaluation_services.model_version_create(actor=owner, model=model, label="orion-2.1")
    run = RunInput(
        model_version="orion-2.1",
        evaluation="bio_uplift_probe",
        run_id="r",
        status="success",
        completed_at=datetime.now(UTC),
        results=(ResultInput("includes/accuracy", 0.9),),
    )
    ingestion.ingest_runs(actor=owner, runs=[run], source="api")  # eager: assessed on commit
    ModelVersion.objects.filter(pk=version.pk).update(assessed_watermark=0, needs_recompute=True)
    before = AuditEvent.objects.filter(action__startswith="evaluations.determination").count()
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def work():
        try:
            barrier.wait(timeout=30)
            outcomes.append(recompute.recompute(version.pk))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcome.skipped for outcome in outcomes) == [False, True, True, True]
    # The one that worked found the determinations already right: nothing changed, no events.
    after = AuditEvent.objects.filter(action__startswith="evaluations.determination").count()
    assert after == before
    version.refresh_from_db()
    assert (version.needs_recompute, version.required_level) == (False, "ASL-4")
