from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

# outcome: (badge style, words)
_BADGES = {
    "crossed": ("danger", "crossed"),
    "cannot_rule_out": ("warning", "cannot rule out"),
    "alert": ("info", "alert"),
    "ruled_out": ("success", "ruled out"),
}


@register.filter
def outcome_badge(outcome: str) -> SafeString:
    """A determination's outcome as a badge; a dash for none (a heat map's empty cell)."""
    if outcome not in _BADGES:
        return format_html('<span class="text-secondary">—</span>')
    style, words = _BADGES[outcome]
    return format_html('<span class="badge text-bg-{}">{}</span>', style, words)
