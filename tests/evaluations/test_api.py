import json

import pytest
from django.urls import reverse

from core import roles, tokens
from core.models import ApiToken
from evaluations.models import EvaluationRun, ModelVersion
from tests.conftest import make_person

pytestmark = pytest.mark.django_db
RUNS = "/api/v1/evaluation-runs/"


def _run(run_id="r1", value=0.65, **extra):
    return {
        "model_version": "orion-2.1",
        "evaluation": "bio_uplift_probe",
        "run_id": run_id,
        "status": "success",
        "harness": "inspect",
        "results": [{"metric": "includes/accuracy", "value": value, "stderr": 0.1}],
        **extra,
    }


@pytest.fixture
def api(client):
    def call(method, path, body=None, *, key, **extra):
        auth = {"HTTP_AUTHORIZATION": f"Token {key}", **extra}
        if method == "get":
            return client.get(path, **auth)
        payload = body if isinstance(body, str | bytes) else json.dumps(body)
        return client.post(path, payload, content_type="application/json", **auth)

    return call


@pytest.fixture
def owner_key(owner):
    return tokens.token_create(actor=owner, user=owner, name="ci").key


def test_a_harness_pushes_a_run_and_the_required_level_follows(
    eager_tasks, api, owner_key, orion_21, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the recompute runs after commit
        response = api("post", RUNS, _run(), key=owner_key)
    assert response.status_code == 201, response.content
    assert response.json()["run_id"] == "r1"
    detail = api("get", "/api/v1/model-versions/orion-2.1/", key=owner_key).json()
    cbrn3 = next(d for d in detail["determinations"] if d["threshold"] == "CBRN-3")
    assert (cbrn3["outcome"], cbrn3["deciding_run"]) == ("crossed", "r1")
    assert detail["required_level"] == "ASL-4"  # everything else still cannot be ruled out


def test_replays_are_200_and_conflicts_409(api, owner_key, orion_21):
    assert api("post", RUNS, _run(), key=owner_key).status_code == 201
    assert api("post", RUNS, _run(), key=owner_key).status_code == 200
    conflict = api("post", RUNS, _run(value=0.1), key=owner_key)
    assert conflict.status_code == 409
    assert conflict.json()["run_ids"] == ["r1"]
    assert EvaluationRun.objects.count() == 1


def test_a_batch_is_all_or_nothing_with_errors_per_item(api, owner_key, orion_21):
    response = api("post", RUNS, [_run("a"), _run("b", evaluation="nope")], key=owner_key)
    assert response.status_code == 400
    assert "unknown evaluation 'nope'" in response.json()["errors"]["runs[1].evaluation"][0]
    assert not EvaluationRun.objects.exists()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            '{"model_version": "orion-2.1", "evaluation": "bio_uplift_probe", "run_id": "x", '
            '"results": [{"metric": "m", "value": NaN}]}',
            "JSON parse error",
        ),
        (_run(results=[{"metric": "m", "value": 1e308 * 10}]), "JSON parse error"),
        (_run(results=[{"metric": "m", "value": 1e13}]), "within ±1e12"),
        (_run(results=[{"metric": "m", "value": "high"}]), "valid number"),
        (_run(status="finished"), "is not a valid choice"),
        ({"evaluation": "bio_uplift_probe"}, "This field is required"),
        (_run(model_version="vega-9"), "unknown model version 'vega-9'"),
        ("[not json", "JSON parse error"),
    ],
)
def test_invalid_input_is_a_400_that_says_why(api, owner_key, orion_21, body, needle):
    if (
        isinstance(body, dict)
        and body.get("results")
        and body["results"][0]["value"] == float("inf")
    ):
        body = json.dumps(body).replace("Infinity", "Infinity")
    response = api("post", RUNS, body, key=owner_key)
    assert response.status_code == 400
    assert needle in response.content.decode()
    assert not EvaluationRun.objects.exists()


def test_an_oversized_request_is_413(api, owner_key, orion_21, settings):
    settings.API_MAX_BODY_BYTES = 1024
    response = api("post", RUNS, [_run(f"r{n}") for n in range(50)], key=owner_key)
    assert response.status_code == 413
    assert not EvaluationRun.objects.exists()


