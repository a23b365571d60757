"""Every move of a release, written once: lock, check access and the transition map, write,
audit, and refresh the gate. Views, the API, commands and receivers all call these."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core import audit, counters, signing
from evaluations.models import ModelVersion
from governance import content
from governance.models import PolicyVersion
from releases import access, assessment, evidence, gate, workflow
from releases.models import Approval, Release, SafeguardStatus

log = logging.getLogger(__name__)
APPROVE = signing.Meaning("releases.release.approve", "I approve this release as assessed")


class ReleaseError(Exception):
    """A move that is not allowed now; the message is for the person who tried."""


class GateClosed(ReleaseError):
    """The gate, recomputed at the moment of the move, does not let the release ship."""

    def __init__(self, reasons: list[gate.Reason]) -> None:
        self.reasons = reasons
        super().__init__(
            "The gate does not allow this release to ship: "
            + "; ".join(reason.message for reason in reasons)
        )


class AssessmentChanged(ReleaseError):
    """What the approver saw is no longer the assessment (HTTP 409 on the API)."""


def _locked(release: Release) -> Release:
    # The version first (see hold_version), then the release's row only (``of``: a plain FOR
    # UPDATE locks every joined row, its model version's too, which deadlocks with a result
    # being ingested for it). Read after the version's lock, the version is as committed.
    hold_version(release.model_version_id)
    return (
        Release.objects.select_for_update(of=("self",))
        .select_related("model_version__model")
        .get(pk=release.pk)
    )


def hold_version(version_id: int) -> None:
    """Share-lock a model version's key, as the foreign-key check of a release row updated a
    second time in the transaction will, but now: before its releases' rows and the audit
    chain's lock, the order a recompute takes them in (the version FOR UPDATE, its releases,
    the chain). An ingestion takes the chain's lock, then updates the version's row (FOR NO
    KEY UPDATE, which a key-share lock lets through). Taken the other way round, either
    deadlocks with this transaction; and a version read before a recompute of it commits
    would be read stale."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM evaluations_modelversion WHERE id = %s FOR KEY SHARE", [version_id]
            )


def _locked_sharing(release: Release) -> tuple[Release, list[Release]]:
    """The release, and the other open releases of its model version: they share its
    model-version safeguards, so a change to one changes their assessments too. All locked in
    primary-key order, the order ``refresh_for_model_versions`` locks them in."""
    hold_version(release.model_version_id)
    rows = list(
        Release.objects.select_for_update(of=("self",))
        .select_related("model_version__model")
        .filter(model_version_id=release.model_version_id)
        .filter(Q(pk=release.pk) | ~Q(state=workflow.WITHDRAWN))
        .order_by("pk")
    )
    return next(r for r in rows if r.pk == release.pk), [r for r in rows if r.pk != release.pk]


@dataclass
class Batch:
    """Releases refreshed together: their inputs loaded at once; each row written once and
    the audit events all at once by the caller when the batch is done."""

    inputs: assessment.Inputs
    events: list[dict[str, Any]] = field(default_factory=list)


def _record(batch: Batch | None, **event: Any) -> None:
    if batch is None:
        audit.record(**event)
    else:
        batch.events.append(event)


def _move(
    actor: User | str, release: Release, target: str, now: datetime, batch: Batch | None = None
) -> None:
    workflow.check_move(release.state, target)
    before = release.state
    release.state = target
    release.state_changed_at = now
    release.save(update_fields=["state", "state_changed_at"])
    _record(
        batch,
        action=f"releases.release.{target}",
        actor=actor,
        obj=release,
        subject=release,
        before={"state": before},
        after={"state": target},
    )


GATE_FIELDS = [
    "assessment_version", "assessment_sha256", "required_level", "level_defined",
    "approval_quorum", "gate_allowed", "gate_reasons", "assessed_at", "blocked_since",
    "gate_valid_until", "assessed_seq", "people_epoch",
]  # fmt: skip


