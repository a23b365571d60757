"""A small but complete world for the security tests, built through the app's own services:
a published RSP-style policy with two authorities, Orion 2.1 (crossing CBRN-3: ASL-3) and a
submitted release of it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core import roles, signing
from evaluations import ingestion, recompute
from evaluations import services as evaluation_services
from evaluations.ingestion import ResultInput, RunInput
from governance import content, publishing, services
from governance.models import PauseAuthority
from releases import services as release_services
from tests.conftest import make_person


def build(*, lead: Any, owner: Any, authority: Any) -> dict[str, Any]:
    authority2 = make_person("bo", roles.AUTHORITY)
    draft = services.template_load(actor=lead, name="rsp")
    for person in (authority, authority2):
        services.item_save(actor=lead, item=PauseAuthority(
            version=draft, user=person, all_models=True, valid_from="2026-01-01",
            powers=["pause", "restrict", "lift", "approve"],
        ))  # fmt: skip
    publishing.version_sign(actor=lead, version=draft, reauth=signing.demo_reauthentication(lead))
    draft.refresh_from_db()
    data = content.version_content(content.load_version(draft.pk))
    metrics: dict[str, dict[str, float]] = {}
    for threshold in data["thresholds"]:
        for condition in threshold["conditions"]:
            safe = 0.0 if condition["comparator"] in (">=", ">") else 1e6
            metrics.setdefault(condition["evaluation"], {})[condition["metric"]] = safe
    for key in metrics:
        evaluation_services.evaluation_create(actor=lead, key=key, name=key)
    model = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    version = evaluation_services.model_version_create(actor=owner, model=model, label="orion-2.1")
    metrics["bio_uplift_probe"]["includes/accuracy"] = 0.65
    runs = [
        RunInput(model_version="orion-2.1", evaluation=key, run_id=f"r-{key}", status="success",
                 completed_at=datetime.now(UTC),
                 results=tuple(ResultInput(m, v) for m, v in values.items()))
        for key, values in metrics.items()
    ]  # fmt: skip
    ingestion.ingest_runs(actor=owner, runs=runs, source="api")
    recompute.recompute(version.pk)
    version.refresh_from_db()
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
