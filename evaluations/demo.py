"""Demo models for the embedded default: Orion, owned by the demo product owner, with two
versions: 2.0 whose current results rule every threshold out, and 2.1 which crosses CBRN-3."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from evaluations import ingestion, services
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import Evaluation, Model
from governance import content
from governance.models import PolicyVersion


@transaction.atomic
def seed_models(*, owner: User, lead: User) -> list[str]:
    """Idempotent: an existing Orion is left as it is. Returns the demo version labels."""
    if Model.objects.filter(slug="orion").exists():
        return ["orion-2.0", "orion-2.1"]
    policy = PolicyVersion.objects.governing()
    if policy is None:
        return []
    data = content.version_content(content.load_version(policy.pk))
    safe: dict[str, dict[str, float]] = {}
    for threshold in data["thresholds"]:
        for condition in threshold["conditions"]:
            # Well on the safe side of the alert line (or of the threshold if it has none).
            line = (
                condition["alert_value"]
                if condition["alert_value"] is not None
                else condition["value"]
            )
            margin = 0.5 if condition["comparator"] in (">=", ">") else 2.0
            safe.setdefault(condition["evaluation"], {})[condition["metric"]] = round(
                line * margin, 4
            )
    for key in sorted(safe):
        if not Evaluation.objects.filter(key=key).exists():
            services.evaluation_create(actor=lead, key=key, name=key.replace("_", " ").capitalize())
    orion = services.model_create(actor=owner, slug="orion", name="Orion", family="orion")
    when = timezone.now() - timedelta(days=2)
    for label, crossing in (("orion-2.0", {}), ("orion-2.1", {"bio_uplift_probe": 0.65})):
        services.model_version_create(actor=owner, model=orion, label=label)
        runs = [
            RunInput(
                model_version=label,
                evaluation=key,
                run_id=f"demo-{label}-{key}",
                status="success",
                harness="inspect",
                harness_version="0.3",
                completed_at=when,
                results=tuple(
                    ResultInput(
                        metric, crossing.get(key, value) if metric.endswith("accuracy") else value
                    )
                    for metric, value in metrics.items()
                ),
            )
            for key, metrics in sorted(safe.items())
        ]
        ingestion.ingest_runs(actor=owner, runs=runs, source="api")
    return ["orion-2.0", "orion-2.1"]
