"""Password reset by e-mail: no enumeration, single-use expiring links, other sessions end,
and the reset is audited."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-new-and-long-passphrase-42"
LINK = re.compile(r"https?://testserver(/password-reset/[^/\s]+/[^/\s]+/)")


def _request_reset(client, email):
    return client.post(reverse("password-reset"), {"email": email})


def _link_from_mail():
    assert len(mail.outbox) == 1
    return LINK.search(mail.outbox[0].body).group(1)


def _set_password(client, link, password=NEW_PASSWORD):
    """Open the link (which moves the token out of the address) and set the password."""
    opened = client.get(link)
    assert opened.status_code == 302
    assert opened["Location"].endswith("/set-password/")
    return client.post(opened["Location"], {"new_password1": password, "new_password2": password})


def _signs_in(password, username="omar"):
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def test_the_login_page_links_to_the_reset(client):
    response = client.get(reverse("login"))
    assert f'href="{reverse("password-reset")}"'.encode() in response.content
    page = client.get(reverse("password-reset"))
    assert page.status_code == 200
    assert b'name="email"' in page.content


def test_the_answer_is_the_same_whether_or_not_the_address_is_known(client, owner):
    known = _request_reset(client, "omar@example.org")
    assert len(mail.outbox) == 1
    unknown = _request_reset(client, "nobody@example.org")
    assert len(mail.outbox) == 1  # nothing sent for an unknown address
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password-reset-done")
    assert known.content == unknown.content
    done = client.get(reverse("password-reset-done"))
    assert b"If an account uses that address" in done.content
    assert b"for 60 minutes" in done.content


def test_an_inactive_person_gets_no_link(client, owner):
    owner.is_active = False
    owner.save()
    response = _request_reset(client, "omar@example.org")
    assert response["Location"] == reverse("password-reset-done")
    assert mail.outbox == []


def test_the_mail_holds_a_link_and_no_password(client, owner):
    _request_reset(client, "OMAR@example.org")  # addresses match whatever their case
    message = mail.outbox[0]
    assert message.to == ["omar@example.org"]
    assert message.subject == "Reset your password for Scaling governance"
    assert "omar" in message.body and "within 60 minutes" in message.body
    assert PASSWORD not in message.body
    assert _link_from_mail()


def test_the_link_sets_a_new_password_once_and_it_is_audited(client, owner):
    _request_reset(client, "omar@example.org")
    link = _link_from_mail()
    response = _set_password(client, link)
    assert response.status_code == 302
    assert response["Location"] == reverse("password-reset-complete")
    assert b"Sign in with the new password" in client.get(response["Location"]).content
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert _signs_in(NEW_PASSWORD) and not _signs_in(PASSWORD)
    event = AuditEvent.objects.get(action="core.password.reset")
    assert (event.actor_id, event.object_id) == (owner.pk, str(owner.pk))
    assert NEW_PASSWORD not in str(event.after) + str(event.before) + event.reason
    # The same link again: spent.
    again = Client().get(link, follow=True)
    assert b'data-testid="password-reset-invalid"' in again.content
    assert AuditEvent.objects.filter(action="core.password.reset").count() == 1


def test_a_spent_link_cannot_set_the_password_again(client, owner):
    _request_reset(client, "omar@example.org")
    link = _link_from_mail()
    attacker = Client()
    opened = attacker.get(link)  # the attacker holds the link too, opened before the owner
    assert _set_password(client, link).status_code == 302
    late = attacker.post(
        opened["Location"], {"new_password1": "attacker-choice-9876", "new_password2": "x"}
    )
    assert b'data-testid="password-reset-invalid"' in late.content
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def _link_made_ago(user, seconds):
    generator = default_token_generator
    made_at = generator._num_seconds(generator._now()) - seconds
    token = generator._make_token_with_timestamp(user, made_at, generator.secret)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password-reset-confirm", kwargs={"uidb64": uid, "token": token})


def test_a_link_expires_after_the_timeout(client, owner, settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    expired = client.get(_link_made_ago(owner, 3600 + 5), follow=True)
    assert b'data-testid="password-reset-invalid"' in expired.content
    fresh = client.get(_link_made_ago(owner, 3600 - 60))
    assert fresh.status_code == 302  # still good: on to the form
    assert _set_password(client, _link_made_ago(owner, 3600 - 60)).status_code == 302


def test_the_timeout_follows_the_setting(client, owner, settings):
    settings.PASSWORD_RESET_TIMEOUT = 600
    expired = client.get(_link_made_ago(owner, 601), follow=True)
    assert b'data-testid="password-reset-invalid"' in expired.content


def test_a_forged_link_changes_nothing(client, owner):
    uid = urlsafe_base64_encode(force_bytes(owner.pk))
    url = reverse("password-reset-confirm", kwargs={"uidb64": uid, "token": "set-password"})
    response = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert b'data-testid="password-reset-invalid"' in response.content
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="core.password.reset").exists()


def test_the_reset_ends_every_other_session(client, owner):
    elsewhere = Client()
    assert (
        elsewhere.post(reverse("login"), {"username": "omar", "password": PASSWORD}).status_code
        == 302
    )
    assert elsewhere.get(reverse("dashboard")).status_code == 200
    _request_reset(client, "omar@example.org")
    _set_password(client, _link_from_mail())
    response = elsewhere.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in elsewhere.session


def test_a_weak_password_is_refused(client, owner):
    _request_reset(client, "omar@example.org")
    response = _set_password(client, _link_from_mail(), password="short")
    assert response.status_code == 200
    assert b"invalid-feedback" in response.content
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="core.password.reset").exists()


def test_reset_mails_to_one_address_are_limited_and_the_limit_reveals_nothing(
    client, owner, settings
):
    settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR = 2
    answers = [_request_reset(client, "Omar@Example.org ") for _ in range(4)]
    assert len(mail.outbox) == 2  # the address, however it is written, counts once
    assert {(a.status_code, a["Location"]) for a in answers} == {
        (302, reverse("password-reset-done"))
    }
    assert len({a.content for a in answers}) == 1
    # Another person's address is not held back by it.
    from tests.conftest import make_person

    make_person("rita")
    _request_reset(client, "rita@example.org")
    assert len(mail.outbox) == 3


def test_reset_mails_from_one_client_are_limited(client, owner, settings):
    settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR = 3
    for n in range(3):
        _request_reset(client, f"unknown-{n}@example.org")
    _request_reset(client, "omar@example.org")  # a known address, past the client's limit
    assert mail.outbox == []
    elsewhere = Client(REMOTE_ADDR="10.1.2.3")
    _request_reset(elsewhere, "omar@example.org")
    assert len(mail.outbox) == 1


def test_old_reset_requests_are_forgotten(client, owner, settings):
    from datetime import timedelta

    from django.utils import timezone

    from core.models import ResetRequest

    settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR = 1
    _request_reset(client, "omar@example.org")
    ResetRequest.objects.update(requested_at=timezone.now() - timedelta(hours=2))
    _request_reset(client, "omar@example.org")  # the hour has passed
    assert len(mail.outbox) == 2
    ResetRequest.objects.update(requested_at=timezone.now() - timedelta(days=2))
    _request_reset(client, "nobody@example.org")
    assert (
        ResetRequest.objects.filter(requested_at__lt=timezone.now() - timedelta(days=1)).count()
        == 0
    )
    assert ResetRequest.objects.count() == 2  # the last request's two keys, none of its raw text
    assert not ResetRequest.objects.filter(key__contains="example").exists()
