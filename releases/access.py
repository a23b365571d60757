"""Who may do what with releases. Separation of duties lives here and in the services."""

from __future__ import annotations

from datetime import date

from core import access
from core.access import AnyUser
from evaluations import access as evaluation_access
from evaluations.recompute import policy_in_force
from governance.models import PauseAuthority
from releases.models import Release

VERIFY_PERM = "releases.verify_safeguard"


def can_view(user: AnyUser, release: Release) -> bool:
    return evaluation_access.can_view(user, release.model_version.model)


def can_request(user: AnyUser, release_model: object) -> bool:
    return evaluation_access.can_feed(user, release_model)  # type: ignore[arg-type]


def can_verify(user: AnyUser) -> bool:
    return access.has_perm(user, VERIFY_PERM)


def holds_power(user: AnyUser, power: str, model_slug: str, *, on: date) -> bool:
    """A designated authority of the policy in force, valid on ``on``, in scope, with ``power``."""
    policy = policy_in_force()
    if policy is None or not access.is_active_user(user) or user.pk is None:
        return False
    for authority in PauseAuthority.objects.filter(version=policy, user_id=int(user.pk)):
        valid = authority.valid_from <= on and (
            authority.valid_until is None or on <= authority.valid_until
        )
        in_scope = authority.all_models or model_slug in authority.model_slugs
        if valid and in_scope and power in authority.powers:
            return True
    return False
