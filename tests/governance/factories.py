"""Builders for commitment-register rows in the database (the view tests' data).

Published versions are frozen by database triggers, so every row is written while its version
is still a draft; publishing (``publishing.version_sign``) comes last.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from core import roles, signing
from core.models import Signature
from governance import content, publishing, services
from governance.models import (
    CapabilityThreshold,
    PauseAuthority,
    PolicyVersion,
    RiskDomain,
    Safeguard,
    SafetyLevel,
    TriggerCondition,
)
from tests.conftest import make_person

FAMILIES = ("security", "deployment", "governance")


@dataclass
class Register:
    version: PolicyVersion
    signature: Signature | None = None

    @property
    def policy(self):
        return self.version.policy


def fill(version: PolicyVersion, granted_by, *, thresholds: int, safeguards: int) -> None:
    """3 defined levels (ranks 1..3), 2 domains, ``thresholds`` thresholds with 2 trigger
    conditions each, ``safeguards`` safeguards spread over the levels, 2 pause authorities."""
    levels = [
        SafetyLevel.objects.create(
            version=version,
            rank=rank,
            code=f"L{rank}",
            name=f"Level {rank}",
            capability_bar=f"Capability bar {rank}.",
            approval_quorum=1,
        )
        for rank in (1, 2, 3)
    ]
    domains = [
        RiskDomain.objects.create(version=version, code=code, name=f"Domain {code}")
        for code in ("BIO", "CYBER")
    ]
    for i in range(thresholds):
        threshold = CapabilityThreshold.objects.create(
            version=version,
            code=f"T-{i:03d}",
            description=f"Threshold number {i}.",
            domain=domains[i % 2],
            required_level=levels[1 + i % 2],
        )
        TriggerCondition.objects.bulk_create(
            [
                TriggerCondition(
                    threshold=threshold,
                    evaluation_key=f"probe_{i}",
                    metric_key="accuracy",
                    comparator=">=",
                    value=0.5,
                    alert_value=0.4,
                ),
                TriggerCondition(
                    threshold=threshold,
                    evaluation_key=f"probe_{i}",
                    metric_key="minutes",
                    comparator="<=",
                    value=60.0,
                    alert_value=120.0,
                ),
            ]
        )
    Safeguard.objects.bulk_create(
        Safeguard(
            version=version,
            code=f"SG-{i:03d}",
            name=f"Safeguard number {i}",
            family=FAMILIES[i % 3],
            scope="model_version" if i % 2 else "release",
            evidence_required="A signed report.",
            minimum_level=levels[i % 3],
        )
        for i in range(safeguards)
    )
    for n in (1, 2):
        person = make_person(f"{version.policy.slug}-auth{n}", roles.AUTHORITY)
        PauseAuthority.objects.create(
            version=version,
            user=person,
            powers=["pause", "restrict", "lift", "approve"],
            valid_from=datetime.date(2026, 1, 1),
            granted_by=granted_by,
        )


def publish_version(lead, version: PolicyVersion) -> Signature:
    outcome = publishing.version_sign(
        actor=lead, version=version, reauth=signing.demo_reauthentication(lead)
    )
    assert outcome.published
    version.refresh_from_db()
    return outcome.signature


def build_register(
    lead, *, thresholds: int = 3, safeguards: int = 3, publish: bool = True, slug: str = "acme"
) -> Register:
    """A policy whose version 1 holds the content ``fill`` describes, published or a draft."""
    version = services.policy_create(actor=lead, name=f"Policy {slug}", slug=slug)
    fill(version, lead, thresholds=thresholds, safeguards=safeguards)
    signature = publish_version(lead, version) if publish else None
    return Register(version=version, signature=signature)


def build_with_draft(lead, *, thresholds: int = 3, safeguards: int = 3, slug: str = "acme"):
    """Version 1 published, version 2 a draft copied from it: ``(published, draft, signature)``."""
    register = build_register(lead, thresholds=thresholds, safeguards=safeguards, slug=slug)
    draft = services.draft_start(actor=lead, policy=register.policy)
    return register.version, draft, register.signature


def content_hash(version: PolicyVersion) -> str:
    return content.content_sha256(content.version_content(content.load_version(version.pk)))


def designate(version: PolicyVersion, granted_by, *people, count: int = 2) -> list:
    """Designated authorities holding every power over every model in a draft, enough for the
    quorums a template sets: ``people``, or ``count`` new holders of the authority role."""
    if not people:
        people = tuple(
            make_person(f"designee{version.pk}-{n}", roles.AUTHORITY) for n in range(1, count + 1)
        )
    for person in people:
        PauseAuthority.objects.create(
            version=version,
            user=person,
            powers=["pause", "restrict", "lift", "approve"],
            valid_from=datetime.date(2026, 1, 1),
            granted_by=granted_by,
        )
    return list(people)
