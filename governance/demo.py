"""Demo register for the embedded default: the RSP-style template, with the demo
authorities, published by the demo governance lead."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core import signing
from governance import publishing, services
from governance.models import PauseAuthority, Policy, PolicyVersion

SLUG = "rsp-template"


@transaction.atomic
def seed_register(*, lead: User, authorities: list[User]) -> PolicyVersion:
    """Idempotent: a register that already holds the demo policy is left as it is."""
    existing = Policy.objects.filter(slug=SLUG).first()
    if existing is not None:
        return existing.versions.order_by("-number").first()  # type: ignore[return-value]
    draft = services.template_load(actor=lead, name="rsp")
    for person in authorities:
        services.item_save(
            actor=lead,
            item=PauseAuthority(
                version=draft,
                user=person,
                all_models=True,
                powers=[power.value for power in PauseAuthority.Power],
                valid_from=timezone.localdate().replace(month=1, day=1),
            ),
        )
    publishing.version_sign(actor=lead, version=draft, reauth=signing.demo_reauthentication(lead))
    draft.refresh_from_db()
    return draft
