"""A small but complete world for the security tests, built through the app's own services:
a published RSP-style policy with two authorities, Orion 2.1 (crossing CBRN-3: ASL-3) and a
submitted release of it."""

from __future__ import annotations

from typing import Any

from core import roles, signing
from evaluations import services as evaluation_services
from governance import publishing, services
from governance.models import PauseAuthority
from releases import services as release_services
from tests.conftest import make_person
from tests.governance.factories import designate
from tests.releases.conftest import at_asl3, version_with_runs


def build(*, lead: Any, owner: Any, authority: Any) -> dict[str, Any]:
    authority2 = make_person("bo", roles.AUTHORITY)
    draft = services.template_load(actor=lead, name="rsp")
    for person in (authority, authority2):
        services.item_save(actor=lead, item=PauseAuthority(
            version=draft, user=person, all_models=True, valid_from="2026-01-01",
            powers=["pause", "restrict", "lift", "approve"],
        ))  # fmt: skip
    designate(draft, lead)
    publishing.version_sign(actor=lead, version=draft, reauth=signing.demo_reauthentication(lead))
    draft.refresh_from_db()
    metrics = at_asl3(draft)
    for key in metrics:
        evaluation_services.evaluation_create(actor=lead, key=key, name=key)
    model = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    version = version_with_runs(owner, model, "orion-2.1", metrics)
    release = release_services.release_create(
        actor=owner, model_version=version, context="api", title="Orion on the API"
    )
    release = release_services.release_submit(actor=owner, release=release)
    return {
        "policy": draft,
        "authority2": authority2,
        "model": model,
        "version": version,
        "release": release,
    }
