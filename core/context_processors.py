from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core import navigation, roles


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": [], "embedded_mode": settings.EMBEDDED}
    return {
        "nav_items": navigation.items_for(user, request.path),
        "user_roles": roles.roles_of(user),
        "embedded_mode": settings.EMBEDDED,
    }
