import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_the_login_page_renders_for_anonymous_visitors(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="csrfmiddlewaretoken"' in response.content


def test_a_person_signs_in_and_lands_on_the_dashboard(client, owner):
    response = _sign_in(client, "omar", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    event = AuditEvent.objects.get(action="core.session.login")
    assert (event.actor_id, event.object_id) == (owner.pk, str(owner.pk))
    assert event.request_id.startswith("req:")


def test_sign_in_returns_to_the_page_asked_for(client, auditor):
    response = client.post(
        reverse("login"),
        {"username": "audrey", "password": PASSWORD, "next": reverse("oversight:audit-list")},
    )
    assert response["Location"] == reverse("oversight:audit-list")


def test_sign_in_never_redirects_off_site(client, auditor):
    response = client.post(
        reverse("login"),
        {"username": "audrey", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("dashboard")


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(client, owner):
    response = _sign_in(client, "omar", "not-the-password")
    assert response.status_code == 200
    assert b'data-testid="login-error"' in response.content
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="core.session.login").exists()


def test_repeated_failures_lock_the_account_on_that_address(client, owner):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "omar", "wrong").status_code == 200
    locked = _sign_in(client, "omar", "wrong")
    assert locked.status_code == 429
    assert b'data-testid="locked-out"' in locked.content
    # Even the right password is refused while locked ...
    assert _sign_in(client, "omar", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # ... but only for that username from that address.
    assert _sign_in(client, "omar", PASSWORD, REMOTE_ADDR="10.9.8.7").status_code == 302


def test_behind_a_proxy_lockouts_follow_the_client_the_proxy_saw(client, owner, settings):
    settings.PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    # The attacker forges an X-Forwarded-For entry; the proxy appends the real address.
    for forged in range(settings.AXES_FAILURE_LIMIT):
        headers = {**proxy, "HTTP_X_FORWARDED_FOR": f"1.2.3.{forged}, 203.0.113.9"}
        _sign_in(client, "omar", "wrong", **headers)
    attacker = {**proxy, "HTTP_X_FORWARDED_FOR": "9.9.9.9, 203.0.113.9"}
    assert _sign_in(client, "omar", PASSWORD, **attacker).status_code == 429
    colleague = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    assert _sign_in(client, "omar", PASSWORD, **colleague).status_code == 302


def test_sign_out_needs_a_post_and_is_audited(client, owner):
    client.force_login(owner)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert AuditEvent.objects.filter(action="core.session.logout", actor=owner).count() == 1
    assert client.get(reverse("dashboard")).status_code == 302


def test_the_login_form_is_protected_against_cross_site_posts(owner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "omar", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in strict.session


def test_signed_in_people_visiting_login_go_to_the_dashboard(client, owner):
    client.force_login(owner)
    assert client.get(reverse("login"))["Location"] == reverse("dashboard")


def test_an_inactive_person_cannot_sign_in(client, owner):
    owner.is_active = False
    owner.save()
    assert _sign_in(client, "omar", PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session


# --- Re-authentication at signing shares the sign-in lockout ----------------------------------
# A signed act asks for the password again (core/signing.py). Without a limit there, anyone
# holding a session (a borrowed laptop, a stolen cookie) could guess the password at will.


def _sign_form(client, version):
    url = reverse("governance:version-sign", args=[version.policy.slug, version.number])
    digest = client.get(url).context["form"].initial["content_sha256"]
    return url, {"content_sha256": digest, "confirm": "on"}


def _draft(lead):
    from governance import services
    from tests.governance.factories import designate

    draft = services.template_load(actor=lead, name="rsp")
    designate(draft, lead)  # publishable: enough authorities for its quorums
    return draft


def test_wrong_passwords_when_signing_lock_signing_and_sign_in(client, lead):
    from core.models import Signature

    client.force_login(lead)
    version = _draft(lead)
    url, form = _sign_form(client, version)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        refused = client.post(url, {**form, "password": "guess"})
        assert refused.status_code == 400
        assert b"That password is not correct" in refused.content
    locked = client.post(url, {**form, "password": "guess"})
    assert locked.status_code == 429
    # The right password no longer signs from this address, nor signs in.
    assert client.post(url, {**form, "password": PASSWORD}).status_code == 429
    assert not Signature.objects.exists()
    assert _sign_in(Client(), "lena", PASSWORD).status_code == 429
    events = AuditEvent.objects.filter(action="core.signature.refused", actor=lead)
    assert events.count() == settings.AXES_FAILURE_LIMIT + 1
    # From another address the right password still signs: the lockout is what refused it.
    other = {"REMOTE_ADDR": "10.9.8.7"}
    signed = client.post(url, {**form, "password": PASSWORD}, **other)
    assert signed.status_code == 302
    assert Signature.objects.filter(signer=lead).count() == 1


def test_failures_at_sign_in_and_at_signing_count_together(client, lead):
    from core.models import Signature

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(Client(), "lena", "guess").status_code == 200
    client.force_login(lead)
    url, form = _sign_form(client, _draft(lead))
    assert client.post(url, {**form, "password": "guess"}).status_code == 429
    assert client.post(url, {**form, "password": PASSWORD}).status_code == 429
    assert not Signature.objects.exists()


def test_wrong_passwords_when_approving_by_api_lock_the_approver(client, lead, owner, authority):
    """Through the API with a token (no session, no lockout page): still refused."""
    from core import tokens
    from releases.models import Approval
    from tests.security import world

    release = world.build(lead=lead, owner=owner, authority=authority)["release"]
    key = tokens.token_create(actor=authority, user=authority, name="ci").key
    url = reverse("api:release-approvals", args=[release.pk])
    body = {"assessment_sha256": release.assessment_sha256}
    headers = {"HTTP_AUTHORIZATION": f"Token {key}", "content_type": "application/json"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {**body, "password": "guess"}, **headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "That password is not correct. Nothing was signed."}
    # The failure that reaches the limit, and the right password after it: the lockout answer.
    assert client.post(url, {**body, "password": "guess"}, **headers).status_code == 429
    assert client.post(url, {**body, "password": PASSWORD}, **headers).status_code == 429
    assert not Approval.objects.exists()
    assert _sign_in(Client(), "ada", PASSWORD).status_code == 429
    # The same request from another address signs: only the lockout refused it.
    response = client.post(url, {**body, "password": PASSWORD}, REMOTE_ADDR="10.9.8.7", **headers)
    assert response.status_code == 201, response.content
    assert Approval.objects.filter(approver=authority).count() == 1
