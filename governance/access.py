"""Who may do what with the commitment register. Everyone signed in reads it."""

from __future__ import annotations

from core import access
from core.access import AnyUser

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
