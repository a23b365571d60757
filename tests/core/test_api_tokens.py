import re

import pytest
from django.core.management import call_command

from core import tokens
from core.models import ApiToken, AuditEvent

pytestmark = pytest.mark.django_db


def test_a_person_makes_a_token_that_is_shown_once_and_stored_hashed(client, owner):
    client.force_login(owner)
    response = client.post("/account/tokens/", {"name": "CI runner"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = re.search(r'data-testid="new-token">([^<]+)<', response.content.decode()).group(1)
    stored = ApiToken.objects.get()
    assert (stored.user, stored.name, key.startswith(stored.prefix)) == (owner, "CI runner", True)
    assert key not in client.get("/account/tokens/").content.decode()
    assert tokens.user_for_key(key) == owner
    assert AuditEvent.objects.filter(action="core.api_token.created", actor=owner).exists()


def test_a_person_revokes_their_own_token_but_not_someone_elses(client, owner, lead):
    mine = tokens.token_create(actor=owner, user=owner, name="mine")
    theirs = tokens.token_create(actor=lead, user=lead, name="theirs")
    client.force_login(owner)
    assert client.post("/account/tokens/", {"revoke": theirs.token.pk}).status_code == 404
    assert client.post("/account/tokens/", {"revoke": mine.token.pk}).status_code == 302
    assert tokens.user_for_key(mine.key) is None
    assert tokens.user_for_key(theirs.key) == lead


def test_a_token_of_a_deactivated_person_stops_working(owner):
    created = tokens.token_create(actor=owner, user=owner, name="x")
    owner.is_active = False
    owner.save()
    assert tokens.user_for_key(created.key) is None


def test_the_command_prints_a_new_token_once(owner, capsys):
    call_command("create_api_token", "omar", name="pipeline")
    key = capsys.readouterr().out.strip()
    assert tokens.user_for_key(key) == owner
    assert ApiToken.objects.get().name == "pipeline"
