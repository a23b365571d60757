"""Which moves a release may make: a literal map, and nothing else (services enforce it)."""

from __future__ import annotations

DRAFT, SUBMITTED, APPROVED, DEPLOYED, WITHDRAWN = (
    "draft",
    "submitted",
    "approved",
    "deployed",
    "withdrawn",
)

TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({SUBMITTED, WITHDRAWN}),
    # An approval that goes stale (the assessment changed) sends an approved release back.
    SUBMITTED: frozenset({APPROVED, WITHDRAWN}),
    APPROVED: frozenset({DEPLOYED, SUBMITTED, WITHDRAWN}),
    DEPLOYED: frozenset({WITHDRAWN}),
    WITHDRAWN: frozenset(),
}


class IllegalMove(Exception):
    def __init__(self, current: str, target: str) -> None:
        self.current, self.target = current, target
        super().__init__(f"a {current} release cannot become {target}")


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_move(current: str, target: str) -> None:
    if not can_move(current, target):
        raise IllegalMove(current, target)
