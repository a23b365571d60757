"""The REST API against its own OpenAPI document: schemathesis calls every operation of the
document served at /api/v1/schema/, in-process through the production WSGI application
(``config.wsgi``), authenticated with an API token. Valid and invalid inputs, generated from
the document: no answer is a 5xx, every status code, content type and body is one the
document declares, and every invalid input is refused with a 4xx.

Deterministic (a fixed seed, derandomized Hypothesis, no example database) and bounded.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime

import pytest
import schemathesis
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from config import api_urls
from config.wsgi import application
from core import signing, tokens
from evaluations import imports, ingestion, recompute
from evaluations import services as evaluation_services
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import Evaluation, EvaluationRun, ImportJob, ModelVersion
from governance import content, publishing
from governance import services as governance_services
from releases import services as release_services
from releases.models import Approval
from tests.conftest import PASSWORD
from tests.governance.factories import designate

pytestmark = pytest.mark.django_db
SCHEMA_URL = "/api/v1/schema/"
RUNS = "/api/v1/evaluation-runs/"
EXAMPLES = 25  # fuzzing-phase examples per operation and generation mode
LABELS = ["orion-2.0", "orion-2.1"]
EVALUATIONS = ["bio_uplift_probe", "cyber_ctf_suite"]


def _document() -> dict:
    """The document GET /api/v1/schema/ serves, built by the same generator and renderer, at
    collection time (before there is a database or a token to fetch it with);
    ``test_the_document_under_test_is_the_one_served`` checks that they are the same."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261127,
        "generation": {
            "mode": "all",  # valid inputs, and invalid ones that must be refused
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        # Generation never learns from responses (some depend on the clock): same cases each run.
        "phases": {
            "stateful": {"enabled": False},
            "coverage": {"extra-data-sources": {"responses": False}},
            "fuzzing": {
                "extra-data-sources": {"responses": False},
                "error-feedback": {"enabled": False},
            },
        },
        "checks": {
            # 400 for valid data is allowed here only for the reasons a document cannot state:
            # ``refused_only_for_what_no_schema_can_say`` below checks which.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409"],
            },
        },
        # Reach past "unknown model version": half the values name the caller's own.
        "dictionaries": {
            "labels": {"values": LABELS},
            "evaluations": {"values": EVALUATIONS},
            "models": {"values": ["orion"]},
        },
        "parameters": {
            "path.label": {"dictionary": "labels", "probability": 0.5},
            "body.model_version": {"dictionary": "labels", "probability": 0.5},
            "body.evaluation": {"dictionary": "evaluations", "probability": 0.5},
            "body.model": {"dictionary": "models", "probability": 0.5},
        },
    }
)
DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
schema.app = application  # every request, the checks' own probes too, goes in-process


@pytest.fixture
def world(lead, owner, settings, tmp_path):
    """A published policy; the caller's model with a version that has results and
    determinations and one that has none; a release of each, one submitted; an import job;
    and the caller's API token."""
    settings.MEDIA_ROOT = tmp_path / "media"
    draft = governance_services.template_load(actor=lead, name="rsp")
    designate(draft, lead)
    publishing.version_sign(actor=lead, version=draft, reauth=signing.demo_reauthentication(lead))
    data = content.version_content(content.load_version(draft.pk))
    keys = {c["evaluation"] for t in data["thresholds"] for c in t["conditions"]}
    for key in sorted(keys | set(EVALUATIONS)):
        evaluation_services.evaluation_create(actor=lead, key=key, name=key)
    orion = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    versions = [
        evaluation_services.model_version_create(actor=owner, model=orion, label=label)
        for label in LABELS
    ]
    run = RunInput(
        model_version="orion-2.1",
        evaluation="bio_uplift_probe",
        run_id="seed-run",
        status="success",
        completed_at=datetime.now(UTC),
        results=(ResultInput("includes/accuracy", 0.65, 0.1, 20),),
    )
    ingestion.ingest_runs(actor=owner, runs=[run], source="api")
    for version in versions:
        recompute.recompute(version.pk)
    releases = [
        release_services.release_create(
            actor=owner, model_version=version, context="api", title=f"{version.label} API"
        )
        for version in versions
    ]
    release_services.release_submit(actor=owner, release=releases[1])
    upload = SimpleUploadedFile("results.csv", b"not,a,log\n")
    job = imports.import_job_create(actor=owner, upload=upload, model_version="orion-2.1")
    assert Evaluation.objects.filter(key__in=EVALUATIONS).count() == len(EVALUATIONS)
    key = tokens.token_create(actor=owner, user=owner, name="schemathesis").key
    return {
        "auth": {"Authorization": f"Token {key}"},
        "releases": [release.pk for release in releases],
        "job": str(job.pk),
    }


