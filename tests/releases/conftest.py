from datetime import UTC, datetime

import pytest

from core import roles, signing
from evaluations import ingestion, recompute
from evaluations import services as evaluation_services
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import ModelVersion
from governance import content, publishing, services
from governance.models import PauseAuthority
from releases import assessment
from releases import services as release_services
from tests.conftest import make_person


@pytest.fixture
def authority2(db):
    return make_person("bo", roles.AUTHORITY)


@pytest.fixture
def policy(lead, authority, authority2):
    return publish_with_authorities(lead, authority, authority2)


def publish_with_authorities(lead, authority, authority2):
    """RSP-style, published, with two authorities holding every power over every model."""
    draft = services.template_load(actor=lead, name="rsp")
    for person in (authority, authority2):
        services.item_save(actor=lead, item=PauseAuthority(
            version=draft, user=person, all_models=True, valid_from="2026-01-01",
            powers=["pause", "restrict", "lift", "approve"],
        ))  # fmt: skip
    # Two signatures publish it, and two authorities make a decision take effect.
    services.version_update(actor=lead, version=draft, changes={"signing_quorum": 2})
    second = make_person("lorna", roles.GOVERNANCE_LEAD)
    for person in (lead, second):
        publishing.version_sign(
            actor=person, version=draft, reauth=signing.demo_reauthentication(person)
        )
    draft.refresh_from_db()
    return draft


def safe_metrics(policy) -> dict[str, dict[str, float]]:
    """For each evaluation the policy's thresholds read, a value of each metric that rules its
    threshold out."""
    data = content.version_content(content.load_version(policy.pk))
    metrics: dict[str, dict[str, float]] = {}
    for threshold in data["thresholds"]:
        for c in threshold["conditions"]:
            safe = 0.0 if c["comparator"] in (">=", ">") else 1e6
            metrics.setdefault(c["evaluation"], {})[c["metric"]] = safe
    return metrics


def version_with_runs(owner, model, label, metrics) -> ModelVersion:
    """A new model version with a current, successful run of each evaluation in ``metrics``,
    recomputed."""
    version = evaluation_services.model_version_create(actor=owner, model=model, label=label)
    runs = [
        RunInput(model_version=label, evaluation=key, run_id=f"r-{key}", status="success",
                 completed_at=datetime.now(UTC),
                 results=tuple(ResultInput(m, v) for m, v in values.items()))
        for key, values in metrics.items()
    ]  # fmt: skip
    ingestion.ingest_runs(actor=owner, runs=runs, source="api")
    recompute.recompute(version.pk)
    return ModelVersion.objects.get(pk=version.pk)


def at_asl3(policy) -> dict[str, dict[str, float]]:
    """Like Orion 2.1: every threshold ruled out but CBRN-3, which it crosses (ASL-3)."""
    metrics = safe_metrics(policy)
    metrics["bio_uplift_probe"]["includes/accuracy"] = 0.65
    return metrics


@pytest.fixture
def orion_21(lead, owner, policy):
    """Orion 2.1: every threshold ruled out but CBRN-3, which it crosses: ASL-3 (quorum 2)."""
    metrics = at_asl3(policy)
    for key in metrics:
        evaluation_services.evaluation_create(actor=lead, key=key, name=key)
    model = evaluation_services.model_create(actor=owner, slug="orion", name="Orion")
    return version_with_runs(owner, model, "orion-2.1", metrics)


def submitted(owner, version, context="api"):
    """A release of ``version`` requested by ``owner`` and submitted."""
    release = release_services.release_create(
        actor=owner, model_version=version, context=context, title=context
    )
    return release_services.release_submit(actor=owner, release=release)


def verify_all(owner, verifier, release, text="in place"):
    """Evidence for every safeguard the release's level requires, each verified."""
    for code in [s["code"] for s in assessment.required_safeguards(release)]:
        release_services.safeguard_implement(actor=owner, release=release, code=code, text=text)
        release_services.safeguard_verify(actor=verifier, release=release, code=code)


def approve(person, release):
    """``person`` approves the release's current assessment (re-read first)."""
    release.refresh_from_db()
    return release_services.release_approve(
        actor=person,
        release=release,
        seen_sha256=release.assessment_sha256,
        reauth=signing.demo_reauthentication(person),
    )
