"""Who may do what with releases. Separation of duties lives here and in the services."""

from __future__ import annotations

from datetime import date

from core import access
from core.access import AnyUser
from evaluations import access as evaluation_access
from governance import access as governance_access
from governance.access import holds_power, powers
from releases.models import Release

VERIFY_PERM = "releases.verify_safeguard"
__all__ = ["holds_power", "powers"]  # who holds an authority's power is the register's question


def can_view(user: AnyUser, release: Release) -> bool:
    return evaluation_access.can_view(user, release.model_version.model)


def can_request(user: AnyUser, release_model: object) -> bool:
    return evaluation_access.can_feed(user, release_model)  # type: ignore[arg-type]


def can_verify(user: AnyUser) -> bool:
    return access.has_perm(user, VERIFY_PERM)


def can_approve(user: AnyUser, release: Release, held: set[str]) -> bool:
    """Not the requester, the approve power (``held``: ``powers``), and a submitted release, or
    a deployed one whose gate has closed (its assessment changed since it was approved)."""
    awaiting = release.state == "submitted" or (
        release.state == "deployed" and not release.gate_allowed
    )
    return release.requested_by_id != user.pk and awaiting and "approve" in held


def can_propose(
    user: AnyUser, kind: str, slug: str, *, on: date, held: set[str] | None = None
) -> bool:
    """A decision of ``kind`` ("pause", "restrict" or "lift") on model ``slug`` is proposed by a
    governance lead or by an authority holding that power then (``held``: ``powers``, when the
    caller has them)."""
    if governance_access.can_edit_register(user):
        return True
    return kind in held if held is not None else holds_power(user, kind, slug, on=on)
