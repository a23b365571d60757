"""Pause, restrict and lift: signed acts of designated authorities in scope.

A decision is proposed by an authority or a governance lead, and takes effect when the quorum the
policy in force sets (its signing quorum) of distinct authorities, each valid at the moment of
signing, in scope and holding the power, have signed. Lifting is itself a decision with the same
quorum. Signers are serialised on the decision's row, so the quorum is counted exactly once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core import audit, signing
from evaluations.models import Model, ModelVersion
from governance import access as governance_access
from governance.models import PauseAuthority, PolicyVersion
from releases import access, services
from releases.models import Decision, DecisionSignature, Release

MEANINGS = {
    "pause": signing.Meaning("releases.decision.pause", "I pause this deployment"),
    "restrict": signing.Meaning("releases.decision.restrict", "I restrict this deployment"),
    "lift": signing.Meaning("releases.decision.lift", "I lift this decision"),
}


def _model_of(decision: Decision) -> Model:
    if decision.release_id:
        return decision.release.model_version.model  # type: ignore[union-attr]
    if decision.model_version_id:
        return decision.model_version.model  # type: ignore[union-attr]
    return decision.model  # type: ignore[return-value]


@transaction.atomic
def decision_propose(
    *,
    actor: User,
    kind: str,
    target: Release | ModelVersion | Model,
    rationale: str,
    allowed_contexts: list[str] | None = None,
    lifts: Decision | None = None,
) -> Decision:
    policy = PolicyVersion.objects.governing()
    if policy is None:
        raise services.ReleaseError("No policy is in force.")
    slug = (
        target.slug
        if isinstance(target, Model)
        else (
            target.model.slug
            if isinstance(target, ModelVersion)
            else target.model_version.model.slug
        )
    )
    today = timezone.localdate()
    if not access.can_propose(actor, kind, slug, on=today):
        raise PermissionDenied
    if kind not in MEANINGS or len(rationale.strip()) < 20:
        raise services.ReleaseError(
            "Name the kind of decision and give a rationale of 20 characters or more."
        )
    if kind == "restrict" and not allowed_contexts:
        raise services.ReleaseError(
            "A restriction names the deployment contexts that stay allowed."
        )
    if lifts is not None:
        lifts = Decision.objects.get(pk=lifts.pk)
    if kind == "lift" and (lifts is None or lifts.state != Decision.State.IN_EFFECT):
        raise services.ReleaseError("A lift names a decision in effect.")
    if lifts is not None and target != (lifts.release or lifts.model_version or lifts.model):
        raise services.ReleaseError("A lift is scoped like the decision it lifts.")
    decision = Decision.objects.create(
        kind=kind,
        rationale=rationale.strip(),
        quorum=policy.signing_quorum,
        proposed_by=actor,
        allowed_contexts=sorted(allowed_contexts or []),
        lifts=lifts,
        release=target if isinstance(target, Release) else None,
        model_version=target if isinstance(target, ModelVersion) else None,
        model=target if isinstance(target, Model) else None,
    )
    audit.record(
        action="releases.decision.proposed",
        actor=actor,
        obj=decision,
        subject=decision,
        after={
            "kind": kind,
            "target": str(target),
            "quorum": decision.quorum,
            "allowed_contexts": decision.allowed_contexts,
            "rationale": decision.rationale,
        },
    )
    return decision


@transaction.atomic
def decision_sign(*, actor: User, decision: Decision, reauth: signing.Reauthentication) -> Decision:
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    now = timezone.now()
    model = _model_of(decision)
    if not access.holds_power(actor, decision.kind, model.slug, on=now.date()):
        raise PermissionDenied
    if decision.state != Decision.State.PROPOSED:
        raise services.ReleaseError(
            f"This decision is already {decision.get_state_display().lower()}."
        )
    if decision.signatures.filter(signer=actor).exists():
        raise services.ReleaseError("You have already signed this decision.")
    if decision.kind == "lift":
        # Lifts of one decision are serialised on it, and one that is no longer in effect (an
        # earlier lift took effect) has nothing left to lift.
        if decision.lifts_id is None:
            raise services.ReleaseError("A lift names a decision in effect.")
        lifted = Decision.objects.select_for_update().get(pk=decision.lifts_id)
        if lifted.state != Decision.State.IN_EFFECT:
            raise services.ReleaseError("The decision this lifts is no longer in effect.")
    # The releases this signature refreshes, if it takes the decision into effect, are locked
    # now, before the audit chain's lock (signing takes it), and in primary-key order, as every
    # other writer of releases locks them: the other way round, an approval of one of them at
    # the same moment deadlocks with it.
    reaches = decision.signatures.count() + 1 >= decision.quorum
    releases = _locked_releases(lifted if decision.kind == "lift" else decision) if reaches else []
    subject = {
        "type": "releases.decision",
        "decision": decision.pk,
        "kind": decision.kind,
        "target": str(decision.release or decision.model_version or decision.model),
        "allowed_contexts": decision.allowed_contexts,
        "rationale": decision.rationale,
        "lifts": decision.lifts_id,
    }
    signature = signing.sign(
        signer=actor,
        meaning=MEANINGS[decision.kind],
        obj=decision,
        subject=subject,
        reauth=reauth,
        now=now,
    )
    DecisionSignature.objects.create(decision=decision, signer=actor, signature=signature)
    audit.record(
        action="releases.decision.signed",
        actor=actor,
        obj=decision,
        subject=decision,
        after={"signature": signature.pk},
    )
    if decision.signatures.count() >= decision.quorum:
        _take_effect(actor, decision, now, releases)
    return decision


def _locked_releases(decision: Decision) -> list[Release]:
    affected = affected_releases(decision)
    for version_id in sorted({r.model_version_id for r in affected}):  # first: see hold_version
        services.hold_version(version_id)
    return list(
        Release.objects.select_for_update(of=("self",))
        .select_related("model_version__model")
        .filter(pk__in=[r.pk for r in affected])
        .order_by("pk")
    )


def _take_effect(actor: User, decision: Decision, now: datetime, releases: list[Release]) -> None:
    decision.state, decision.in_effect_at = Decision.State.IN_EFFECT, now
    decision.save(update_fields=["state", "in_effect_at"])
    audit.record(
        action="releases.decision.in_effect",
        actor=actor,
        obj=decision,
        subject=decision,
        after={"kind": decision.kind},
    )
    lifted = decision.lifts if decision.kind == "lift" else None
    if lifted is not None:
        Decision.objects.filter(pk=lifted.pk).update(state=Decision.State.LIFTED)
        audit.record(
            action="releases.decision.lifted",
            actor=actor,
            obj=lifted,
            subject=lifted,
            after={"lifted_by": decision.pk},
        )
    for release in releases:  # locked by decision_sign
        services.gate_refresh(release, actor="system:gate")


def affected_releases(decision: Decision) -> list[Release]:
    releases = Release.objects.exclude(state=Release.State.WITHDRAWN)
    if decision.release_id:
        return list(releases.filter(pk=decision.release_id))
    if decision.model_version_id:
        return list(releases.filter(model_version_id=decision.model_version_id))
    return list(releases.filter(model_version__model=decision.model))


def authority_emails(model_slug: str, designated: list[PauseAuthority] | None = None) -> list[str]:
    """The addresses of the designated authorities in scope of a model today."""
    authorities = governance_access.authorities_in_scope(
        model_slug, on=timezone.localdate(), designated=designated
    )
    return sorted({a.user.email for a in authorities if a.user.email})


def batch_notifier() -> Callable[[Release, str, str], None]:
    """``notify_authorities`` for a batch of releases: the authorities are read once."""
    designated = functools.cache(governance_access.designated_authorities)
    emails_for = functools.cache(lambda slug: authority_emails(slug, designated()))
    return functools.partial(notify_authorities, emails_for=emails_for)


def notify_authorities(
    release: Release,
    subject: str,
    body: str,
    *,
    emails_for: Callable[[str], list[str]] = authority_emails,
) -> None:
    """Email the designated authorities in scope of a release's model, after commit (a batch
    passes a cached ``emails_for``)."""
    emails = emails_for(release.model_version.model.slug)
    if emails:
        transaction.on_commit(lambda: send_mail(subject, body, None, emails, fail_silently=True))
