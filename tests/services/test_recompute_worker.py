import json
import time

import pytest

from core import signing, tokens
from core.models import AuditEvent
from evaluations import services as evaluation_services
from evaluations.models import Determination, ModelVersion
from governance import publishing, services
from tests.governance.factories import designate

pytestmark = pytest.mark.services


def _wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_crossing_result_pushed_to_the_api_raises_the_level_through_a_real_worker(
    client, lead, owner, default_queue_worker
):
    policy = services.template_load(actor=lead, name="rsp")
    designate(policy, lead)
    publishing.version_sign(actor=lead, version=policy, reauth=signing.demo_reauthentication(lead))
    evaluation_services.evaluation_create(actor=lead, key="bio_uplift_probe", name="Bio uplift")
    model = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    version = evaluation_services.model_version_create(actor=owner, model=model, label="orion-2.1")
    key = tokens.token_create(actor=owner, user=owner, name="ci").key

    def assessed():
        return ModelVersion.objects.filter(pk=version.pk, needs_recompute=False).exists()

    assert _wait_for(assessed), default_queue_worker.log.read_text()
    assert not Determination.objects.filter(model_version=version, outcome="crossed").exists()

    body = {
        "model_version": "orion-2.1",
        "evaluation": "bio_uplift_probe",
        "run_id": "r-1",
        "status": "success",
        "results": [{"metric": "includes/accuracy", "value": 0.65}],
    }
    response = client.post(
        "/api/v1/evaluation-runs/",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 201

    def crossed():
        return (
            Determination.objects.filter(
                model_version=version,
                threshold="CBRN-3",
                outcome="crossed",
                deciding_run__run_id="r-1",
            ).exists()
            and assessed()
        )

    assert _wait_for(crossed), default_queue_worker.log.read_text()
    event = AuditEvent.objects.filter(action="evaluations.determination.changed").latest("seq")
    assert event.actor_label == "system:recompute"
    assert event.request_id.startswith("task:")  # written inside the worker's task
