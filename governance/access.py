"""Who may do what with the commitment register. Everyone signed in reads it."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User

from core import access
from core.access import AnyUser
from governance.models import PauseAuthority, PolicyVersion

EDIT_PERM = "governance.edit_register"
PUBLISH_PERM = "governance.publish_policyversion"
CREATE_PERM = "governance.add_policy"

READ = access.SIGNED_IN
EDIT = access.permission_rule(EDIT_PERM)
CREATE = access.permission_rule(CREATE_PERM)
PUBLISH = access.permission_rule(PUBLISH_PERM)


def can_edit_register(user: AnyUser) -> bool:
    return access.has_perm(user, EDIT_PERM)


def can_publish(user: AnyUser) -> bool:
    return access.has_perm(user, PUBLISH_PERM)


def can_create_policy(user: AnyUser) -> bool:
    return access.has_perm(user, CREATE_PERM)


def designated_authorities() -> list[PauseAuthority]:
    """The active people designated as authorities by the governing policy, any scope."""
    return authorities_of(PolicyVersion.objects.governing())


def authorities_of(
    policy: PolicyVersion | None, *, user: AnyUser | None = None
) -> list[PauseAuthority]:
    """The active people a policy version designates as authorities, any scope (only ``user``'s
    designations, when the question is what one person may do)."""
    if policy is None:
        return []
    if user is not None:
        if not access.is_active_user(user) or not isinstance(user, User):
            return []
        return list(PauseAuthority.objects.filter(version=policy, user=user))
    return list(
        PauseAuthority.objects.filter(version=policy, user__is_active=True).select_related("user")
    )


def authorities_in_scope(
    model_slug: str, *, on: date, designated: list[PauseAuthority] | None = None
) -> list[PauseAuthority]:
    """The designated authorities of the governing policy covering a model on a day (from
    ``designated``, when a batch has read them already)."""
    rows = designated_authorities() if designated is None else designated
    return [authority for authority in rows if authority.covers(model_slug, on)]


def powers(
    user: AnyUser, model_slug: str, *, on: date, designated: list[PauseAuthority] | None = None
) -> set[str]:
    """The powers a person holds over a model on a day, as a designated authority (among
    ``designated``, when the caller has read them)."""
    if not access.is_active_user(user) or not isinstance(user, User):
        return set()
    return {
        power
        for authority in authorities_in_scope(model_slug, on=on, designated=designated)
        if authority.user_id == user.pk
        for power in authority.powers
    }


def holds_power(user: AnyUser, power: str, model_slug: str, *, on: date) -> bool:
    """A designated authority of the governing policy, valid on ``on``, in scope, with ``power``."""
    return power in powers(user, model_slug, on=on)
