from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import CommandError, CommandParser

from governance import access


def add_user_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--user",
        required=True,
        help="the governance lead the change is recorded under (the audit trail names them)",
    )


def lead(username: str) -> User:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active person is called {username!r}.")
    if not access.can_edit_register(user):
        raise CommandError(f"{username} is not a governance lead: only leads change the register.")
    return user