def test_without_a_valid_token_the_api_answers_401(client, api, owner, orion_21):
    assert client.post(RUNS, _run(), content_type="application/json").status_code == 401
    assert api("post", RUNS, _run(), key="made-up").status_code == 401
    created = tokens.token_create(actor=owner, user=owner, name="old")
    tokens.token_revoke(actor=owner, token=created.token)
    assert api("post", RUNS, _run(), key=created.key).status_code == 401


def test_tokens_are_stored_hashed(owner):
    created = tokens.token_create(actor=owner, user=owner, name="ci")
    stored = ApiToken.objects.get()
    assert created.key not in (stored.digest, stored.prefix + stored.digest)
    assert len(stored.digest) == 64 and created.key.startswith(stored.prefix)


def test_another_owners_token_sees_404_and_cannot_feed(api, orion_21):
    rival = make_person("rita", roles.PRODUCT_OWNER)
    key = tokens.token_create(actor=rival, user=rival, name="x").key
    assert api("get", "/api/v1/model-versions/orion-2.1/", key=key).status_code == 404
    assert api("get", "/api/v1/model-versions/", key=key).json() == []
    response = api("post", RUNS, _run(), key=key)
    assert response.status_code == 400
    assert "unknown model version" in response.content.decode()


def test_a_pipeline_registers_a_model_version_of_its_own_model(api, owner_key, orion):
    body = {"model": "orion", "label": "orion-3.0", "effective_compute": 3e25}
    response = api("post", "/api/v1/model-versions/", body, key=owner_key)
    assert response.status_code == 201, response.content
    assert response.json()["label"] == "orion-3.0"
    assert ModelVersion.objects.get(label="orion-3.0").created_by.username == "omar"
    again = api("post", "/api/v1/model-versions/", body, key=owner_key)
    assert again.status_code == 409
    missing = api("post", "/api/v1/model-versions/", {"model": "vega", "label": "v"}, key=owner_key)
    assert missing.status_code == 400


def test_leads_read_every_model_version_but_cannot_feed(api, lead, orion_21):
    key = tokens.token_create(actor=lead, user=lead, name="x").key
    assert api("get", "/api/v1/model-versions/orion-2.1/", key=key).status_code == 200
    response = api("post", RUNS, _run(), key=key)
    assert "you may not add results" in response.content.decode()


def test_the_model_version_list_has_a_bounded_query_count(
    api, owner, owner_key, orion, evaluations, django_assert_max_num_queries
):
    from evaluations import services

    for n in range(20):
        services.model_version_create(actor=owner, model=orion, label=f"orion-{n}")
    with django_assert_max_num_queries(8):
        response = api("get", "/api/v1/model-versions/", key=owner_key)
    assert len(response.json()) == 20


def test_the_openapi_document_describes_every_endpoint_and_its_errors(client, owner):
    client.force_login(owner)
    schema = client.get(reverse("api:schema"), HTTP_ACCEPT="application/json").json()
    runs = schema["paths"]["/api/v1/evaluation-runs/"]["post"]["responses"]
    assert {"200", "201", "400", "401", "409", "413"} <= set(runs)
    assert "/api/v1/model-versions/{label}/" in schema["paths"]
    assert client.get(reverse("api:docs")).status_code == 200


def test_labels_and_keys_are_plain_identifiers(api, owner_key, orion):
    response = api(
        "post", "/api/v1/model-versions/", {"model": "orion", "label": "evil/x"}, key=owner_key
    )
    assert response.status_code == 400
    assert not ModelVersion.objects.filter(label="evil/x").exists()


def test_future_dates_and_absurd_sample_counts_are_refused(api, owner_key, orion_21):
    future = _run(completed_at="2099-01-01T00:00:00Z")
    assert "is in the future" in api("post", RUNS, future, key=owner_key).content.decode()
    huge = _run(results=[{"metric": "m", "value": 0.1, "samples": 10**12}])
    assert api("post", RUNS, huge, key=owner_key).status_code == 400
    assert not EvaluationRun.objects.exists()
