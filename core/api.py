"""Shared pieces of the REST API: access rules as DRF permissions, and the declaration the
permission-matrix test reads on every view."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from core.access import Rule


class RulePermission(permissions.BasePermission):
    rule: Rule

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and self.rule(request.user))


def api_view(view_class: type[APIView], rule: Rule, **initkwargs: Any) -> Any:
    """``view_class.as_view()``, answering 401 (not a login redirect) without credentials and
    403 when ``rule`` says no; declared for the permission matrix."""
    permission = type(f"{view_class.__name__}Permission", (RulePermission,), {"rule": rule})
    view = view_class.as_view(permission_classes=[permission], **initkwargs)
    view.access_rule = rule
    return login_not_required(view)


def too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        {"detail": f"The request is larger than {limit // (1024 * 1024)} MB."}, status=413
    )


def content_length(request: Any) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
