"""Named counters that caches are keyed by (``core.models.Counter``).

``PEOPLE`` moves whenever a person's account or roles change (activated, deactivated, renamed,
a role granted or revoked): anything cached on who may act (a release gate counting approvers)
is rebuilt after such a change.
"""

from __future__ import annotations

from django.db.models import F, Subquery
from django.db.models.functions import Coalesce

from core.models import Counter

PEOPLE = "people"


def bump(name: str) -> None:
    """Move the counter, in the caller's transaction."""
    if not Counter.objects.filter(name=name).update(value=F("value") + 1):
        Counter.objects.get_or_create(name=name, defaults={"value": 1})


def value(name: str) -> int:
    return Counter.objects.filter(name=name).values_list("value", flat=True).first() or 0


def current(name: str) -> Coalesce:
    """The counter's value as a subquery, to annotate a read with (no query of its own)."""
    return Coalesce(Subquery(Counter.objects.filter(name=name).values("value")[:1]), 0)
