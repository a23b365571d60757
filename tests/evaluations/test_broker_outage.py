"""A result that arrives while the broker is down is stored; the sweep enqueues its recompute
once the broker is back. (The broker is outside the project, so its failure is simulated.)"""

import json

import pytest
from kombu.exceptions import OperationalError

from core import tokens
from evaluations import recompute, tasks
from evaluations.models import EvaluationRun, ModelVersion

pytestmark = pytest.mark.django_db


def test_a_result_is_kept_when_the_broker_is_down_and_the_sweep_catches_up(
    client, owner, orion_21, monkeypatch, eager_tasks, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    key = tokens.token_create(actor=owner, user=owner, name="ci").key
    body = {
        "model_version": "orion-2.1",
        "evaluation": "bio_uplift_probe",
        "run_id": "r-1",
        "results": [{"metric": "includes/accuracy", "value": 0.7}],
    }
    with monkeypatch.context() as patch:
        patch.setattr(tasks.recompute_model_versions, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/api/v1/evaluation-runs/",
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {key}",
            )
    assert response.status_code == 201
    assert EvaluationRun.objects.filter(run_id="r-1").exists()
    assert ModelVersion.objects.get(pk=orion_21.pk).needs_recompute is True
    assert "the sweep will retry it" in caplog.text
    assert recompute.sweep() == 1  # the broker is back
    version = ModelVersion.objects.get(pk=orion_21.pk)
    assert version.needs_recompute is False
    assert version.determinations.get(threshold="CBRN-3").outcome == "crossed"
