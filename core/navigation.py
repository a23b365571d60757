"""The navigation bar, per role: an entry appears only for users who may open it.

Each app adds its own entries (``register`` in its ``AppConfig.ready``), so ``core`` knows no
app above it; ``order`` places them.
"""

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
    order: int


STAFF = Rule("staff", lambda user: access.is_active_user(user) and user.is_staff)

_items: list[NavItem] = [
    NavItem("Dashboard", "dashboard", access.SIGNED_IN, order=0),
    NavItem("API tokens", "api-tokens", access.SIGNED_IN, order=85),
    NavItem("Admin console", "admin:index", STAFF, order=90),
]


def register(item: NavItem) -> None:
    if all(existing.url_name != item.url_name for existing in _items):
        _items.append(item)
        _items.sort(key=lambda existing: existing.order)


def items_for(user: AnyUser, current_path: str) -> list[dict[str, object]]:
    items = []
    for item in _items:
        if item.rule(user):
            url = reverse(item.url_name)
            active = current_path == url if url == "/" else current_path.startswith(url)
            items.append({"label": item.label, "url": url, "active": active})
    return items