def gate_refresh(
    release: Release,
    *,
    now: datetime | None = None,
    actor: User | str = "system:gate",
    batch: Batch | None = None,
) -> Release:
    """Recompute the cached assessment and verdict of a (locked) release. A new assessment makes
    earlier approvals stale: an approved release goes back to submitted. In a batch, the row
    and the events are left for the batch to write."""
    now = now or timezone.now()
    inputs = batch.inputs if batch else assessment.load([release])
    current = assessment.build(release, inputs)
    changed = current.sha256 != release.assessment_sha256
    if changed:
        release.assessment_version += 1
        release.assessment_sha256 = current.sha256
    # Approved means approvals of this very assessment, counting now, at its quorum: a new
    # assessment, or an approver who no longer counts (their authority ended, say), sends it
    # back for approval.
    if release.state == workflow.APPROVED and (
        changed or not assessment.approvable(release, current, inputs, now=now)
    ):
        _move(actor, release, workflow.SUBMITTED, now, batch)
    # An assessment can come back to one already approved at quorum (evidence replaced, then
    # the same evidence verified again): those signatures bind exactly this content, so the
    # release is approved again without asking the approvers to sign it twice.
    if release.state == workflow.SUBMITTED and assessment.approvable(
        release, current, inputs, now=now
    ):
        _move(actor, release, workflow.APPROVED, now, batch)
    release.required_level = current.required_level
    release.level_defined = current.level_defined
    release.approval_quorum = current.approval_quorum
    verdict = assessment.gate(release, current, inputs, now=now)
    release.gate_allowed = verdict.allowed
    release.gate_reasons = [reason.as_dict() for reason in verdict.reasons]
    release.gate_valid_until = verdict.valid_until
    release.assessed_seq = release.model_version.assessment_seq
    release.people_epoch = inputs.people_epoch
    release.assessed_at = now
    if batch is None:
        release.save(update_fields=GATE_FIELDS)
    if changed:
        _record(
            batch,
            action="releases.assessment.changed",
            actor=actor,
            obj=release,
            subject=release,
            after={**current.data, "assessment_version": release.assessment_version},
        )
    return release


def holds(
    release: Release,
    *,
    now: datetime,
    governing_id: int | None,
    alarm: bool = False,
    people_epoch: int | None = None,
) -> bool:
    """Whether a release's cached verdict may be served as it is at ``now``: built from the
    model version's latest assessment, under the policy in force, with nothing pending, and
    not past the instant it holds until. (``release`` with its model version loaded.)"""
    version = release.model_version
    return (
        not alarm
        and release.assessed_at is not None
        and not version.needs_recompute
        and version.assessed_policy_id == governing_id
        and release.assessed_seq == version.assessment_seq
        and (people_epoch is None or release.people_epoch == people_epoch)
        and (release.gate_valid_until is None or now < release.gate_valid_until)
        # A verdict built while the register failed its integrity check is rebuilt once the
        # alarm is cleared.
        and gate.REGISTER_INTEGRITY not in release.gate_codes
    )


