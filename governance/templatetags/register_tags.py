from __future__ import annotations

from django import template

from governance.validation import number

register = template.Library()


@register.filter(name="threshold_number")
def threshold_number(value: float | None) -> str:
    """0.45 as 0.45 and 60.0 as 60: a threshold value as people write it."""
    return "" if value is None else number(value)
