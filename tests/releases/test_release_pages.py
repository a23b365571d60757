import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import roles, signing, tokens
from releases import assessment, decisions, services
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(owner, orion_21):
    release = services.release_create(
        actor=owner, model_version=orion_21, context="api", title="API"
    )
    return services.release_submit(actor=owner, release=release)


def test_the_gate_api_answers_with_every_reason(client, owner, release):
    key = tokens.token_create(actor=owner, user=owner, name="pipeline").key
    body = client.get(
        f"/api/v1/releases/{release.pk}/gate/", HTTP_AUTHORIZATION=f"Token {key}"
    ).json()
    assert body["allowed"] is False
    assert (body["state"], body["assessment_sha256"]) == ("submitted", release.assessment_sha256)
    assert body["required_level"] == "ASL-3"
    assert body["policy_version"] == "rsp-template:1"
    assert "the release is submitted, not approved" in [r["message"] for r in body["reasons"]]


def test_another_owners_pipeline_gets_404(client, release):
    rival = make_person("rita", roles.PRODUCT_OWNER)
    key = tokens.token_create(actor=rival, user=rival, name="x").key
    response = client.get(f"/api/v1/releases/{release.pk}/gate/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 404


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_release_pages_stay_within_a_constant_query_bound(
    client, owner, lead, authority, authority2, release
):
    client.force_login(authority)
    pages = [f"/releases/{release.pk}/", "/releases/"]
    small = [_count(client, url) for url in pages]
    for code in [s["code"] for s in assessment.required_safeguards(release)]:
        services.safeguard_implement(actor=owner, release=release, code=code, text="in place")
        services.safeguard_verify(actor=lead, release=release, code=code)
    for person in (authority, authority2):
        release.refresh_from_db()
        services.release_approve(
            actor=person,
            release=release,
            seen_sha256=release.assessment_sha256,
            reauth=signing.demo_reauthentication(person),
        )
    for n in range(3):
        decisions.decision_propose(
            actor=authority,
            kind="pause",
            target=release,
            rationale=f"Precaution number {n} while tests run.",
        )
    services.release_create(
        actor=owner, model_version=release.model_version, context="internal", title="B"
    )
    large = [_count(client, url) for url in pages]
    assert all(big <= few for big, few in zip(large, small, strict=True)), (small, large)
    assert max(large) <= 16, large


def test_the_release_page_shows_the_gate_and_its_reasons(client, owner, release):
    client.force_login(owner)
    content = client.get(f"/releases/{release.pk}/").content.decode()
    assert 'data-testid="gate-verdict">denied' in content
    assert "approvals: 0 of 2 current" in content
    assert "Record evidence" in content  # the owner records evidence
    assert "Sign approval" not in content  # but does not approve


def test_the_dashboard_shows_open_escalations_and_how_long_they_have_been_open(
    client, authority, release
):
    from datetime import timedelta

    from django.utils import timezone

    from releases.models import Release

    Release.objects.filter(pk=release.pk).update(blocked_since=timezone.now() - timedelta(hours=3))
    client.force_login(authority)
    content = client.get("/").content.decode()
    assert "blocked" in content and "open for 3" in content and "hours" in content


def test_approving_through_the_api_a_changed_assessment_is_a_409(client, owner, authority, release):
    from releases.models import Approval
    from tests.conftest import PASSWORD

    key = tokens.token_create(actor=authority, user=authority, name="cli").key
    url = f"/api/v1/releases/{release.pk}/approvals/"
    seen = release.assessment_sha256
    code = assessment.required_safeguards(release)[0]["code"]
    services.safeguard_implement(actor=owner, release=release, code=code, text="changed meanwhile")
    body = {"password": PASSWORD, "assessment_sha256": seen}
    response = client.post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert response.status_code == 409
    assert "changed after you loaded it" in response.json()["detail"]
    release.refresh_from_db()
    body["assessment_sha256"] = release.assessment_sha256
    ok = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")
    assert ok.status_code == 201
    wrong = client.post(
        url,
        {**body, "password": "nope"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert wrong.status_code == 403
    assert Approval.objects.count() == 1


def test_wrong_passwords_through_the_api_lock_signing_with_a_json_429(
    client, authority, release, settings
):
    from releases.models import Approval
    from tests.conftest import PASSWORD

    key = tokens.token_create(actor=authority, user=authority, name="cli").key
    url = f"/api/v1/releases/{release.pk}/approvals/"
    body = {"password": "guess", "assessment_sha256": release.assessment_sha256}

    def post(**changes):
        return client.post(
            url, {**body, **changes}, content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )  # fmt: skip

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert post().status_code == 403
    for locked in (post(), post(password=PASSWORD)):  # the right password no longer signs
        assert locked.status_code == 429
        assert locked["Content-Type"] == "application/json"
        assert "Too many failed password attempts" in locked.json()["detail"]
        assert locked["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME * 3600))
    assert not Approval.objects.exists()


def test_the_release_list_comes_fifty_at_a_time_newest_first(client, owner, orion_21, monkeypatch):
    from releases import views

    monkeypatch.setattr(views, "PAGE_SIZE", 4)
    made = [
        services.release_create(actor=owner, model_version=orion_21, context="api", title=f"r{n}")
        for n in range(6)
    ]
    client.force_login(owner)
    first = client.get("/releases/")
    assert [r.title for r in first.context["releases"]] == ["r5", "r4", "r3", "r2"]
    second = client.get("/releases/", {"before": first.context["next_before"]})
    assert [r.title for r in second.context["releases"]] == ["r1", "r0"]
    assert second.context["next_before"] is None
    assert made[0].pk == second.context["releases"][-1].pk
