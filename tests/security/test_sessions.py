"""Sessions end after SESSION_IDLE_MINUTES without a request, and SESSION_COOKIE_AGE after
sign-in however active they are; the person lands on the login page with a note, and the
expiry is audited."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from core import sessions
from core.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _now() -> int:
    return int(timezone.now().timestamp())


def _sign_in(client, username="omar"):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _age(client, *, started_ago=None, seen_ago=None):
    """Move the session's clock back, as if time had passed since."""
    session = client.session
    if started_ago is not None:
        session[sessions.STARTED] = _now() - started_ago
    if seen_ago is not None:
        session[sessions.SEEN] = _now() - seen_ago
    session.save()


def test_signing_in_stamps_the_session_with_its_start(client, owner):
    before = _now()
    _sign_in(client)
    session = client.session
    assert before <= session[sessions.STARTED] <= _now()
    assert session[sessions.SEEN] == session[sessions.STARTED]


def test_an_idle_session_ends_and_the_login_page_says_why(client, owner, settings):
    _sign_in(client)
    _age(client, seen_ago=settings.SESSION_IDLE_SECONDS + 1)
    response = client.get(reverse("oversight:audit-list"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse('oversight:audit-list')}"
    login_page = client.get(response["Location"])
    assert login_page.status_code == 200
    assert (
        "You were signed out after 30 minutes without activity. Sign in again to continue."
        in login_page.content.decode()
    )
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="core.session.expired")
    assert (event.actor_id, event.object_id) == (owner.pk, str(owner.pk))
    assert event.after == {"timeout": "idle"}
    assert event.reason == "30 minutes without activity"
    # Expiry is not a sign-out the person chose.
    assert not AuditEvent.objects.filter(action="core.session.logout").exists()
    # The note is shown once.
    assert b"without activity" not in client.get(reverse("login")).content


def test_a_session_used_within_the_idle_limit_stays_and_is_refreshed(client, owner, settings):
    _sign_in(client)
    _age(client, seen_ago=settings.SESSION_IDLE_SECONDS - 5)
    assert client.get(reverse("dashboard")).status_code == 200
    assert _now() - client.session[sessions.SEEN] <= 1
    assert not AuditEvent.objects.filter(action="core.session.expired").exists()


def test_the_last_seen_time_is_written_at_most_once_a_minute(client, owner):
    _sign_in(client)
    _age(client, seen_ago=30)
    seen = client.session[sessions.SEEN]
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.session[sessions.SEEN] == seen
    _age(client, seen_ago=sessions.touch_every())
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.session[sessions.SEEN] > seen


def test_the_absolute_limit_holds_however_active_the_session_is(client, owner, settings):
    _sign_in(client)
    started = client.session[sessions.STARTED]
    # Active all along: requests that refresh the last-seen time never move the start.
    for _ in range(3):
        _age(client, seen_ago=120)
        assert client.get(reverse("dashboard")).status_code == 200
        assert _now() - client.session[sessions.SEEN] <= 1
        assert client.session[sessions.STARTED] == started
    _age(client, started_ago=settings.SESSION_COOKIE_AGE - 10, seen_ago=5)
    assert client.get(reverse("dashboard")).status_code == 200
    _age(client, started_ago=settings.SESSION_COOKIE_AGE, seen_ago=5)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert (
        "Your session ended: a sign-in lasts at most 8 hours. Sign in again to continue."
        in client.get(reverse("login")).content.decode()
    )
    event = AuditEvent.objects.get(action="core.session.expired")
    assert (event.actor_id, event.after, event.reason) == (
        owner.pk,
        {"timeout": "absolute"},
        "8 hours since sign-in",
    )


