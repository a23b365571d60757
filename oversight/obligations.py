"""What is due: the commitments that lapse with time unless someone acts.

* evidence going stale: a threshold ruled out (or at its alert line) on a run older than the
  re-evaluation interval of the policy in force, or within ``SOON`` of it;
* safeguard verifications older than a year;
* open escalations (blocked releases), oldest first;
* draft policy versions waiting for their signatures;
* decisions proposed but short of their quorum.

Model-bound items are limited to the models the person may read. Each list is capped at
``LIMIT`` rows, in a fixed number of queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Min, Q
from django.db.models.functions import Coalesce

from core.access import AnyUser
from evaluations import access as evaluation_access
from evaluations.models import Determination
from governance.models import PolicyVersion
from releases.models import Decision, Release, SafeguardStatus

LIMIT = 100
SOON = timedelta(days=30)
VERIFICATION_LIFETIME = timedelta(days=365)


def due(user: AnyUser, *, now: datetime) -> dict[str, Any]:
    models = evaluation_access.visible_models(user)
    policy = PolicyVersion.objects.governing()
    stale: list[Any] = []
    interval = None
    if policy is not None:
        interval = timedelta(days=policy.reevaluation_interval_days)
        horizon = now - interval + SOON
        stale = list(
            Determination.objects.filter(
                policy_version=policy,
                outcome__in=[Determination.Outcome.RULED_OUT, Determination.Outcome.ALERT],
                model_version__model__in=models,
            )
            .annotate(run_at=Coalesce("deciding_run__completed_at", "deciding_run__received_at"))
            .filter(run_at__lt=horizon)
            .values("model_version__label")
            .annotate(oldest=Min("run_at"), thresholds=Count("pk"))
            .order_by("oldest")[:LIMIT]
        )
        for row in stale:
            row["due"] = row["oldest"] + interval
            row["overdue"] = row["due"] <= now
    verifications = list(
        SafeguardStatus.objects.filter(
            state=SafeguardStatus.State.VERIFIED,
            verified_at__lt=now - VERIFICATION_LIFETIME,
            model_version__model__in=models,
        )
        .select_related("model_version", "release", "verified_by")
        .order_by("verified_at")[:LIMIT]
    )
    escalations = list(
        Release.objects.filter(blocked_since__isnull=False, model_version__model__in=models)
        .select_related("model_version")
        .order_by("blocked_since")[:LIMIT]
    )
    drafts = list(
        PolicyVersion.objects.filter(state=PolicyVersion.State.DRAFT)
        .select_related("policy", "created_by")
        .order_by("created_at")[:LIMIT]
    )
    in_scope = (
        Q(release__model_version__model__in=models)
        | Q(model_version__model__in=models)
        | Q(model__in=models)
    )
    proposed = list(
        Decision.objects.filter(in_scope, state=Decision.State.PROPOSED)
        .annotate(signed=Count("signatures"))
        .filter(signed__lt=F("quorum"))
        .select_related("release", "model_version", "model", "proposed_by")
        .order_by("proposed_at")[:LIMIT]
    )
    return {
        "now": now,
        "policy": policy,
        "interval": interval,
        "stale": stale,
        "verifications": verifications,
        "escalations": escalations,
        "drafts": drafts,
        "proposed": proposed,
    }