def gate_now(
    release: Release,
    *,
    governing_id: int | None = None,
    alarm: bool = False,
    people_epoch: int | None = None,
    now: datetime | None = None,
) -> Release:
    """The release with a verdict true at this moment, for whoever asks "may this ship?" (the
    gate API, the release page). The cached verdict when it still holds; otherwise the model
    version is reassessed if it is due (new evidence, a new policy, evidence gone stale) and the
    gate refreshed, under their locks, here and now. If that fails, the answer is a denial
    with ``refresh_failed`` (nothing is written): never the stale cached one."""
    now = now or timezone.now()
    if governing_id is None:
        governing = PolicyVersion.objects.governing()
        governing_id = governing.pk if governing else None
        alarm = bool(governing and governing.integrity_alarm)  # type: ignore[attr-defined]
    if people_epoch is None:
        people_epoch = counters.value(counters.PEOPLE)
    if holds(release, now=now, governing_id=governing_id, alarm=alarm, people_epoch=people_epoch):
        return release
    try:
        # The reassessment commits on its own first: holding the version's row lock into the
        # gate's transaction (which appends to the audit chain) would deadlock with a result
        # being ingested (chain first, then the version). Whatever lands in between is caught
        # by the refresh: a version marked anew reads as pending, and the verdict denies.
        _bring_up_to_date(release.model_version_id, now)
        with transaction.atomic():
            fresh = _locked(release)
            gate_refresh(fresh, now=now)
    except content.RegisterIntegrityError as error:
        refused = gate.denied(gate.REGISTER_INTEGRITY, str(error), "policy_version")
        release.gate_allowed = False
        release.gate_reasons = [reason.as_dict() for reason in refused.reasons]
        return release
    except Exception:
        log.exception("gate refresh of release %s failed; answering denied", release.pk)
        refused = gate.denied(
            gate.REFRESH_FAILED, "the verdict could not be brought up to date; try again"
        )
        release.gate_allowed = False
        release.gate_reasons = [reason.as_dict() for reason in refused.reasons]
        return release
    return fresh


@transaction.atomic
def release_create(
    *, actor: User, model_version: ModelVersion, context: str, title: str
) -> Release:
    if not access.can_request(actor, model_version.model):
        raise PermissionDenied
    if context not in Release.Context.values:
        raise ReleaseError(f"{context!r} is not a deployment context")
    release = Release.objects.create(
        model_version=model_version,
        context=context,
        title=title.strip()[:200] or str(model_version),
        requested_by=actor,
    )
    audit.record(
        action="releases.release.created",
        actor=actor,
        obj=release,
        subject=release,
        after={"model_version": model_version.label, "context": context, "title": release.title},
    )
    return gate_refresh(release, actor="system:gate")


@transaction.atomic
def release_submit(*, actor: User, release: Release) -> Release:
    release = _locked(release)
    if release.requested_by_id != actor.pk:
        raise PermissionDenied
    if release.state != workflow.DRAFT:  # approved → submitted is the gate's move, not theirs
        raise workflow.IllegalMove(release.state, workflow.SUBMITTED)
    _move(actor, release, workflow.SUBMITTED, timezone.now())
    return gate_refresh(release)


def _bring_up_to_date(version_id: int, now: datetime | None = None) -> None:
    """Reassess the model version if anything is due (new evidence, a new policy, evidence
    gone stale), in a transaction of its own: a no-op otherwise."""
    from evaluations import recompute

    with transaction.atomic():  # a savepoint when a caller holds a transaction already
        recompute.recompute(version_id, now=now)


def release_deploy(*, actor: User, release: Release) -> Release:
    """Record that an approved release is deployed: the deployment pipeline's word (or its
    owner's), taken only if the gate, recomputed under the release's lock at this moment,
    allows it. A refusal changes nothing and says why."""
    _bring_up_to_date(release.model_version_id)
    return _deploy(actor=actor, release=release)


@transaction.atomic
def _deploy(*, actor: User, release: Release) -> Release:
    release = _locked(release)
    if not access.can_request(actor, release.model_version.model):
        raise PermissionDenied
    workflow.check_move(release.state, workflow.DEPLOYED)
    # The verdict as the inputs are now, not the cached one: a refresh may be pending (a
    # result just recomputed, evidence replaced, evidence gone stale). A refusal rolls the
    # refresh back with the rest; the refresh still to come makes the same changes.
    gate_refresh(release)
    if not release.gate_allowed:
        raise GateClosed([gate.Reason.from_dict(r) for r in release.gate_reasons])
    _move(actor, release, workflow.DEPLOYED, timezone.now())
    return gate_refresh(release)


@transaction.atomic
def release_withdraw(*, actor: User, release: Release) -> Release:
    release = _locked(release)
    if release.requested_by_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied
    _move(actor, release, workflow.WITHDRAWN, timezone.now())
    return gate_refresh(release)


