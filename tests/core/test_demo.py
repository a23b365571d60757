import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from core import demo, roles
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_seed_creates_one_person_per_role_and_is_idempotent(tmp_path):
    password_file = tmp_path / "demo-passwords.json"
    first = demo.seed_people(password_file=password_file)
    events = AuditEvent.objects.count()
    second = demo.seed_people(password_file=password_file)
    assert first == second
    assert AuditEvent.objects.count() == events
    assert set(first) == {"lead", "owner", "authority", "authority2", "auditor", "admin"}
    assert password_file.stat().st_mode & 0o777 == 0o600
    users = get_user_model().objects.in_bulk(field_name="username")
    for person in demo.PEOPLE:
        assert users[person.username].check_password(first[person.username])
        assert roles.roles_of(users[person.username]) == ([person.role] if person.role else [])
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not users["lead"].is_staff


def test_a_lost_password_file_gets_fresh_passwords_that_work(tmp_path):
    password_file = tmp_path / "demo-passwords.json"
    old = demo.seed_people(password_file=password_file)
    password_file.unlink()
    new = demo.seed_people(password_file=password_file)
    assert new["lead"] != old["lead"]
    assert get_user_model().objects.get(username="lead").check_password(new["lead"])


def test_seed_demo_prints_the_logins(settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    settings.EMBEDDED = True
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "lead" in out and "Governance lead" in out


def test_seed_demo_refuses_outside_the_embedded_default(settings):
    settings.EMBEDDED = False
    with pytest.raises(CommandError, match="embedded default"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
