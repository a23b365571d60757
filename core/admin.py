"""The admin console: read-mostly.

Audit events are read-only. People are managed here (create, deactivate, reset a password),
but roles change only through the grant / revoke actions, which go through the audited
services; the raw group and permission fields are not editable.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from core import integrity, roles, services
from core.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("seq", "occurred_at", "actor_label", "action", "object_type", "object_repr")
    list_filter = ("action",)
    search_fields = ("actor_label", "action", "object_repr", "object_id")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _acting_user(request: HttpRequest) -> AbstractBaseUser:
    if not isinstance(request.user, AbstractBaseUser):  # the console serves signed-in staff only
        raise PermissionDenied
    return request.user


def _role_action(role: roles.Role, *, grant: bool) -> Any:
    verb = "Grant" if grant else "Revoke"

    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        service = services.role_grant if grant else services.role_revoke
        actor = _acting_user(request)
        changed = sum(service(actor=actor, user=user, role=role) for user in queryset)
        modeladmin.message_user(
            request, f"{verb} {role.name}: {changed} user(s) changed.", messages.SUCCESS
        )

    action.__name__ = f"{verb.lower()}_{role.slug}"
    return admin.action(description=f"{verb} role: {role.name}", permissions=["change"])(action)


user_model = get_user_model()
admin.site.unregister(user_model)
admin.site.unregister(Group)


class PersonChangeForm(UserChangeForm):  # type: ignore[type-arg]
    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if self.instance.pk and username != self.initial.get("username"):
            reason = integrity.why_name_is_fixed(self.instance)
            if reason:
                raise forms.ValidationError(reason)
        return username


@admin.register(user_model)
class PersonAdmin(UserAdmin):  # type: ignore[type-arg]
    form = PersonChangeForm
    list_display = ("username", "email", "is_active", "is_staff", "role_names", "last_login")
    list_filter = ("is_active", "is_staff", "groups")
    readonly_fields = ("last_login", "date_joined", "role_names")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active", "is_staff", "is_superuser", "role_names")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    actions = [_role_action(role, grant=grant) for role in roles.ROLES for grant in (True, False)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def role_names(self, obj: Any) -> str:
        return ", ".join(role.name for role in roles.roles_of(obj)) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # people are deactivated, never deleted: the audit trail points at them

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = services.user_snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        services.user_saved_in_console(
            actor=_acting_user(request),
            user=obj,
            before=before,
            changed_fields=form.changed_data,
        )

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, id)
                if user is not None:
                    services.password_set_in_console(actor=_acting_user(request), user=user)
        return response
