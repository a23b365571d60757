"""Demo people for the embedded default: one per role, and an administrator.

Passwords are random per installation, kept in ``var/demo-passwords.json`` (mode 0600) so a
second ``make run`` prints the same ones; none is written in the repository.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from core import roles, services

ACTOR = "system:seed_demo"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    full_name: str
    role: roles.Role | None
    superuser: bool = False


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("lead", "Lena Lead", roles.GOVERNANCE_LEAD),
    DemoPerson("owner", "Omar Owner", roles.PRODUCT_OWNER),
    DemoPerson("authority", "Ada Authority", roles.AUTHORITY),
    DemoPerson("authority2", "Bo Authority", roles.AUTHORITY),
    DemoPerson("auditor", "Aud Itor", roles.AUDITOR),
    DemoPerson("admin", "Sam Admin", None, superuser=True),
)


def _load_passwords(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {str(key): str(value) for key, value in data.items()} if isinstance(data, dict) else {}


def _save_passwords(path: Path, passwords: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(passwords, indent=2, sort_keys=True))


@transaction.atomic
def seed_people(*, password_file: Path) -> dict[str, str]:
    """Create the demo people that are missing; return every demo login's password.

    Idempotent: existing people keep their password unless the password file lost it, in
    which case a new one is set and recorded.
    """
    user_model = get_user_model()
    passwords = _load_passwords(password_file)
    for person in PEOPLE:
        user = user_model.objects.filter(username=person.username).first()
        known = passwords.get(person.username)
        if user is None:
            known = known or secrets.token_urlsafe(12)
            first, _, last = person.full_name.partition(" ")
            services.user_create(
                actor=ACTOR,
                username=person.username,
                email=f"{person.username}@example.org",
                first_name=first,
                last_name=last,
                password=known,
                is_superuser=person.superuser,
                roles=[person.role] if person.role else [],
            )
        elif known is None or not user.check_password(known):
            known = secrets.token_urlsafe(12)
            user.set_password(known)
            user.save(update_fields=["password"])
        passwords[person.username] = known
    _save_passwords(password_file, passwords)
    return {person.username: passwords[person.username] for person in PEOPLE}
