"""Recording a deployment: only what the gate, recomputed at that moment, lets ship."""

import pytest
from django.core.exceptions import PermissionDenied

from core import roles, tokens
from core.models import AuditEvent
from evaluations.models import ModelVersion
from releases import services, workflow
from releases.models import Release
from tests.conftest import make_person
from tests.releases.conftest import approve, submitted, verify_all

pytestmark = pytest.mark.django_db
# The caller (token or session), the model version brought up to date in a transaction of its
# own (locked, nothing due), the release and its locks, the gate's inputs read twice (before and
# after the move, each with the version's runs), the move and its audit event: the same however
# many releases, runs and events there are.
QUERY_BOUND = {"api": 34, "page": 34}


@pytest.fixture
def release(owner, orion_21):
    release = services.release_create(
        actor=owner, model_version=orion_21, context="api", title="API"
    )
    return services.release_submit(actor=owner, release=release)


@pytest.fixture
def approved(owner, lead, authority, authority2, release):
    verify_all(owner, lead, release)
    for person in (authority, authority2):
        approve(person, release)
    release.refresh_from_db()
    assert (release.state, release.gate_allowed) == ("approved", True)
    return release


def _pipeline(client, person):
    key = tokens.token_create(actor=person, user=person, name="pipeline").key
    return lambda release: client.post(
        f"/api/v1/releases/{release.pk}/deployment/", HTTP_AUTHORIZATION=f"Token {key}"
    )


def test_an_approved_release_the_gate_allows_is_recorded_as_deployed_once(owner, approved):
    events = AuditEvent.objects.count()
    release = services.release_deploy(actor=owner, release=approved)
    assert (release.state, release.gate_allowed, release.gate_messages) == ("deployed", True, [])
    event = AuditEvent.objects.get(seq=events + 1)
    assert (event.action, event.actor_label, event.after) == (
        "releases.release.deployed",
        owner.username,
        {"state": "deployed"},
    )
    assert AuditEvent.objects.count() == events + 1
    with pytest.raises(workflow.IllegalMove):
        services.release_deploy(actor=owner, release=release)
    assert AuditEvent.objects.count() == events + 1


def test_a_release_the_gate_denies_is_refused_with_its_reasons_and_nothing_changes(owner, release):
    before = Release.objects.values().get(pk=release.pk)
    events = AuditEvent.objects.count()
    with pytest.raises(workflow.IllegalMove):  # submitted, not approved
        services.release_deploy(actor=owner, release=release)
    assert Release.objects.values().get(pk=release.pk) == before
    assert AuditEvent.objects.count() == events


def test_the_gate_is_recomputed_at_the_moment_not_read_from_the_cache(owner, approved):
    # A crossing result has raised the level; the refresh that follows the recompute has not
    # run yet, so the cached verdict still allows. The deployment is refused all the same.
    ModelVersion.objects.filter(pk=approved.model_version_id).update(required_level="ASL-4")
    approved.refresh_from_db()
    assert approved.gate_allowed is True
    events = AuditEvent.objects.count()
    with pytest.raises(services.GateClosed) as refused:
        services.release_deploy(actor=owner, release=approved)
    assert any(
        reason.startswith("approvals: 0 of")
        for reason in [r.message for r in refused.value.reasons]
    )
    assert Release.objects.get(pk=approved.pk).state == "approved"
    assert AuditEvent.objects.count() == events


def test_only_those_who_request_releases_of_the_model_record_its_deployment(
    lead, authority, approved
):
    for person in (lead, authority):
        with pytest.raises(PermissionDenied):
            services.release_deploy(actor=person, release=approved)
    assert Release.objects.get(pk=approved.pk).state == "approved"


def test_the_pipeline_records_the_deployment_through_the_api(client, owner, approved):
    deploy = _pipeline(client, owner)
    response = deploy(approved)
    assert response.status_code == 201, response.content
    body = response.json()
    approved.refresh_from_db()
    assert (body["state"], body["assessment_sha256"]) == ("deployed", approved.assessment_sha256)
    again = deploy(approved)
    assert again.status_code == 409
    assert [r["message"] for r in again.json()["reasons"]] == [
        "a deployed release cannot become deployed"
    ]


def test_the_api_answers_409_with_the_gate_reasons(client, owner, approved):
    ModelVersion.objects.filter(pk=approved.model_version_id).update(required_level="ASL-4")
    response = _pipeline(client, owner)(approved)
    assert response.status_code == 409
    body = response.json()
    assert body["detail"].startswith("The gate does not allow this release to ship")
    assert any(
        reason.startswith("approvals: 0 of") for reason in [r["message"] for r in body["reasons"]]
    )
    assert Release.objects.get(pk=approved.pk).state == "approved"


def test_the_api_hides_another_owners_release_and_forbids_a_reader(client, authority, approved):
    rival = make_person("rita", roles.PRODUCT_OWNER)
    assert _pipeline(client, rival)(approved).status_code == 404
    assert _pipeline(client, authority)(approved).status_code == 403
    assert Release.objects.get(pk=approved.pk).state == "approved"


def test_the_release_page_offers_the_deployment_only_when_the_gate_allows(client, owner, approved):
    client.force_login(owner)
    page = client.get(f"/releases/{approved.pk}/").content.decode()
    assert 'data-testid="record-deployment"' in page
    response = client.post(f"/releases/{approved.pk}/deploy/", follow=True)
    assert "Recorded as deployed." in response.content.decode()
    assert 'data-testid="record-deployment"' not in response.content.decode()
    assert Release.objects.get(pk=approved.pk).state == "deployed"


@pytest.mark.parametrize("route", ["api", "page"])
def test_recording_a_deployment_reads_a_bounded_number_of_queries(
    client, owner, orion_21, approved, route, django_assert_max_num_queries
):
    # Other releases of the same version, each with its history: none of it is read.
    for _ in range(5):
        submitted(owner, orion_21, "internal")
    if route == "page":
        client.force_login(owner)
        deploy = lambda release: client.post(f"/releases/{release.pk}/deploy/")  # noqa: E731
    else:
        deploy = _pipeline(client, owner)
    with django_assert_max_num_queries(QUERY_BOUND[route]):
        assert deploy(approved).status_code == {"api": 201, "page": 302}[route]
    assert Release.objects.get(pk=approved.pk).state == "deployed"