@pytest.fixture
def wsgi_app():
    """The production WSGI application. Django closes database connections at the start and
    end of each request; the test's transaction must outlive requests, as Django's own test
    client arranges."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield application
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


# What makes schema-valid input invalid without the document being wrong: names that do not
# exist or are not the caller's, and rules about time or between fields.
UNSAYABLE = (
    "unknown model version",
    "unknown evaluation",
    "unknown model ",
    "you may not",
    "is in the future",
    "is before started_at",
    "a run that did not succeed carries no results",
    "appears twice",
    # DRF's rules for every text field, which only a pattern on each could state: no NUL, and
    # not only whitespace (it trims).
    "Null characters are not allowed",
    "This field may not be blank",
    # An empty upload: a multipart document has no way to state a file's size.
    "No file was submitted",
    "The submitted file is empty",
)


def refused_only_for_what_no_schema_can_say(ctx, response, case):
    """A 400 for input the document calls valid must be for a reason in ``UNSAYABLE``; any
    other reason (a bound, a pattern) is a limit the document fails to state."""
    mode = case.meta.generation.mode.value if case.meta else None
    if mode != "positive" or response.status_code != 400:
        return None
    errors = response.json().get("errors", {})
    unsaid = {
        field: messages
        for field, messages in errors.items()
        if not all(any(reason in str(m) for reason in UNSAYABLE) for m in messages)
    }
    assert errors and not unsaid, f"valid by the document, refused: {unsaid or response.json()}"
    return True


@schema.parametrize()
# One world per operation, shared by its examples (inside the test's transaction).
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_its_schema_says(case, world, wsgi_app, tally: Counter):
    response = case.call_and_validate(
        headers=world["auth"],
        app=wsgi_app,
        additional_checks=[refused_only_for_what_no_schema_can_say],
    )
    mode = case.meta.generation.mode.value if case.meta else "explicit"
    tally[f"schemathesis {case.operation.label}: {mode}, {response.status_code // 100}xx"] += 1
    assert response.status_code < 500


def test_the_document_under_test_is_the_one_served(world, wsgi_app):
    client = Client(wsgi_app)
    response = client.get(SCHEMA_URL, query_string={"format": "json"}, headers=world["auth"])
    assert response.status_code == 200
    assert json.loads(response.get_data()) == DOCUMENT


def test_the_document_describes_every_api_endpoint_and_method():
    routed = set()
    for route in api_urls.urlpatterns:
        if route.name in ("schema", "docs"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(route.pattern)).replace("{pk}", "{id}")
        methods = [
            m for m in ("get", "post", "put", "patch", "delete") if hasattr(route.callback.cls, m)
        ]
        routed |= {(f"/api/v1/{path}", method) for method in methods}
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item}
    assert routed == documented and len(documented) >= 8


def _run(run_id, value=0.4, **extra):
    result = {"metric": "includes/accuracy", "value": value, "stderr": 0.1, "samples": 20}
    return {
        "model_version": "orion-2.0",
        "evaluation": "bio_uplift_probe",
        "run_id": run_id,
        "results": [result],
        **extra,
    }


def _explicit(world):
    """(what, operation, case, expected status): each success and refusal of the caller's
    own objects, which random inputs seldom reach."""
    runs = ("POST", RUNS)
    versions = ("POST", "/api/v1/model-versions/")
    submitted = {"id": world["releases"][1]}
    json_body = {"media_type": "application/json"}
    version = {"model": "orion", "label": "orion-3.0"}
    upload = {"file": b"a,b\n", "model_version": "orion-2.1"}
    approval = {"password": PASSWORD, "assessment_sha256": "0" * 64}
    return [
        ("versions", ("GET", "/api/v1/model-versions/"), {}, 200),
        ("version", ("GET", "/api/v1/model-versions/{label}/"),
         {"path_parameters": {"label": "orion-2.1"}}, 200),
        ("a NUL label", ("GET", "/api/v1/model-versions/{label}/"),
         {"path_parameters": {"label": "orion-2.1\x00"}}, 404),  # a 500 on PostgreSQL, once
        ("gate", ("GET", "/api/v1/releases/{id}/gate/"), {"path_parameters": submitted}, 200),
        ("job", ("GET", "/api/v1/imports/{job_id}/"),
         {"path_parameters": {"job_id": world["job"]}}, 200),
        ("a run", runs, {"body": _run("r1")}, 201),
        ("its replay", runs, {"body": _run("r1")}, 200),
        ("a conflict", runs, {"body": _run("r1", value=0.9)}, 409),
        ("a batch", runs, {"body": [_run("r2"), _run("r3")]}, 201),
        ("a bad batch", runs, {"body": [_run("r4"), _run("r5", results=[{"metric": "m"}])]}, 400),
        ("a string", runs, {"body": "{", **json_body}, 400),
        ("a version", versions, {"body": version, **json_body}, 201),
        ("it again", versions, {"body": version, **json_body}, 409),
        ("an import", ("POST", "/api/v1/imports/"), {"body": upload}, 202),
        ("an approval", ("POST", "/api/v1/releases/{id}/approvals/"),
         {"path_parameters": submitted, "body": approval, **json_body}, 403),  # not an authority
    ]  # fmt: skip


def test_the_callers_own_objects_answer_as_the_schema_says(world, wsgi_app, tally):
    """Validated against the document like the generated cases, every check included."""
    answers = {}
    for what, (method, path), case, expected in _explicit(world):
        call = schema[path][method].Case(**case)
        answers[what] = call.call_and_validate(headers=world["auth"], app=wsgi_app)
        assert answers[what].status_code == expected, (what, answers[what].text[:300])
    assert answers["a bad batch"].json() == {
        "errors": {"runs[1].results[0].value": ["This field is required."]}
    }
    assert answers["a string"].json()["errors"]["non_field_errors"]
    # A body that is not JSON at all: the parser's own answer, as documented.
    broken = Client(wsgi_app).post(
        RUNS, data=b"{", content_type="application/json", headers=world["auth"]
    )
    conforms = [status_code_conformance, content_type_conformance, response_schema_conformance]
    schema[RUNS]["POST"].Case(media_type="application/json").validate_response(
        broken, checks=conforms
    )
    assert broken.status_code == 400 and "JSON parse error" in broken.json["detail"]
    stored = set(EvaluationRun.objects.values_list("run_id", flat=True))
    assert stored == {"seed-run", "r1", "r2", "r3"}
    assert ModelVersion.objects.filter(label="orion-3.0").exists()
    assert ImportJob.objects.count() == 2 and not Approval.objects.exists()
    tally["schemathesis explicit cases (the caller's own objects)"] += len(answers)
