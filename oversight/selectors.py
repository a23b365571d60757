"""Reads of the history for auditors, always through ``oversight.access``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from core.access import AnyUser
from core.models import AuditEvent, Signature
from core.selectors import chain_summary, newest_seqs
from evaluations import access as evaluation_access
from evaluations.models import Model, ModelVersion
from governance.models import Policy, PolicyVersion
from oversight import access
from oversight.forms import AuditFilterForm
from releases import selectors as release_selectors
from releases.models import Approval, Decision, DecisionSignature, Release

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before: int | None


def filtered_events(user: AnyUser, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    """The events ``user`` may read that match a valid filter form (newest first)."""
    return narrowed(
        form,
        events=access.visible_events(user),
        models=evaluation_access.visible_models(user),
        releases=release_selectors.visible_releases(user),
    )


def narrowed(
    form: AuditFilterForm,
    *,
    events: QuerySet[AuditEvent],
    models: QuerySet[Model],
    releases: QuerySet[Release],
) -> QuerySet[AuditEvent]:
    """``events`` narrowed by the form; a model or release outside ``models`` / ``releases``
    matches nothing."""
    data = form.cleaned_data
    if data.get("action"):
        events = events.filter(action__startswith=data["action"])
    if data.get("actor"):
        events = events.filter(actor_label=data["actor"])
    for field in ("object_type", "object_id", "subject"):
        if data.get(field):
            events = events.filter(**{field: data[field]})
    if data.get("model"):
        model = models.filter(slug=data["model"]).first()
        events = events.filter(scope_id=model.pk) if model else events.none()
    if data.get("release"):
        events = events.filter(subject__in=_release_subjects(releases, data["release"]))
    start, end = form.bounds()
    if start:
        events = events.filter(occurred_at__gte=start)
    if end:
        events = events.filter(occurred_at__lt=end)
    return events.order_by("-seq")


# What a page may be narrowed by. With none of them, or a release alone, the page is read from
# index ranges (``newest_seqs``); otherwise by the general query (``narrowed``).
FILTERS = (
    "action", "actor", "model", "release", "object_type", "object_id", "subject", "since",
    "until",
)  # fmt: skip


def audit_page(user: AnyUser, form: AuditFilterForm) -> AuditPage:
    """The page of events ``user`` may read matching a valid form, keyset-paginated on seq: a
    page deep in the chain costs what the first one does."""
    data = form.cleaned_data
    before = data.get("before")
    readable = access.scopes(user)
    keyed = [key for key in FILTERS if data.get(key)]
    if keyed == ["release"]:  # a release's history: its records' index ranges, merged
        subjects = _release_subjects(release_selectors.visible_releases(user), data["release"])
        rows = _events(newest_seqs("subject", subjects, limit=PAGE_SIZE + 1, before=before))
    elif not keyed and readable is not None:  # a scoped reader's whole history, the same way
        rows = _events(newest_seqs("scope_id", readable, limit=PAGE_SIZE + 1, before=before))
    else:
        events = filtered_events(user, form)
        if before:
            events = events.filter(seq__lt=before)
        rows = list(events.select_related("actor")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return AuditPage(events=rows, next_before=rows[-1].seq if more else None)


def _events(seqs: list[int]) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(seq__in=seqs).select_related("actor").order_by("-seq"))


def _release_subjects(releases: QuerySet[Release], pk: int) -> list[str]:
    """The records a release's history is filed under; none for a release out of reach."""
    release = releases.select_related("model_version").filter(pk=pk).first()
    return release_selectors.history_subjects(release) if release else []


@dataclass(frozen=True)
class DiffRow:
    key: str
    before: str
    after: str
    changed: bool


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, indent=1, ensure_ascii=False)


def diff(before: Any, after: Any) -> list[DiffRow]:
    """Field by field, for the event page. Non-object values show as one row."""
    if not isinstance(before, dict | None) or not isinstance(after, dict | None):
        return [DiffRow("value", _shown(before), _shown(after), before != after)]
    before, after = before or {}, after or {}
    keys = list(before) + [key for key in after if key not in before]
    return [
        DiffRow(
            key,
            _shown(before.get(key)),
            _shown(after.get(key)),
            before.get(key) != after.get(key),
        )
        for key in keys
    ]


def subject_url(subject: str) -> str | None:
    """The page of the record an event is filed under, where there is one."""
    label, _, pk_text = subject.partition(":")
    if not pk_text.isdigit():
        return None
    pk = int(pk_text)
    if label == "releases.release":
        return reverse("releases:release", kwargs={"pk": pk})
    if label == "releases.decision":
        return reverse("oversight:decision", kwargs={"pk": pk})
    if label == "evaluations.modelversion":
        version = ModelVersion.objects.filter(pk=pk).values_list("label", flat=True).first()
        return reverse("evaluations:version", kwargs={"label": version}) if version else None
    if label == "evaluations.model":
        slug = Model.objects.filter(pk=pk).values_list("slug", flat=True).first()
        return reverse("evaluations:model", kwargs={"slug": slug}) if slug else None
    if label == "governance.policyversion":
        found = PolicyVersion.objects.filter(pk=pk).values_list("policy__slug", "number").first()
        return (
            reverse("governance:version", kwargs={"slug": found[0], "number": found[1]})
            if found
            else None
        )
    if label == "governance.policy":
        slug = Policy.objects.filter(pk=pk).values_list("slug", flat=True).first()
        return reverse("governance:policy", kwargs={"slug": slug}) if slug else None
    return None


@dataclass(frozen=True)
class SignedThing:
    """What a signature was given to, and whether what was signed still holds."""

    label: str
    url: str | None
    current: bool
    status: str


def signed_thing(signature: Signature) -> SignedThing:
    kind, pk = signature.object_type, int(signature.object_id)
    if kind == "releases.release":
        approval = Approval.objects.select_related("release").filter(signature=signature).first()
        if approval is not None:
            release = approval.release
            current = approval.assessment_sha256 == release.assessment_sha256
            return SignedThing(
                f"Approval of {release.title}",
                reverse("releases:release", kwargs={"pk": release.pk}),
                current,
                f"the release's assessment is still version {approval.assessment_version}"
                if current
                else f"stale: signed for assessment version {approval.assessment_version}, "
                f"the release is now at version {release.assessment_version}",
            )
    if kind == "releases.decision":
        decision = Decision.objects.filter(pk=pk).first()
        if decision is not None:
            return SignedThing(
                f"{decision.get_kind_display()} decision",
                reverse("oversight:decision", kwargs={"pk": pk}),
                decision.state == Decision.State.IN_EFFECT
                or (decision.state == Decision.State.PROPOSED),
                f"the decision is {decision.get_state_display().lower()}",
            )
    if kind == "governance.policyversion":
        version = PolicyVersion.objects.select_related("policy").filter(pk=pk).first()
        if version is not None:
            return SignedThing(
                f"{version.policy.name} version {version.number}",
                reverse(
                    "governance:version",
                    kwargs={"slug": version.policy.slug, "number": version.number},
                ),
                version.state == PolicyVersion.State.PUBLISHED,
                f"the version is {version.get_state_display().lower()}",
            )
    return SignedThing(f"{kind} #{pk}", None, True, "")


def decision_signatures(decision: Decision) -> list[DecisionSignature]:
    return list(
        DecisionSignature.objects.filter(decision=decision).select_related("signature", "signer")
    )


def dashboard(request: HttpRequest) -> dict[str, Any]:
    """The head of the chain and the latest events the person may read."""
    return {
        "chain": chain_summary(),
        "recent_events": list(access.visible_events(request.user).order_by("-seq")[:8]),
    }