def test_the_reason_is_whichever_limit_passed_first(settings):
    now = 1_000_000
    idle, age = settings.SESSION_IDLE_SECONDS, settings.SESSION_COOKIE_AGE
    fresh = {sessions.STARTED: now - 10, sessions.SEEN: now - 10}
    assert sessions.expiry(fresh, now) is None
    # Idle ran out first (long ago), though the absolute limit has passed too.
    both = {sessions.STARTED: now - age - 1, sessions.SEEN: now - age - 1}
    assert sessions.expiry(both, now) == sessions.IDLE
    late = {sessions.STARTED: now - age, sessions.SEEN: now - idle + 1}
    assert sessions.expiry(late, now) == sessions.ABSOLUTE


def test_a_session_without_a_start_time_is_over(client, owner):
    """Sessions from before the limits existed are not trusted to be within them."""
    _sign_in(client)
    session = client.session
    del session[sessions.STARTED]
    session.save()
    assert client.get(reverse("dashboard")).status_code == 302
    assert AuditEvent.objects.get(action="core.session.expired").after == {"timeout": "absolute"}


def test_the_idle_limit_follows_the_setting(client, owner, settings):
    settings.SESSION_IDLE_SECONDS = 5 * 60
    _sign_in(client)
    _age(client, seen_ago=4 * 60)
    assert client.get(reverse("dashboard")).status_code == 200
    _age(client, seen_ago=5 * 60 + 1)
    assert client.get(reverse("dashboard")).status_code == 302
    assert b"after 5 minutes without activity" in client.get(reverse("login")).content


def test_an_expired_session_cannot_use_the_api(client, owner):
    _sign_in(client)
    assert client.get(reverse("api:model-versions")).status_code == 200
    _age(client, started_ago=8 * 3600 + 1)
    assert client.get(reverse("api:model-versions")).status_code == 401
    assert AuditEvent.objects.filter(action="core.session.expired", actor=owner).count() == 1


def test_an_expired_session_cannot_post(client, owner):
    from core.models import ApiToken

    _sign_in(client)
    _age(client, seen_ago=31 * 60)
    response = client.post(reverse("api-tokens"), {"name": "after hours"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not ApiToken.objects.exists()


def test_signing_in_again_starts_a_fresh_session(client, owner, settings):
    _sign_in(client)
    _age(client, seen_ago=settings.SESSION_IDLE_SECONDS + 1)
    assert client.get(reverse("dashboard")).status_code == 302
    _sign_in(client)
    assert client.get(reverse("dashboard")).status_code == 200
    assert _now() - client.session[sessions.STARTED] <= 1


def _setting(name, env):
    code = f"from django.conf import settings; print(settings.{name})"
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**clean, "APP_VAR_DIR": env.pop("APP_VAR_DIR"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "name", "value"),
    [
        ({}, "SESSION_IDLE_SECONDS", "1800"),
        ({"SESSION_IDLE_MINUTES": "45"}, "SESSION_IDLE_SECONDS", "2700"),
        ({}, "SESSION_COOKIE_AGE", "28800"),
        ({}, "PASSWORD_RESET_TIMEOUT", "3600"),
        ({"PASSWORD_RESET_TIMEOUT": "900"}, "PASSWORD_RESET_TIMEOUT", "900"),
    ],
)
def test_the_limits_come_from_the_environment(tmp_path, env, name, value):
    result = _setting(name, {"APP_VAR_DIR": str(tmp_path), **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == value


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SESSION_IDLE_MINUTES": "0"}, "SESSION_IDLE_MINUTES=0 is below the minimum of 1"),
        ({"SESSION_IDLE_MINUTES": "half"}, "SESSION_IDLE_MINUTES='half' is not an integer"),
        ({"PASSWORD_RESET_TIMEOUT": "60"}, "PASSWORD_RESET_TIMEOUT=60 is below the minimum"),
    ],
)
def test_a_bad_limit_stops_the_process_naming_it(tmp_path, env, message):
    result = _setting("SESSION_IDLE_SECONDS", {"APP_VAR_DIR": str(tmp_path), **env})
    assert result.returncode != 0
    assert message in result.stderr
