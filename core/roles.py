"""Roles as data: each role is a group holding exactly the permissions listed here.

Global permissions say what a role may do at all; object permissions (``core.access``) narrow
some of them to named models, e.g. an auditor who may read only the models they audit.
Later apps add their permission codenames to these tuples as their models arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.db import transaction


@dataclass(frozen=True)
class Role:
    slug: str
    name: str
    summary: str
    permissions: tuple[str, ...]


GOVERNANCE_LEAD = Role(
    slug="governance_lead",
    name="Governance lead",
    summary="Maintains the commitment register and publishes policy versions.",
    permissions=(
        "core.view_auditevent",
        "governance.add_policy",
        "governance.edit_register",
        "governance.publish_policyversion",
        "evaluations.view_model",
        "evaluations.add_evaluation",
        "releases.verify_safeguard",
    ),
)
PRODUCT_OWNER = Role(
    slug="product_owner",
    name="Product owner",
    summary="Registers model versions, brings in evaluation results, requests releases.",
    permissions=("evaluations.add_model",),
)
AUTHORITY = Role(
    slug="authority",
    name="Designated authority",
    summary="Signs release approvals and pause, restrict and lift decisions in scope.",
    permissions=("evaluations.view_model", "releases.verify_safeguard"),
)
AUDITOR = Role(
    slug="auditor",
    name="Auditor",
    summary="Reads everything in scope, browses the history, exports verifiable bundles.",
    permissions=("core.view_auditevent", "evaluations.view_model"),
)

SCOPED_AUDITOR = Role(
    slug="scoped_auditor",
    name="Auditor of named models",
    summary="Reads the history of the models they are granted, and the register; "
    "exports verifiable bundles of it.",
    # Reading a model is granted per model (evaluations.services.model_reader_grant).
    permissions=("core.view_auditevent",),
)
ROLES: tuple[Role, ...] = (GOVERNANCE_LEAD, PRODUCT_OWNER, AUTHORITY, AUDITOR, SCOPED_AUDITOR)
BY_SLUG = {role.slug: role for role in ROLES}
BY_GROUP_NAME = {role.name: role for role in ROLES}


class UnknownPermission(LookupError):
    pass


def _permission(codename: str) -> Permission:
    app_label, _, name = codename.partition(".")
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=name)
    except Permission.DoesNotExist:
        raise UnknownPermission(f"role permission {codename!r} does not exist") from None


@transaction.atomic
def sync_roles() -> list[Group]:
    """Create each role's group and give it exactly its declared permissions."""
    groups = []
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.name)
        group.permissions.set([_permission(codename) for codename in role.permissions])
        groups.append(group)
    return groups


def roles_of(user: Any) -> list[Role]:
    if not getattr(user, "is_authenticated", False):
        return []
    names = {group.name for group in user.groups.all()}
    return [role for role in ROLES if role.name in names]


def sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    # post_migrate fires once per app; permissions of every app exist only after the last.
    with_models = [config for config in global_apps.get_app_configs() if config.models_module]
    if with_models and sender.label == with_models[-1].label:
        sync_roles()
