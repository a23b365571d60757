"""Cross-site request forgery: every form post needs the CSRF token.

A forged cross-site POST carries the victim's session cookie but cannot read the CSRF token.
Each non-API URL of the permission matrix is posted to by a signed-in persona, first without
the token (refused, nothing changes), then with it (the CSRF layer lets it through, so the
refusal came from the token and nothing else).

The API authenticates machines by ``Authorization: Token``, which a browser never adds to a
cross-site request by itself, so token calls need no CSRF token. The API also accepts the
session (the browsable docs, htmx); a session call without the CSRF token is refused.
"""

import pytest
from django.test import Client
from django.urls import reverse

from core import tokens
from core.models import ApiToken, AuditEvent
from tests.core.test_permission_matrix import MATRIX, World, _app_urls

pytestmark = pytest.mark.django_db
CSRF_FAILED = b"CSRF verification failed"
PAGES = sorted(name for name, entry in MATRIX.items() if not entry.api)
# The pages whose views take a POST (forms and actions); every other page answers a POST that
# passes the CSRF check with 405 (test_only_these_pages_take_a_post).
TAKES_POST = [
    "api-tokens",
    "evaluations:evaluation-new",
    "evaluations:import-new",
    "evaluations:model-new",
    "evaluations:override-new",
    "evaluations:version-new",
    "governance:draft-discard",
    "governance:draft-start",
    "governance:import",
    "governance:item-add",
    "governance:item-delete",
    "governance:item-edit",
    "governance:policy-new",
    "governance:version-settings",
    "governance:version-sign",
    "login",
    "logout",
    "password-reset",
    "password-reset-confirm",
    "releases:approve",
    "releases:decision-lift",
    "releases:decision-propose",
    "releases:decision-sign",
    "releases:deploy",
    "releases:implement",
    "releases:release-new",
    "releases:submit",
    "releases:verify",
    "releases:withdraw",
]
ORDER = ("owner", "lead", "authority", "auditor", "superuser")


def _persona_for(name, request):
    """Someone the matrix lets through (so only the CSRF check stands in the way), or the
    superuser where nobody is."""
    allowed = [p for p in ORDER if p in MATRIX[name].allowed]
    return request.getfixturevalue(allowed[0] if allowed else "superuser")


def _strict_client(person):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    assert client.get(reverse("dashboard")).status_code == 200  # sets the CSRF cookie
    return client


def _url(name):
    """The URL of ``name``, its objects built (once) before the test counts anything."""
    return reverse(name, kwargs=MATRIX[name].kwargs(World()))


def _post(client, url, *, token, **extra):
    data = {"csrfmiddlewaretoken": client.cookies["csrftoken"].value} if token else {}
    return client.post(url, data, **extra)


@pytest.mark.parametrize("name", TAKES_POST)
def test_a_post_without_the_csrf_token_is_refused(name, request):
    client = _strict_client(_persona_for(name, request))
    url = _url(name)
    events = AuditEvent.objects.count()
    response = _post(client, url, token=False)
    assert response.status_code == 403
    assert CSRF_FAILED in response.content
    assert AuditEvent.objects.count() == events  # nothing was done
    assert "_auth_user_id" in client.session  # (not even signing out)
    # With the token the same post passes the CSRF check (whatever the view then says).
    accepted = _post(client, url, token=True)
    assert CSRF_FAILED not in accepted.content
    assert accepted.status_code != 405


@pytest.mark.parametrize("name", sorted(set(PAGES) - set(TAKES_POST)))
def test_only_these_pages_take_a_post(name, request):
    """Every other page answers a POST with the right token with 405, and without it 403."""
    client = _strict_client(request.getfixturevalue("superuser"))
    url = _url(name)
    assert _post(client, url, token=False).status_code == 403
    assert _post(client, url, token=True).status_code == 405


def test_a_header_token_works_as_well_as_the_form_field(superuser):
    client = _strict_client(superuser)
    url = reverse("api-tokens")
    refused = client.post(url, {"name": "from a forged form"})
    assert refused.status_code == 403
    token = client.cookies["csrftoken"].value
    accepted = client.post(url, {"name": "from htmx"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200
    names = ApiToken.objects.filter(user=superuser).values_list("name", flat=True)
    assert list(names) == ["from htmx"]


def test_a_token_from_another_session_is_refused(superuser, owner):
    mine, theirs = _strict_client(owner), _strict_client(superuser)
    stolen = theirs.cookies["csrftoken"].value
    response = mine.post(reverse("api-tokens"), {"name": "x", "csrfmiddlewaretoken": stolen})
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def _api_posts():
    return sorted(
        name
        for name, entry in MATRIX.items()
        if entry.api and hasattr(getattr(_app_urls()[name].callback, "cls", None), "post")
    )


def test_the_api_takes_posts_at_these_endpoints():
    assert _api_posts() == [
        "api:evaluation-runs",
        "api:imports",
        "api:model-versions",
        "api:release-approvals",
        "api:release-deployment",
    ]


@pytest.mark.parametrize("name", _api_posts())
def test_the_api_refuses_a_session_post_without_the_csrf_token(name, authority):
    client = _strict_client(authority)
    url = _url(name)
    events = AuditEvent.objects.count()
    response = client.post(
        url, {"model": "orion", "label": "orion-9"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert AuditEvent.objects.count() == events
    token = client.cookies["csrftoken"].value
    accepted = client.post(url, {}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert "CSRF" not in accepted.content.decode()


@pytest.mark.parametrize("name", _api_posts())
def test_the_api_takes_a_token_call_without_the_csrf_token(name, authority):
    key = tokens.token_create(actor=authority, user=authority, name="ci").key
    client = Client(enforce_csrf_checks=True)
    url = _url(name)
    response = client.post(
        url, {}, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
    )
    assert "CSRF" not in response.content.decode()
    assert response.status_code in (400, 403)  # past authentication: validation or permission
