import pytest
from django.conf import settings
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
