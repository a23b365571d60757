"""Checks of stored content against what was signed, contributed by the apps that own it.

``verify_audit`` and the periodic checkpoint job run every registered check beside the audit
chain's own verification; core knows nothing of what the checks look at. A check returns one
line per problem, naming the item and the field.
"""

from __future__ import annotations

from collections.abc import Callable

_CHECKS: dict[str, Callable[[], list[str]]] = {}
_NAMED: list[Callable[[object], str | None]] = []


def register(name: str, check: Callable[[], list[str]]) -> None:
    _CHECKS[name] = check


def register_named_in_signed_content(check: Callable[[object], str | None]) -> None:
    """``check(user)`` says why a person's username is part of signed content (None if it is
    not): such a username cannot change, or the content would no longer match its hash."""
    _NAMED.append(check)


def why_name_is_fixed(user: object) -> str | None:
    for check in _NAMED:
        reason = check(user)
        if reason:
            return reason
    return None


def run() -> dict[str, list[str]]:
    """Every registered check's problems, by check name (empty lists when all is well)."""
    return {name: check() for name, check in sorted(_CHECKS.items())}
