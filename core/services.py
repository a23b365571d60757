"""Writes to people and their roles. Each one records its audit event in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AbstractUser, Group
from django.db import transaction

from core import audit, counters
from core.roles import Role

Actor = AbstractBaseUser | str


def user_snapshot(user: AbstractUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    }


@transaction.atomic
def user_create(
    *,
    actor: Actor,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    is_superuser: bool = False,
    roles: Iterable[Role] = (),
) -> AbstractUser:
    user_model = get_user_model()
    user: AbstractUser = user_model(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.full_clean()
    user.save()
    audit.record(action="core.user.created", actor=actor, obj=user, after=user_snapshot(user))
    for role in roles:
        role_grant(actor=actor, user=user, role=role)
    return user


@transaction.atomic
def user_saved_in_console(
    *,
    actor: Actor,
    user: AbstractUser,
    before: dict[str, Any] | None,
    changed_fields: Iterable[str],
) -> None:
    """The admin console saved ``user`` (it writes the row itself); record what changed."""
    changed = sorted(set(changed_fields) - {"password"})
    if before is not None and not changed:
        return
    counters.bump(counters.PEOPLE)  # who may act may have changed: caches on it are rebuilt
    audit.record(
        action="core.user.created" if before is None else "core.user.changed",
        actor=actor,
        obj=user,
        before=before,
        after={**user_snapshot(user), "changed_fields": changed},
    )


@transaction.atomic
def password_set_in_console(*, actor: Actor, user: AbstractUser) -> None:
    """An administrator set someone's password. The password itself is never recorded."""
    audit.record(action="core.user.password_set", actor=actor, obj=user)


@transaction.atomic
def password_reset(*, user: AbstractUser, password: str) -> None:
    """The person proved they hold the account's mailbox (a reset link) and chose a new
    password. Never recorded: the password. Changing it spends the link (its token hashes the
    old password) and ends every other session of theirs (their session hash changes)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(action="core.password.reset", actor=user, obj=user)


@transaction.atomic
def role_grant(*, actor: Actor, user: AbstractUser, role: Role) -> bool:
    group, _ = Group.objects.get_or_create(name=role.name)
    if user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.add(group)
    counters.bump(counters.PEOPLE)
    audit.record(action="core.role.granted", actor=actor, obj=user, after={"role": role.slug})
    return True


@transaction.atomic
def role_revoke(*, actor: Actor, user: AbstractUser, role: Role) -> bool:
    group = Group.objects.filter(name=role.name).first()
    if group is None or not user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.remove(group)
    counters.bump(counters.PEOPLE)
    audit.record(action="core.role.revoked", actor=actor, obj=user, before={"role": role.slug})
    return True
