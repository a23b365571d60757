"""Register integrity: published content is what its signers signed.

A published version's content hash is signed by its publishers (each signature's manifest names
it) and its full content is kept in the ``governance.policy_version.published`` audit event, in
the hash chain. The database refuses edits to published rows; if that guard is ever bypassed,
the content rebuilt from the rows no longer has the signed hash, and this says so, naming the
item and field that differ from the signed copy. The check runs when published content is loaded
into force (``content.in_force_content``), in ``verify_audit`` and in the checkpoint job; a
finding is stored as an open alarm on the version, so that every process's gates deny with
``register_integrity`` until the content is restored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import audit
from core.models import AuditEvent, Signature
from governance import content
from governance.models import IntegrityAlarm, PolicyVersion

log = logging.getLogger(__name__)
PUBLISHED = "governance.policy_version.published"
PUBLISH_MEANING = "governance.policy_version.publish"


def _keyed(items: list[Any]) -> dict[str, Any] | list[Any]:
    """Lists of register items keyed by what names them (code, username), so a difference is
    reported as ``thresholds[CBRN-3].conditions[0].value`` rather than by position."""
    if items and all(isinstance(i, dict) and ("code" in i or "username" in i) for i in items):
        return {str(i.get("code", i.get("username"))): i for i in items}
    return items


def differences(signed: Any, stored: Any, path: str = "") -> list[str]:
    """Where ``stored`` differs from ``signed``: one line per item and field."""
    if isinstance(signed, list) and isinstance(stored, list):
        signed, stored = _keyed(signed), _keyed(stored)
        if isinstance(signed, list) and isinstance(stored, list):
            if len(signed) != len(stored):
                return [f"{path}: {len(signed)} signed, {len(stored)} stored"]
            return [d for i, (a, b) in enumerate(zip(signed, stored, strict=True))
                    for d in differences(a, b, f"{path}[{i}]")]  # fmt: skip
        if isinstance(signed, dict) and isinstance(stored, dict):
            lines = []
            for key in sorted(signed.keys() | stored.keys()):
                where = f"{path}[{key}]"
                if key not in stored:
                    lines.append(f"{where}: signed but missing")
                elif key not in signed:
                    lines.append(f"{where}: not signed but present")
                else:
                    lines += differences(signed[key], stored[key], where)
            return lines
    if isinstance(signed, dict) and isinstance(stored, dict):
        lines = []
        for key in sorted(signed.keys() | stored.keys()):
            where = f"{path}.{key}" if path else key
            if key not in stored or key not in signed:
                lines.append(f"{where}: {signed.get(key)!r} signed, {stored.get(key)!r} stored")
            else:
                lines += differences(signed[key], stored[key], where)
        return lines
    if signed != stored:
        return [f"{path}: {signed!r} signed, {stored!r} stored"]
    return []


def signed_copy(version: PolicyVersion) -> dict[str, Any] | None:
    """The content as published, from its audit event (None for versions published before
    the event carried it)."""
    after = (
        AuditEvent.objects.filter(
            action=PUBLISHED, object_type="governance.policyversion", object_id=str(version.pk)
        )
        .values_list("after", flat=True)
        .first()
    )
    return (after or {}).get("content")


def _signed_hashes(version: PolicyVersion) -> set[str]:
    return {
        json.loads(manifest)["subject"]["content_sha256"]
        for manifest in Signature.objects.filter(
            object_type="governance.policyversion",
            object_id=str(version.pk),
            meaning=PUBLISH_MEANING,
        ).values_list("manifest", flat=True)
    }


def problems_of(version: PolicyVersion) -> list[str]:
    """What of a published (or superseded) version's stored content differs from what its
    publishers signed; empty when it matches."""
    name = f"{version.policy.slug}:{version.number}"
    stored = content.version_content(content.load_version(version.pk))
    digest = content.content_sha256(stored)
    lines = []
    if version.content_sha256 not in _signed_hashes(version):
        lines.append(f"{name}: its content hash is not the one its publishers signed")
    if digest != version.content_sha256:
        signed = signed_copy(version)
        found = differences(signed, stored) if signed is not None else []
        lines += [f"{name} {line}" for line in found] or [
            f"{name}: the stored content does not have the signed hash {version.content_sha256}"
        ]
    return lines


def designated_in_signed_content(user: object) -> str | None:
    """Why ``user``'s username cannot change: a published or superseded version designates
    them, and its signed content names them by username."""
    versions = (
        PolicyVersion.objects.exclude(state=PolicyVersion.State.DRAFT)
        .filter(authorities__user=user)  # type: ignore[misc]
        .select_related("policy")
        .order_by("pk")
    )
    names = [f"{v.policy.slug}:{v.number}" for v in versions]
    if not names:
        return None
    return (
        f"Published policy versions designate this person by username ({', '.join(names)}), "
        "and their signed content would no longer match: keep the username (change the name "
        "shown instead), or designate a new account in a new version."
    )


def check_published() -> list[str]:
    """Every published and superseded version; findings raise (or clear) alarms."""
    problems: list[str] = []
    for version in PolicyVersion.objects.exclude(state=PolicyVersion.State.DRAFT).select_related(
        "policy"
    ):
        found = problems_of(version)
        alarm_set(version, found)
        problems += found
    return problems


@transaction.atomic
def alarm_set(version: PolicyVersion, problems: list[str]) -> None:
    """Raise an alarm for these findings, or clear the open one when there are none."""
    open_alarm = (
        IntegrityAlarm.objects.select_for_update().filter(version=version, cleared_at=None).first()
    )
    if problems and open_alarm is None:
        alarm = IntegrityAlarm.objects.create(version=version, problems=problems)
        for line in problems:
            log.error("register integrity: %s", line)
        audit.record(
            action="governance.register.integrity_failed",
            actor="system:integrity",
            obj=alarm,
            subject=version,
            after={"problems": problems},
        )
        content.forget()
    elif not problems and open_alarm is not None:
        open_alarm.cleared_at = timezone.now()
        open_alarm.save(update_fields=["cleared_at"])
        audit.record(
            action="governance.register.integrity_restored",
            actor="system:integrity",
            obj=open_alarm,
            subject=version,
            before={"problems": open_alarm.problems},
        )