def _status_row(release: Release, code: str) -> SafeguardStatus:
    required = assessment.required_safeguards(release)
    spec = next((s for s in required if s["code"] == code), None)
    if spec is None:
        raise ReleaseError(f"{code} is not a safeguard this release requires")
    if spec["scope"] == "model_version":
        row, _ = SafeguardStatus.objects.select_for_update().get_or_create(
            model_version=release.model_version, release=None, code=code
        )
    else:
        row, _ = SafeguardStatus.objects.select_for_update().get_or_create(
            model_version=release.model_version, release=release, code=code
        )
    return row


EVIDENCE_LINK = URLValidator(schemes=["https", "http"])


def _check_link(link: str) -> None:
    """An evidence link is shown to every reviewer as a link: a web address only (no
    ``javascript:`` or ``data:``), and of a length the record keeps."""
    if len(link) > SafeguardStatus._meta.get_field("evidence_link").max_length:  # type: ignore[operator]
        raise ReleaseError("The evidence link is too long.")
    try:
        EVIDENCE_LINK(link)
    except ValidationError:
        raise ReleaseError("The evidence link must be an http or https address.") from None


@transaction.atomic
def safeguard_implement(
    *,
    actor: User,
    release: Release,
    code: str,
    text: str = "",
    link: str = "",
    file: evidence.EvidenceFile | None = None,
) -> SafeguardStatus:
    """Record evidence that a safeguard is in place; it replaces any earlier evidence, and
    any change needs verifying again."""
    release, others = _locked_sharing(release)
    if not access.can_request(actor, release.model_version.model):
        raise PermissionDenied
    text, link = text.strip(), link.strip()
    if not (text or link or file):
        raise ReleaseError("Give the evidence: a description, a link or a file.")
    if link:
        _check_link(link)
    row = _status_row(release, code)
    before = {"state": row.state, "evidence_sha256": row.evidence_sha256}
    row.state = SafeguardStatus.State.IMPLEMENTED
    row.evidence_text, row.evidence_link = text, link
    row.evidence_file = evidence.store(file) if file else ""
    row.evidence_file_name = file.name if file else ""
    row.evidence_file_type = file.content_type if file else ""
    row.evidence_file_size = file.size if file else None
    row.evidence_file_sha256 = file.sha256 if file else ""
    row.evidence_sha256 = evidence.evidence_sha256(text, link, row.evidence_file_sha256)
    row.implemented_by, row.implemented_at = actor, timezone.now()
    row.verified_by = row.verified_at = None
    row.save()
    audit.record(
        action="releases.safeguard.implemented",
        actor=actor,
        obj=row,
        subject=release,
        before=before,
        after={
            "code": code,
            "evidence_sha256": row.evidence_sha256,
            "file": {
                "name": row.evidence_file_name,
                "sha256": row.evidence_file_sha256,
                "size": row.evidence_file_size,
            }
            if file
            else None,
        },
    )
    _refresh_sharing(release, others, row)
    return row


@transaction.atomic
def safeguard_verify(*, actor: User, release: Release, code: str) -> SafeguardStatus:
    release, others = _locked_sharing(release)
    if not access.can_verify(actor):
        raise PermissionDenied
    row = _status_row(release, code)
    if row.state != SafeguardStatus.State.IMPLEMENTED:
        raise ReleaseError(f"{code} has no evidence to verify")
    if row.implemented_by_id == actor.pk:
        raise ReleaseError("The person who implemented a safeguard cannot verify it.")
    row.state = SafeguardStatus.State.VERIFIED
    row.verified_by, row.verified_at = actor, timezone.now()
    row.save(update_fields=["state", "verified_by", "verified_at"])
    audit.record(
        action="releases.safeguard.verified",
        actor=actor,
        obj=row,
        subject=release,
        after={"code": code, "evidence_sha256": row.evidence_sha256},
    )
    _refresh_sharing(release, others, row)
    return row


