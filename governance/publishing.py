"""Publishing a policy version: governance leads sign its content; at quorum it takes effect.

Each signature binds the SHA-256 of the version's content (``governance.content``). A draft
stays editable while signatures gather, but a signature counts only while the content still
has the hash it signed: an edit after signing makes earlier signatures stale, and they must be
given again. When the number of distinct current signers reaches the version's signing
quorum, the version is published in the same transaction and the one it replaces superseded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core import audit, roles, signing
from core.models import Signature
from governance import access, commitments, content, validation
from governance.models import PolicyVersion
from governance.services import RegisterError, locked_draft
from governance.signals import policy_published

PUBLISH = signing.Meaning("governance.policy_version.publish", "I publish this policy version")


@dataclass(frozen=True)
class SignatureStatus:
    signature: Signature
    content_sha256: str
    current: bool


@dataclass(frozen=True)
class SigningOutcome:
    signature: Signature
    signers: int
    quorum: int
    published: bool


def signed_hash(signature: Signature) -> str:
    return str(json.loads(signature.manifest)["subject"]["content_sha256"])


def signatures_of(version: PolicyVersion, current_sha256: str) -> list[SignatureStatus]:
    rows = Signature.objects.filter(
        object_type="governance.policyversion", object_id=str(version.pk), meaning=PUBLISH.code
    ).select_related("signer")
    statuses = []
    for row in rows:
        digest = signed_hash(row)
        statuses.append(SignatureStatus(row, digest, current=digest == current_sha256))
    return statuses


def current_signers(version: PolicyVersion, current_sha256: str) -> set[int]:
    """Distinct signers of the current content who are still active leads able to publish."""
    return {
        s.signature.signer_id
        for s in signatures_of(version, current_sha256)
        if s.current and access.can_publish(s.signature.signer)
    }


def quorum_floor(version: PolicyVersion) -> int:
    """The register governs itself: whatever a draft changes (another policy taking over, a
    lower quorum, a raised threshold, a safeguard or authority removed), publishing it needs at
    least the signing quorum of the version in force, whichever policy that belongs to."""
    in_force = PolicyVersion.objects.filter(state=PolicyVersion.State.PUBLISHED).first()
    return in_force.signing_quorum if in_force else 1


def eligibility_errors(data: dict[str, Any], *, today: date) -> list[str]:
    """Designated authorities must be active holders of the designated-authority role, and
    enough of them, valid today, must hold each power for the quorums the version sets: a
    register under which no release could be approved, or nothing paused or lifted, cannot be
    published."""
    names = [a["username"] for a in data["authorities"]]
    holders = set(
        User.objects.filter(
            username__in=names, is_active=True, groups__name=roles.AUTHORITY.name
        ).values_list("username", flat=True)
    )
    problems = [
        f"Authority {name} is not an active holder of the {roles.AUTHORITY.name.lower()} role"
        for name in names
        if name not in holders
    ]

    def able(power: str) -> int:
        return sum(
            1
            for a in data["authorities"]
            if a["username"] in holders
            and power in a["powers"]
            and commitments.authority_in_force(a, today)
        )

    for level in data["levels"]:
        if level["defined"] and able("approve") < level["approval_quorum"]:
            problems.append(
                f"{level['code']} needs {level['approval_quorum']} approvals, but "
                f"{able('approve')} designated authorities can approve"
            )
    quorum = data["version"]["signing_quorum"]
    for power in ("pause", "lift"):
        if able(power) < quorum:
            problems.append(
                f"A {power} takes effect at {quorum} signatures, but {able(power)} designated "
                f"authorities hold the {power} power"
            )
    return problems


@transaction.atomic
def version_sign(
    *,
    actor: User,
    version: PolicyVersion,
    reauth: signing.Reauthentication,
    now: datetime | None = None,
    expected_sha256: str | None = None,
) -> SigningOutcome:
    if not access.can_publish(actor):
        raise PermissionDenied
    now = now or timezone.now()
    version = locked_draft(version)  # serialises signers: the quorum is counted once
    if expected_sha256 is not None and expected_sha256 != content.content_sha256(
        content.version_content(content.load_version(version.pk))
    ):
        raise RegisterError(
            "The content changed after you loaded it: review it again. Nothing was signed."
        )
    data = content.version_content(content.load_version(version.pk))
    problems = [p.message for p in validation.errors(data)]
    problems += eligibility_errors(data, today=timezone.localdate(now))
    if problems:
        raise RegisterError("This version cannot be published yet: " + "; ".join(problems))
    digest = content.content_sha256(data)
    if actor.pk in current_signers(version, digest):
        raise RegisterError("You have already signed this content.")
    subject = {
        "type": "governance.policyversion",
        "policy": version.policy.slug,
        "version": version.number,
        "label": version.label,
        "content_sha256": digest,
    }
    signature = signing.sign(
        signer=actor, meaning=PUBLISH, obj=version, subject=subject, reauth=reauth, now=now
    )
    signers = len(current_signers(version, digest))
    quorum = max(version.signing_quorum, quorum_floor(version))
    published = signers >= quorum
    if published:
        _publish(actor=actor, version=version, data=data, digest=digest, now=now)
    return SigningOutcome(signature, signers, quorum, published)


def _publish(
    *, actor: User, version: PolicyVersion, data: dict[str, Any], digest: str, now: datetime
) -> None:
    # Whatever governs now, of any policy, is superseded: exactly one version is in force.
    previous = (
        PolicyVersion.objects.select_for_update()
        .select_related("policy")
        .filter(state=PolicyVersion.State.PUBLISHED)
        .first()
    )
    if previous is not None:
        previous.state = PolicyVersion.State.SUPERSEDED
        previous.superseded_at = now
        previous.save(update_fields=["state", "superseded_at"])
        audit.record(
            action="governance.policy_version.superseded",
            actor=actor,
            obj=previous,
            subject=previous,
            before={"state": "published"},
            after={
                "state": "superseded",
                "superseded_by": f"{version.policy.slug}:{version.number}",
            },
        )
    version.state = PolicyVersion.State.PUBLISHED
    version.published_at = now
    version.effective_from = now.date()
    version.content_sha256 = digest
    version.save(update_fields=["state", "published_at", "effective_from", "content_sha256"])
    audit.record(
        action="governance.policy_version.published",
        actor=actor,
        obj=version,
        subject=version,
        before={"state": "draft"},
        after={
            "state": "published",
            "effective_from": version.effective_from.isoformat(),
            "content_sha256": digest,
            "supersedes": f"{previous.policy.slug}:{previous.number}" if previous else None,
            # The signed content itself, in the chain: what integrity checks compare against.
            "content": data,
        },
    )
    transaction.on_commit(
        lambda: policy_published.send(sender=PolicyVersion, version_id=version.pk)
    )
