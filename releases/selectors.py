"""Reads for release pages and the gate API, in a bounded number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Exists, F, Q, QuerySet, Subquery
from django.utils import timezone

from core import counters
from core.access import AnyUser
from core.audit import subject_key
from core.models import AuditEvent, Signature
from core.selectors import newest_events
from evaluations import access as evaluation_access
from governance.models import IntegrityAlarm, PolicyVersion
from releases import assessment
from releases.models import Approval, Decision, Release, SafeguardStatus

# The version in force, as a subquery: annotated on a release read, it tells whether the
# release's cached verdict was built under it without a query of its own.
GOVERNING_ID = Subquery(
    PolicyVersion.objects.filter(state=PolicyVersion.State.PUBLISHED).values("pk")[:1]
)
# Whether the version in force has an open integrity alarm (its content no longer matches what
# was signed): then no cached verdict holds.
REGISTER_ALARM = Exists(
    IntegrityAlarm.objects.filter(version__state=PolicyVersion.State.PUBLISHED, cleared_at=None)
)


# What ``with_live_verdicts`` reads with each listed release.
LIVE = {
    "governing_id": GOVERNING_ID,
    "register_alarm": REGISTER_ALARM,
    "people_epoch_now": counters.current(counters.PEOPLE),
}


def gate_row(pk: int) -> Release | None:
    """A release with what the gate API answers from, the policy in force and whether it has
    an integrity alarm, in one query (the caller checks who may see it)."""
    rows = list(
        Release.objects.select_related(
            "model_version__model", "model_version__assessed_policy__policy"
        )
        .annotate(
            governing_id=GOVERNING_ID,
            register_alarm=REGISTER_ALARM,
            people_epoch_now=counters.current(counters.PEOPLE),
        )
        .filter(pk=pk)
        .order_by()[:1]
    )
    return rows[0] if rows else None


def visible_releases(user: AnyUser) -> QuerySet[Release]:
    return Release.objects.filter(model_version__model__in=evaluation_access.visible_models(user))


def release_page(release: Release, policy: PolicyVersion | None) -> dict[str, Any]:
    """Everything the release page shows, under the governing ``policy`` (read by the view)."""
    required = assessment.required_safeguards(release, policy)
    statuses = assessment.statuses_for(release, required)
    approvals = list(Approval.objects.filter(release=release).select_related("approver"))
    covering = list(
        Decision.objects.filter(assessment.covering(release))
        .select_related("lifts")
        .annotate(signed=Count("signatures"))
    )  # every decision that ever covered it: a few, and its history is filed under them
    return {
        "safeguards": [{"spec": spec, "status": statuses.get(spec["code"])} for spec in required],
        "approvals": [
            {"approval": a, "current": a.assessment_sha256 == release.assessment_sha256}
            for a in approvals
        ],
        "decisions": [
            d
            for d in covering
            if d.state == Decision.State.IN_EFFECT and d.kind in ("pause", "restrict")
        ],
        "proposed": [d for d in covering if d.state == Decision.State.PROPOSED],
        "determinations": list(
            release.model_version.determinations.only(
                "model_version", "threshold", "level", "outcome", "reason"
            )
        ),
        "timeline": timeline(release, decision_ids=[d.pk for d in covering]),
    }


def timeline(
    release: Release, limit: int = 30, decision_ids: list[int] | None = None
) -> list[AuditEvent]:
    """The latest events filed under the release or under a decision that covers it (a pause
    of its whole model shows on every one of its releases)."""
    return newest_events(
        "subject",
        history_subjects(release, decision_ids),
        limit=limit,
        fields=("action", "actor_label", "occurred_at"),
    )


def history_subjects(release: Release, decision_ids: list[int] | None = None) -> list[str]:
    """The audit subjects a release's history is filed under: itself and its decisions."""
    if decision_ids is None:
        decision_ids = list(
            Decision.objects.filter(assessment.covering(release)).values_list("pk", flat=True)
        )
    return [subject_key(release), *(f"releases.decision:{pk}" for pk in decision_ids)]


def evidence_row(release: Release, code: str) -> SafeguardStatus | None:
    """The status row holding a safeguard's evidence for this release (its own row, else its
    model version's), whether or not the current level still requires the safeguard."""
    rows = SafeguardStatus.objects.filter(
        Q(release=release) | Q(model_version=release.model_version, release=None), code=code
    )
    return rows.order_by(F("release_id").desc(nulls_last=True)).first()


def stale_approval_signatures(signatures: list[Signature]) -> set[int]:
    """Of these signatures on releases, the approvals whose release has been reassessed since
    (one query; ``core.signing.verify_signatures`` counts them as stale)."""
    return set(
        Approval.objects.filter(signature__in=signatures)
        .exclude(assessment_sha256=F("release__assessment_sha256"))
        .values_list("signature_id", flat=True)
    )


def with_live_verdicts(releases: Sequence[Any]) -> list[Any]:
    """Mark each listed release ``may_ship`` only if its cached verdict allows it and still
    holds now (lists never refresh; a verdict past its time reads as denied until the release
    page or the gate API brings it up to date). Releases annotated with ``governing_id``."""
    now = timezone.now()
    from releases import services

    for release in releases:
        release.may_ship = release.gate_allowed and services.holds(
            release,
            now=now,
            governing_id=release.governing_id,
            alarm=release.register_alarm,
            people_epoch=release.people_epoch_now,
        )
    return list(releases)


def dashboard(request: Any) -> dict[str, Any]:
    """Open escalations (blocked releases) the person may see, oldest first, and their own."""
    visible = visible_releases(request.user).select_related("model_version")
    mine = visible.filter(requested_by_id=request.user.pk).exclude(state="withdrawn")
    return {
        "escalations": list(
            visible.filter(blocked_since__isnull=False).order_by("blocked_since")[:20]
        ),
        "mine": with_live_verdicts(list(mine.annotate(**LIVE)[:10])),
        "now": timezone.now(),
    }
