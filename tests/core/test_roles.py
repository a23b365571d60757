import pytest
from django.contrib.auth.models import Group

from core import roles
from core.models import AuditEvent
from core.services import role_grant, role_revoke

pytestmark = pytest.mark.django_db


def _codenames(group):
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migrate_leaves_one_group_per_role_with_exactly_its_permissions():
    for role in roles.ROLES:
        assert _codenames(Group.objects.get(name=role.name)) == set(role.permissions)


def test_sync_removes_permissions_added_by_hand():
    group = Group.objects.get(name=roles.PRODUCT_OWNER.name)
    group.permissions.add(roles._permission("core.view_auditevent"))
    roles.sync_roles()
    assert _codenames(group) == set(roles.PRODUCT_OWNER.permissions)


def test_a_role_naming_a_missing_permission_fails_loudly(monkeypatch):
    broken = roles.Role("ghost", "Ghost", "", ("core.haunt_house",))
    monkeypatch.setattr(roles, "ROLES", (*roles.ROLES, broken))
    with pytest.raises(roles.UnknownPermission, match=r"core\.haunt_house"):
        roles.sync_roles()
    assert not Group.objects.filter(name="Ghost").exists()


def test_granting_and_revoking_a_role_is_audited_once(lead, outsider):
    assert role_grant(actor=lead, user=outsider, role=roles.AUDITOR)
    assert not role_grant(actor=lead, user=outsider, role=roles.AUDITOR)
    assert roles.roles_of(outsider) == [roles.AUDITOR]
    assert outsider.has_perm("core.view_auditevent")
    assert role_revoke(actor=lead, user=outsider, role=roles.AUDITOR)
    assert not role_revoke(actor=lead, user=outsider, role=roles.AUDITOR)
    events = AuditEvent.objects.filter(object_id=str(outsider.pk), action__startswith="core.role")
    assert [(e.action, e.actor_label) for e in events] == [
        ("core.role.granted", "lena"),
        ("core.role.revoked", "lena"),
    ]
