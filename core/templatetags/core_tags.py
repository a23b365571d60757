from __future__ import annotations

import functools
import json
from typing import Any

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON for display; the template's autoescaping still applies."""
    if value is None:
        return "—"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


_CHECK = {"CheckboxInput"}
_SELECT = {"Select", "SelectMultiple"}
_MULTI_CHECK = {"CheckboxSelectMultiple", "RadioSelect"}


@register.filter
def bootstrap(bound_field: Any) -> str:
    """Render a form field's widget with Bootstrap's classes (and is-invalid on errors)."""
    widget = type(bound_field.field.widget).__name__
    if widget in _MULTI_CHECK:
        return str(bound_field.as_widget())
    css = (
        "form-check-input"
        if widget in _CHECK
        else "form-select"
        if widget in _SELECT
        else "form-control"
    )
    if bound_field.errors:
        css += " is-invalid"
    return str(bound_field.as_widget(attrs={"class": css}))


@register.filter
def audit_url(seq: int) -> str:
    """An audit event's page, as ``{% url 'oversight:audit-detail' seq %}`` gives it, without
    resolving the pattern again for each row of a long list."""
    return f"{get_script_prefix()}{_audit_path()}{int(seq)}/"


@functools.cache
def _audit_path() -> str:
    """The path of event 0's page after the script prefix, less the ``0/``: ``audit/``."""
    url = reverse("oversight:audit-detail", args=[0])
    return url[len(get_script_prefix()) :].removesuffix("0/")
