import pytest
from django.urls import reverse

from core import audit, roles
from core.models import AuditEvent
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


def test_audit_events_are_read_only_in_the_console(client, superuser):
    event = audit.record(action="core.test.happened", actor="system:tests")
    client.force_login(superuser)
    change_url = reverse("admin:core_auditevent_change", args=[event.seq])
    page = client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(change_url, {"reason": "edited"}).status_code == 403
    delete_url = reverse("admin:core_auditevent_delete", args=[event.seq])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:core_auditevent_add")).status_code == 403
    assert AuditEvent.objects.get(seq=event.seq).reason == ""


def test_roles_are_granted_in_the_console_through_the_audited_service(client, superuser, outsider):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "grant_auditor", "_selected_action": [outsider.pk]},
    )
    assert response.status_code == 302
    assert roles.roles_of(outsider) == [roles.AUDITOR]
    event = AuditEvent.objects.filter(action="core.role.granted").latest("seq")
    assert (event.actor_id, event.after) == (superuser.pk, {"role": "auditor"})


def test_a_password_set_in_the_console_is_audited_without_the_password(client, superuser, outsider):
    client.force_login(superuser)
    url = reverse("admin:auth_user_password_change", args=[outsider.pk])
    new = "a-brand-new-passphrase-42"
    response = client.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302
    outsider.refresh_from_db()
    assert outsider.check_password(new)
    event = AuditEvent.objects.get(action="core.user.password_set")
    assert (event.actor_id, event.object_id) == (superuser.pk, str(outsider.pk))
    assert new not in str(event.before) + str(event.after)


def test_role_actions_need_the_change_permission(client, outsider):
    from django.contrib.auth.models import Permission

    outsider.is_staff = True
    outsider.save()
    outsider.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(outsider)
    page = client.get(reverse("admin:auth_user_changelist"))
    assert page.status_code == 200
    assert b"grant_governance_lead" not in page.content
    client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "grant_governance_lead", "_selected_action": [outsider.pk]},
    )
    assert roles.roles_of(outsider) == []


def test_people_are_deactivated_not_deleted(client, superuser, outsider):
    client.force_login(superuser)
    delete_url = reverse("admin:auth_user_delete", args=[outsider.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403


def test_console_edits_of_a_person_are_audited(client, superuser, outsider):
    client.force_login(superuser)
    url = reverse("admin:auth_user_change", args=[outsider.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "username": "oscar",
            "email": "oscar@new.example.org",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
    )
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.filter(action="core.user.changed").latest("seq")
    assert "email" in event.after["changed_fields"]
    assert (event.before["email"], event.after["email"]) == (
        "oscar@example.org",
        "oscar@new.example.org",
    )
    assert event.actor_id == superuser.pk


def test_a_person_named_in_a_published_register_keeps_their_username(
    client, superuser, lead, authority
):
    """Signed register content names authorities by username: renaming one would make the
    register fail its integrity check and shut every gate, so the console refuses it."""
    from core import signing
    from governance import publishing
    from governance import services as governance_services
    from tests.governance.factories import designate

    draft = governance_services.template_load(actor=lead, name="rsp")
    designate(draft, lead, authority, make_person("bo", roles.AUTHORITY))
    publishing.version_sign(actor=lead, version=draft, reauth=signing.demo_reauthentication(lead))
    client.force_login(superuser)
    url = reverse("admin:auth_user_change", args=[authority.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"username": "ada2", "is_active": "on", "date_joined_0": "2026-01-01",
                 "date_joined_1": "00:00:00"})  # fmt: skip
    data.pop("last_login", None)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "rsp-template:1" in str(response.context["adminform"].form.errors["username"])
    authority.refresh_from_db()
    assert authority.username == "ada"
    data["username"] = "ada"
    data["first_name"] = "Ada L."
    assert client.post(url, data).status_code == 302
