"""The navigation bar, per role: an entry appears only for users who may open it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from core import access
from core.access import AnyUser, Rule


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    rule: Rule


STAFF = Rule("staff", lambda user: access.is_active_user(user) and user.is_staff)

NAV: tuple[NavItem, ...] = (
    NavItem("Dashboard", "dashboard", access.SIGNED_IN),
    NavItem("Audit trail", "audit-list", access.permission_rule("core.view_auditevent")),
    NavItem("Admin console", "admin:index", STAFF),
)


def items_for(user: AnyUser, current_path: str) -> list[dict[str, object]]:
    items = []
    for item in NAV:
        if item.rule(user):
            url = reverse(item.url_name)
            active = current_path == url if url == "/" else current_path.startswith(url)
            items.append({"label": item.label, "url": url, "active": active})
    return items
