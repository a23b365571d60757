from __future__ import annotations

import json
from typing import Any

from django import template

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
