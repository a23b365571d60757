"""Every change to the commitment register: one function per move, each in one transaction,
each writing its audit event. Publishing lives in ``governance.publishing``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Max

from core import audit
from governance import access, content, policy_yaml
from governance.models import (
    CapabilityThreshold,
    PauseAuthority,
    Policy,
    PolicyVersion,
    RiskDomain,
    Safeguard,
    SafetyLevel,
    TriggerCondition,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "policy_templates"
TEMPLATES = {
    "rsp": "RSP-style: AI Safety Levels ASL-1 to ASL-4 (ASL-4 still to be defined)",
    "preparedness": "Preparedness-style: High and Critical capability thresholds",
    "fsf": "FSF-style: critical capability levels with alert thresholds",
}


class RegisterError(Exception):
    """A move the register does not allow; the message is meant for the person who tried."""


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def locked_draft(version: PolicyVersion) -> PolicyVersion:
    """Lock the version row for this transaction; refuse anything but a draft."""
    locked = PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
    if not locked.is_draft:
        raise RegisterError(
            f"Version {locked.number} is {locked.get_state_display().lower()} and cannot change: "
            "start a new draft instead."
        )
    return locked


def snapshot(item: models.Model) -> dict[str, Any]:
    """An item's fields as JSON data for the audit trail (related items by their code)."""
    data: dict[str, Any] = {}
    for field in item._meta.concrete_fields:
        if field.primary_key or field.name == "version":
            continue
        value = getattr(item, field.name)
        if isinstance(value, models.Model):
            value = getattr(value, "code", None) or str(value)
        elif isinstance(value, date | datetime):
            value = value.isoformat()
        data[field.name] = value
    return data