def release_approve(
    *, actor: User, release: Release, reauth: signing.Reauthentication, seen_sha256: str
) -> Approval:
    """Sign the assessment the approver saw. If it changed since, nothing is signed."""
    _bring_up_to_date(release.model_version_id)
    return _approve(actor=actor, release=release, reauth=reauth, seen_sha256=seen_sha256)


@transaction.atomic
def _approve(
    *, actor: User, release: Release, reauth: signing.Reauthentication, seen_sha256: str
) -> Approval:
    release = _locked(release)
    now = timezone.now()
    if release.requested_by_id == actor.pk:
        raise ReleaseError("The person who requested a release cannot approve it.")
    if not access.holds_power(actor, "approve", release.model_version.model.slug, on=now.date()):
        raise PermissionDenied
    # A deployed release is approved again when its assessment changed under it (evidence
    # renewed): until then its gate denies.
    if release.state not in (workflow.SUBMITTED, workflow.DEPLOYED):
        raise ReleaseError(
            f"Only a submitted or deployed release can be approved; this one is {release.state}."
        )
    gate_refresh(release, now=now)
    if release.assessment_sha256 != seen_sha256:
        raise AssessmentChanged("The assessment changed after you loaded it: review it again.")
    if release.state == workflow.APPROVED:  # its approvals are current again
        raise ReleaseError("This release is approved already.")
    inputs = assessment.load([release])
    current = assessment.build(release, inputs)
    # Runs are inserted without the release's lock: one may land between the refresh above and
    # this read. What is signed is exactly what the approver saw, or nothing.
    if current.sha256 != seen_sha256:
        raise AssessmentChanged("The assessment changed after you loaded it: review it again.")
    if actor.pk in assessment.excluded_approvers(release, inputs):
        raise ReleaseError(
            "You overrode a determination of this model version or verified a safeguard of "
            "this release: the policy in force does not let the same person approve it."
        )
    # By content, not version: an assessment that comes back (evidence replaced, then the same
    # evidence verified again) is the one already signed, and an approver counts once for it.
    if Approval.objects.filter(
        release=release, approver=actor, assessment_sha256=release.assessment_sha256
    ).exists():
        raise ReleaseError("You have already approved this assessment.")
    signature = signing.sign(
        signer=actor,
        meaning=APPROVE,
        obj=release,
        reauth=reauth,
        now=now,
        subject={
            "type": "releases.release",
            **current.data,
            "assessment_version": release.assessment_version,
            "assessment_sha256": current.sha256,
        },
    )
    approval = Approval.objects.create(
        release=release,
        approver=actor,
        signature=signature,
        assessment_version=release.assessment_version,
        assessment_sha256=current.sha256,
    )
    audit.record(
        action="releases.approval.signed",
        actor=actor,
        obj=approval,
        subject=release,
        after={"assessment_sha256": current.sha256, "signature": signature.pk},
    )
    # The refresh approves a submitted release once the approvals reach quorum, in the
    # approver's name, and only what may ship: with a required safeguard not yet verified it
    # stays submitted (assessment.approvable). A deployed one stays deployed; its gate reopens.
    gate_refresh(release, now=now, actor=actor)
    return approval


OPEN = (workflow.SUBMITTED, workflow.APPROVED, workflow.DEPLOYED)
REFRESH_BATCH = 100  # releases per transaction when a recompute changed many versions


