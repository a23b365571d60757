"""Signed overrides of a determination: the human act that may lower what the results say.

A governance lead, or a designated authority holding the approve power for the model today,
records an outcome for one threshold with a rationale, re-authenticated and signed. The override
is bound to the evidence it considered (the runs of that threshold's evaluations at that
moment) and lapses as soon as that evidence changes; one that lowers (ruled out, alert) needs a
current successful run of every condition, and lapses when any of them goes stale. Raising or
lowering, it takes effect at the recompute that follows the commit.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core import audit, signing
from evaluations import access, determinations, recompute
from evaluations.ingestion import mark_for_recompute
from evaluations.models import Determination, EvaluationRun, ModelVersion, Override
from governance import access as governance_access
from governance import content
from governance.models import PauseAuthority, PolicyVersion

OVERRIDE = signing.Meaning(
    "evaluations.determination.override", "I record this determination in place of the computed one"
)
MIN_RATIONALE = 20


class OverrideRefused(Exception):
    """The override cannot be recorded; the message says why."""


def may_override(user: User, version: ModelVersion, *, today: date | None = None) -> bool:
    if governance_access.can_edit_register(user):
        return True
    today = today or timezone.localdate()
    return access.can_view(user, version.model) and governance_access.holds_power(
        user, PauseAuthority.Power.APPROVE, version.model.slug, on=today
    )


@transaction.atomic
def override_record(
    *,
    actor: User,
    version: ModelVersion,
    threshold: str,
    outcome: str,
    rationale: str,
    reauth: signing.Reauthentication,
    seen_watermark: int | None = None,
) -> Override:
    if not may_override(actor, version):
        raise PermissionDenied
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    if seen_watermark is not None and seen_watermark != version.evidence_watermark:
        raise OverrideRefused("New evidence arrived after you loaded the page: review it again.")
    policy = PolicyVersion.objects.governing()
    if policy is None:
        raise OverrideRefused("No policy is in force.")
    data = content.in_force_content(policy)
    spec = next((t for t in data["thresholds"] if t["code"] == threshold), None)
    if spec is None:
        raise OverrideRefused(f"{threshold} is not a threshold of the policy in force.")
    if outcome not in Determination.Outcome.values:
        raise OverrideRefused(f"{outcome!r} is not an outcome.")
    if len(rationale.strip()) < MIN_RATIONALE:
        raise OverrideRefused(f"Give a rationale of at least {MIN_RATIONALE} characters.")
    if outcome in determinations.LOWERING:
        # Absence of evidence is not evidence of absence: a person may judge a crossing a false
        # positive, but not rule out what was never (or not lately) measured.
        missing = determinations.without_current_evidence(
            spec,
            recompute.run_facts([version.pk])[version.pk],
            now=timezone.now(),
            interval_days=data["version"]["reevaluation_interval_days"],
        )
        if missing:
            raise OverrideRefused(
                f"{threshold} cannot be recorded as {outcome.replace('_', ' ')}: "
                f"no successful run within the last {data['version']['reevaluation_interval_days']}"
                f" days reports {', '.join(missing)}. Run the evaluation first."
            )
    keys = {c["evaluation"] for c in spec["conditions"]}
    considered = sorted(
        EvaluationRun.objects.filter(model_version=version, evaluation__key__in=keys).values_list(
            "run_id", flat=True
        )
    )
    current = Determination.objects.filter(model_version=version, threshold=threshold).first()
    subject = {
        "type": "evaluations.override",
        "model_version": version.label,
        "threshold": threshold,
        "level": spec["required_level"],
        "outcome": outcome,
        "computed_outcome": current.computed_outcome if current else None,
        "rationale": rationale.strip(),
        "considered_runs": considered,
        "policy_version": f"{policy.policy.slug}:{policy.number}",
    }
    signature = signing.sign(
        signer=actor, meaning=OVERRIDE, obj=version, subject=subject, reauth=reauth
    )
    override = Override.objects.create(
        model_version=version,
        policy_version=policy,
        threshold=threshold,
        outcome=outcome,
        rationale=rationale.strip(),
        considered_runs=considered,
        signature=signature,
        created_by=actor,
    )
    audit.record(
        action="evaluations.override.recorded",
        actor=actor,
        obj=override,
        subject=version,
        object_repr=f"{version.label} {threshold}",
        after=subject,
    )
    mark_for_recompute([version.pk])
    return override