def _next_number(policy: Policy) -> int:
    return (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1


# --- policies and drafts -----------------------------------------------------------------------


@transaction.atomic
def policy_create(*, actor: User, name: str, slug: str) -> PolicyVersion:
    """A new policy with an empty first draft."""
    _require(access.can_create_policy(actor))
    policy = Policy(name=name, slug=slug, created_by=actor)
    policy.full_clean()
    policy.save()
    audit.record(
        action="governance.policy.created",
        actor=actor,
        subject=policy,
        obj=policy,
        after={"name": name, "slug": slug},
    )
    return _version_create(actor=actor, policy=policy, label="1", based_on=None)


def _version_create(
    *, actor: User, policy: Policy, label: str, based_on: PolicyVersion | None, **fields: Any
) -> PolicyVersion:
    if policy.versions.filter(state=PolicyVersion.State.DRAFT).exists():
        raise RegisterError(f"{policy.name} already has a draft: finish or discard it first.")
    version = PolicyVersion.objects.create(
        policy=policy,
        number=_next_number(policy),
        label=label,
        based_on=based_on,
        created_by=actor,
        **fields,
    )
    return version


@transaction.atomic
def draft_start(*, actor: User, policy: Policy) -> PolicyVersion:
    """A new draft: a copy of the version in force (or an empty one if none is)."""
    _require(access.can_edit_register(actor))
    Policy.objects.select_for_update().get(pk=policy.pk)  # one draft at a time, even in a race
    # Its newest published version, in force or superseded (by another policy, say).
    in_force = policy.versions.exclude(state=PolicyVersion.State.DRAFT).order_by("-number").first()
    if in_force is None:
        version = _version_create(actor=actor, policy=policy, label="1", based_on=None)
    else:
        data = content.version_content(content.load_version(in_force.pk))
        data["version"]["label"] = str(_next_number(policy))
        version = _create_from_content(actor=actor, policy=policy, data=data, based_on=in_force)
    based_on = in_force.number if in_force else None
    audit.record(
        action="governance.policy_version.draft_started",
        actor=actor,
        subject=version,
        obj=version,
        after={"number": version.number, "based_on": based_on},
    )
    return version


@transaction.atomic
def draft_discard(*, actor: User, version: PolicyVersion) -> None:
    _require(access.can_edit_register(actor))
    version = locked_draft(version)
    before = content.version_content(content.load_version(version.pk))
    audit.record(
        action="governance.policy_version.discarded",
        actor=actor,
        obj=version,
        subject=version,
        before=before,
    )
    # Items protect the levels and domains they point at, so delete from the leaves inward.
    TriggerCondition.objects.filter(threshold__version=version).delete()
    for model in (CapabilityThreshold, Safeguard, PauseAuthority, SafetyLevel, RiskDomain):
        model._default_manager.filter(version=version).delete()
    version.delete()


@transaction.atomic
def version_update(
    *, actor: User, version: PolicyVersion, changes: dict[str, Any]
) -> PolicyVersion:
    """Change a draft's own settings (label, changelog, interval, baseline level, quorum)."""
    _require(access.can_edit_register(actor))
    version = locked_draft(version)
    allowed = {
        "label",
        "changelog",
        "reevaluation_interval_days",
        "baseline_level",
        "signing_quorum",
        "separation_waiver",
    }
    if unknown := set(changes) - allowed:
        raise RegisterError(f"These settings cannot be changed here: {', '.join(sorted(unknown))}")
    before = snapshot(version)
    for name, value in changes.items():
        setattr(version, name, value)
    from governance.publishing import quorum_floor

    floor = quorum_floor(version)
    if version.signing_quorum < floor:
        raise RegisterError(
            f"The version in force needs {floor} signatures to publish; a draft cannot need fewer."
        )
    version.full_clean()
    version.save()
    audit.record(
        action="governance.policy_version.changed",
        actor=actor,
        subject=version,
        obj=version,
        before=before,
        after=snapshot(version),
    )
    return version


# --- items of a draft --------------------------------------------------------------------------

ITEM_ACTIONS = {
    SafetyLevel: "governance.level",
    RiskDomain: "governance.domain",
    CapabilityThreshold: "governance.threshold",
    TriggerCondition: "governance.condition",
    Safeguard: "governance.safeguard",
    PauseAuthority: "governance.authority",
}


def item_version(item: models.Model) -> PolicyVersion:
    if isinstance(item, TriggerCondition):
        return item.threshold.version
    version: PolicyVersion = item.version  # type: ignore[attr-defined]
    return version


@transaction.atomic
def item_save(*, actor: User, item: models.Model) -> models.Model:
    """Create or change one item of a draft (a level, domain, threshold, condition, safeguard
    or authority). ``item`` carries the new values; its own ``clean`` holds its rules."""
    _require(access.can_edit_register(actor))
    locked_draft(item_version(item))
    creating = item.pk is None
    before = None if creating else snapshot(type(item)._default_manager.get(pk=item.pk))
    if isinstance(item, PauseAuthority) and creating:
        item.granted_by = actor
    item.full_clean()
    item.save()
    audit.record(
        action=f"{ITEM_ACTIONS[type(item)]}.{'created' if creating else 'changed'}",
        actor=actor,
        subject=item_version(item),
        obj=item,
        before=before,
        after=snapshot(item),
    )
    return item


@transaction.atomic
def item_delete(*, actor: User, item: models.Model) -> None:
    _require(access.can_edit_register(actor))
    locked_draft(item_version(item))
    blockers = _still_used_by(item)
    if blockers:
        raise RegisterError(f"{item} is still used by {', '.join(blockers)}: change those first.")
    audit.record(
        action=f"{ITEM_ACTIONS[type(item)]}.deleted",
        actor=actor,
        obj=item,
        subject=item_version(item),
        before=snapshot(item),
    )
    item.delete()


def _still_used_by(item: models.Model) -> list[str]:
    if isinstance(item, SafetyLevel):
        users = [*item.thresholds.all(), *item.safeguards.all()]
        if PolicyVersion.objects.filter(baseline_level=item).exists():
            users.append("the baseline level setting")  # type: ignore[arg-type]
        return [str(user) for user in users]
    if isinstance(item, RiskDomain):
        return [str(threshold) for threshold in item.thresholds.all()]
    if isinstance(item, TriggerCondition) and item.threshold.conditions.count() == 1:
        return [f"{item.threshold}, which needs at least one condition"]
    return []


# --- policy as code --------------------------------------------------------------------------


def _create_from_content(
    *, actor: User, policy: Policy, data: dict[str, Any], based_on: PolicyVersion | None
) -> PolicyVersion:
    settings = data["version"]
    version = _version_create(
        actor=actor,
        policy=policy,
        label=settings["label"],
        based_on=based_on,
        changelog=settings["changelog"],
        reevaluation_interval_days=settings["reevaluation_interval_days"],
        signing_quorum=settings["signing_quorum"],
        separation_waiver=settings.get("separation_waiver") or "",
    )
    levels = {
        item["code"]: SafetyLevel.objects.create(version=version, **item) for item in data["levels"]
    }
    domains = {
        item["code"]: RiskDomain.objects.create(version=version, **item) for item in data["domains"]
    }
    for item in data["thresholds"]:
        threshold = CapabilityThreshold.objects.create(
            version=version,
            code=item["code"],
            description=item["description"],
            domain=domains[item["domain"]],
            required_level=levels[item["required_level"]],
        )
        TriggerCondition.objects.bulk_create(
            TriggerCondition(
                threshold=threshold,
                evaluation_key=c["evaluation"],
                metric_key=c["metric"],
                comparator=c["comparator"],
                value=c["value"],
                alert_value=c["alert_value"],
            )
            for c in item["conditions"]
        )
    Safeguard.objects.bulk_create(
        Safeguard(version=version, **{**item, "minimum_level": levels[item["minimum_level"]]})
        for item in data["safeguards"]
    )
    _create_authorities(actor=actor, version=version, authorities=data["authorities"])
    if settings["baseline_level"]:
        version.baseline_level = levels[settings["baseline_level"]]
        version.save(update_fields=["baseline_level"])
    return version


def _create_authorities(
    *, actor: User, version: PolicyVersion, authorities: list[dict[str, Any]]
) -> None:
    names = {a["username"] for a in authorities} | {a.get("granted_by") or "" for a in authorities}
    users = (
        get_user_model()
        .objects.filter(username__in=names, is_active=True)
        .in_bulk(field_name="username")
    )
    for item in authorities:
        user = users.get(item["username"])
        if user is None:
            raise RegisterError(f"Authority {item['username']}: no active person has that username")
        PauseAuthority.objects.create(
            version=version,
            user=user,
            all_models=item["scope"] == "all",
            model_slugs=[] if item["scope"] == "all" else item["scope"],
            powers=item["powers"],
            valid_from=item["valid_from"],
            valid_until=item["valid_until"],
            granted_by=users.get(item.get("granted_by") or "", actor),
        )


@transaction.atomic
def policy_import(
    *, actor: User, text: str, source: str = "yaml", keep_authorities: bool = False
) -> PolicyVersion:
    """A YAML document becomes a new draft (of a new policy if its slug is new). With
    ``keep_authorities`` (a template, which names no people), a new draft of an existing
    policy keeps the designated authorities of its newest published version.

    Raises ``policy_yaml.PolicyFileError`` (each problem with its line) or ``RegisterError``;
    either way nothing is stored.
    """
    _require(access.can_edit_register(actor))
    data = policy_yaml.parse(text)
    policy = Policy.objects.select_for_update().filter(slug=data["policy"]["slug"]).first()
    if policy is None:
        _require(access.can_create_policy(actor))
        policy = Policy(name=data["policy"]["name"], slug=data["policy"]["slug"], created_by=actor)
        policy.full_clean()
        policy.save()
        audit.record(
            action="governance.policy.created",
            actor=actor,
            obj=policy,
            subject=policy,
            after=dict(data["policy"]),
        )
    previous = policy.versions.exclude(state=PolicyVersion.State.DRAFT).order_by("-number").first()
    if keep_authorities and previous is not None and not data["authorities"]:
        data["authorities"] = content.version_content(content.load_version(previous.pk))[
            "authorities"
        ]
    version = _create_from_content(actor=actor, policy=policy, data=data, based_on=None)
    audit.record(
        action="governance.policy_version.imported",
        actor=actor,
        subject=version,
        obj=version,
        reason=source,
        after=content.version_content(content.load_version(version.pk)),
    )
    return version


def template_text(name: str) -> str:
    if name not in TEMPLATES:
        raise RegisterError(
            f"There is no template called {name!r}: choose one of {', '.join(TEMPLATES)}"
        )
    return (TEMPLATES_DIR / f"{name}.yaml").read_text(encoding="utf-8")


def template_load(*, actor: User, name: str) -> PolicyVersion:
    return policy_import(
        actor=actor, text=template_text(name), source=f"template:{name}", keep_authorities=True
    )


def policy_export(version: PolicyVersion) -> str:
    data = content.version_content(content.load_version(version.pk), with_publication=True)
    return policy_yaml.dump(data)