def refresh_for_model_versions(version_ids: Sequence[int]) -> list[Release]:
    """These model versions' assessments changed: refresh every open release's gate, and
    escalate where the required level rose above what has been verified. Releases are locked
    in primary-key order and refreshed a batch at a time, each batch in one transaction."""
    from releases import decisions

    pks = list(
        Release.objects.filter(model_version_id__in=version_ids)
        .exclude(state=workflow.WITHDRAWN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    refreshed: list[Release] = []
    notify = decisions.batch_notifier()
    for start in range(0, len(pks), REFRESH_BATCH):
        with transaction.atomic():
            releases = list(
                Release.objects.select_for_update(of=("self",))
                .select_related("model_version__model")
                .filter(pk__in=pks[start : start + REFRESH_BATCH])
                .order_by("pk")
            )
            _refresh_locked(releases, notify)
            refreshed += releases
    return refreshed


def _refresh_locked(releases: list[Release], notify: Callable[[Release, str, str], None]) -> None:
    """Refresh these locked releases' gates and escalate where needed: their inputs read at
    once, each row written once, and the audit events all together at the end."""
    batch = Batch(assessment.load(releases))
    for release in releases:
        before = release.required_level
        gate_refresh(release, batch=batch)
        _escalate(release, before, notify, batch)
        release.save(update_fields=GATE_FIELDS)
    audit.record_many(batch.events)


def _refresh_sharing(release: Release, others: list[Release], row: SafeguardStatus) -> None:
    """A safeguard's status changed: refresh the release, and every open release of its model
    version when the safeguard is the version's (they share it), escalating where needed."""
    from releases import decisions

    shared = [release, *others] if row.release_id is None else [release]
    _refresh_locked(sorted(shared, key=lambda r: r.pk), decisions.batch_notifier())


def behind(*, now: datetime | None = None) -> QuerySet[Release]:
    """Open releases whose cached verdict no longer holds: built from an earlier assessment of
    their model version, or past the instant it held until."""
    now = now or timezone.now()
    return Release.objects.exclude(state=workflow.WITHDRAWN).filter(
        ~Q(assessed_seq=F("model_version__assessment_seq")) | Q(gate_valid_until__lte=now)
    )


def sweep_gates(*, limit: int = 1000) -> int:
    """Refresh the gates that are behind (``behind``), their model versions reassessed first
    where due; the number of releases refreshed."""
    from evaluations import recompute

    now = timezone.now()
    versions = sorted(
        set(behind(now=now).values_list("model_version_id", flat=True).distinct()[:limit])
    )
    if not versions:
        return 0
    recompute.recompute_many(versions, now=now)
    return len(refresh_for_model_versions(versions))


def refresh_for_model_version(version_id: int) -> list[Release]:
    return refresh_for_model_versions([version_id])


def _escalate(
    release: Release,
    previous_level: str,
    notify: Callable[[Release, str, str], None],
    batch: Batch,
) -> None:
    unverified = any(
        reason["code"] == gate.SAFEGUARDS_UNVERIFIED for reason in release.gate_reasons
    )
    rose = release.required_level != previous_level
    now = timezone.now()
    # An open release is blocked when its level rose above its verified safeguards; a deployed
    # one also when the evidence of one of them changed and awaits verification again.
    if release.state in OPEN and unverified and (rose or release.state == workflow.DEPLOYED):
        if release.blocked_since is None:
            release.blocked_since = now
            gate_refresh(release, now=now, batch=batch)
            batch.events.append(
                {
                    "action": "releases.release.blocked",
                    "actor": "system:gate",
                    "obj": release,
                    "subject": release,
                    "before": {"required_level": previous_level or None},
                    "after": {"required_level": release.required_level},
                }
            )
            notify(
                release,
                f"Release blocked: {release}",
                f"The required level of {release.model_version.label} rose from "
                f"{previous_level or 'none'} to {release.required_level}, above the safeguards "
                f"verified for {release}. It is blocked until they are in place."
                if rose
                else f"The evidence of a safeguard that the deployed {release} relies on "
                "changed and is not verified yet. It is blocked until it is verified again, "
                "and its gate stays shut until the changed assessment is approved again.",
            )
    elif release.blocked_since is not None and not unverified:
        release.blocked_since = None
        gate_refresh(release, now=now, batch=batch)
        batch.events.append(
            {
                "action": "releases.release.unblocked",
                "actor": "system:gate",
                "obj": release,
                "subject": release,
                "after": {"required_level": release.required_level},
            }
        )
