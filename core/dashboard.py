"""Dashboard panels: each app adds its own (``register`` in ``AppConfig.ready``), so the
dashboard shows what exists without ``core`` knowing the apps above it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from core.access import Rule


@dataclass(frozen=True)
class Panel:
    template: str
    rule: Rule
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int


_panels: list[Panel] = []


def register(panel: Panel) -> None:
    if all(existing.template != panel.template for existing in _panels):
        _panels.append(panel)
        _panels.sort(key=lambda existing: existing.order)


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"template": panel.template, **panel.context(request)}
        for panel in _panels
        if panel.rule(request.user)
    ]
