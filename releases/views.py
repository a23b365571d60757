"""Release pages. Every move goes through releases.services or releases.decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import access as core_access
from core import signing
from core.api import content_length
from evaluations import access as evaluation_access
from evaluations.models import Model, ModelVersion
from governance import access as governance_access
from governance.models import PolicyVersion
from releases import access, decisions, evidence, selectors, services, workflow
from releases.forms import (
    ApprovalForm,
    DecisionForm,
    EvidenceForm,
    LiftForm,
    ReleaseForm,
    SignatureForm,
)
from releases.models import Decision, Release

READ = evaluation_access.READ_RULE
PAGE_SIZE = 50


def _release(request: HttpRequest, pk: int) -> Release:
    release = (
        selectors.visible_releases(request.user)
        .select_related("model_version__model")
        .filter(pk=pk)
        .first()
    )
    if release is None:
        raise Http404("release")
    return release


def _act(
    request: HttpRequest, release: Release, move: Callable[[], Any], done: str
) -> HttpResponse:
    try:
        move()
    except (services.ReleaseError, workflow.IllegalMove, signing.ReauthenticationFailed) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("releases:release", pk=release.pk)


@core_access.requires(READ)
@require_GET
def release_index(request: HttpRequest) -> HttpResponse:
    """Newest first, 50 a page, keyset-paginated on the release number."""
    before = request.GET.get("before", "")
    releases = (
        selectors.visible_releases(request.user)
        .select_related("model_version")
        .annotate(**selectors.LIVE)
    )
    if before.isdigit():
        releases = releases.filter(pk__lt=int(before))
    page = list(releases.order_by("-pk")[: PAGE_SIZE + 1])
    context = {
        "releases": selectors.with_live_verdicts(page[:PAGE_SIZE]),
        "next_before": page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None,
        "now": timezone.now(),
    }
    return render(request, "releases/release_index.html", context)


@core_access.requires(READ)
@require_http_methods(["GET", "POST"])
def release_new(request: HttpRequest) -> HttpResponse:
    versions = evaluation_access.feedable_versions(request.user).order_by("label")
    form = ReleaseForm(request.POST or None, versions=versions)
    if request.method == "POST" and form.is_valid():
        release = services.release_create(
            actor=core_access.acting_user(request), **form.cleaned_data
        )
        messages.success(request, "Release requested as a draft: submit it when it is ready.")
        return redirect("releases:release", pk=release.pk)
    return render(
        request, "releases/release_new.html", {"form": form}, status=400 if form.errors else 200
    )


@core_access.requires(READ)
@require_GET
def release_detail(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    user = core_access.acting_user(request)
    slug, today = release.model_version.model.slug, timezone.localdate()
    policy = PolicyVersion.objects.governing()
    # The verdict shown is true now: brought up to date here if the cached one lapsed.
    release = services.gate_now(
        release,
        governing_id=policy.pk if policy else None,
        alarm=bool(policy and policy.integrity_alarm),  # type: ignore[attr-defined]
    )
    designated = governance_access.authorities_of(policy, user=user)  # what they may do
    held = access.powers(user, slug, on=today, designated=designated)
    context = {
        "release": release,
        **selectors.release_page(release, policy),
        "is_requester": release.requested_by_id == user.pk,
        "can_feed": access.can_request(user, release.model_version.model),
        "can_verify": access.can_verify(user),
        "can_approve": access.can_approve(user, release, held),
        "can_decide": bool(held & {"pause", "restrict", "lift"}),
        "can_lift": access.can_propose(user, "lift", slug, on=today, held=held),
        "evidence_form": EvidenceForm(),
        "evidence_accept": evidence.ACCEPT,
        "approval_form": ApprovalForm(initial={"seen_sha256": release.assessment_sha256}),
        "signature_form": SignatureForm(),
        "decision_form": DecisionForm(),
        "now": timezone.now(),
    }
    return render(request, "releases/release_detail.html", context)


@core_access.requires(READ)
@require_POST
def release_submit(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    actor = core_access.acting_user(request)
    return _act(
        request,
        release,
        lambda: services.release_submit(actor=actor, release=release),
        "Submitted.",
    )


@core_access.requires(READ)
@require_POST
def release_deploy(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    actor = core_access.acting_user(request)
    return _act(
        request,
        release,
        lambda: services.release_deploy(actor=actor, release=release),
        "Recorded as deployed.",
    )


@core_access.requires(READ)
@require_POST
def release_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    actor = core_access.acting_user(request)
    return _act(
        request,
        release,
        lambda: services.release_withdraw(actor=actor, release=release),
        "Withdrawn.",
    )


@core_access.requires(READ)
@require_POST
def safeguard_implement(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    release = _release(request, pk)
    # The form's own limit names the file; this one stops a far larger body early.
    if content_length(request) > settings.EVIDENCE_MAX_BYTES + 1024 * 1024:
        return render(request, "413.html", {"limit": settings.EVIDENCE_MAX_BYTES}, status=413)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        problems = " ".join(str(m) for errors in form.errors.values() for m in errors)
        messages.error(request, f"Nothing was recorded for {code}: {problems}")
        return redirect("releases:release", pk=pk)
    actor = core_access.acting_user(request)
    return _act(
        request,
        release,
        lambda: services.safeguard_implement(
            actor=actor, release=release, code=code, **form.cleaned_data
        ),
        f"Evidence for {code} recorded.",
    )


@core_access.requires(READ)
@require_GET
def evidence_file(request: HttpRequest, pk: int, code: str) -> FileResponse:
    """The evidence file as uploaded, as a download that never renders in the app's origin."""
    release = _release(request, pk)
    row = selectors.evidence_row(release, code)
    if row is None or not row.evidence_file:
        raise Http404("evidence")
    response = FileResponse(
        row.evidence_file.open("rb"),
        as_attachment=True,
        filename=row.evidence_file_name,
        content_type=row.evidence_file_type,
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Evidence-SHA256"] = row.evidence_file_sha256
    return response


@core_access.requires(READ)
@require_POST
def safeguard_verify(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    release = _release(request, pk)
    actor = core_access.acting_user(request)
    return _act(
        request,
        release,
        lambda: services.safeguard_verify(actor=actor, release=release, code=code),
        f"{code} verified.",
    )


@core_access.requires(READ)
@require_POST
def release_approve(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    actor = core_access.acting_user(request)
    if not access.holds_power(
        actor, "approve", release.model_version.model.slug, on=timezone.localdate()
    ):
        raise PermissionDenied
    form = ApprovalForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Re-enter your password to sign.")
        return redirect("releases:release", pk=pk)

    def approve() -> None:
        reauth = signing.reauthenticate(
            request=request,
            user=actor,
            password=form.cleaned_data["password"],
            otp_token=form.cleaned_data["otp_token"],
        )
        services.release_approve(
            actor=actor,
            release=release,
            reauth=reauth,
            seen_sha256=form.cleaned_data["seen_sha256"],
        )

    return _act(request, release, approve, "Approval signed.")


@core_access.requires(READ)
@require_POST
def decision_propose(request: HttpRequest, pk: int) -> HttpResponse:
    release = _release(request, pk)
    actor = core_access.acting_user(request)
    slug, today = release.model_version.model.slug, timezone.localdate()
    if not any(access.can_propose(actor, kind, slug, on=today) for kind in ("pause", "restrict")):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Give the kind, the scope and a rationale of 20 characters or more."
        )
        return redirect("releases:release", pk=pk)
    data = form.cleaned_data
    targets: dict[str, Release | ModelVersion | Model] = {
        "release": release,
        "model_version": release.model_version,
        "model": release.model_version.model,
    }
    target = targets[data["scope"]]
    return _act(
        request,
        release,
        lambda: decisions.decision_propose(
            actor=actor,
            kind=data["kind"],
            target=target,
            rationale=data["rationale"],
            allowed_contexts=data["allowed_contexts"],
        ),
        "Decision proposed: it needs its quorum of signatures.",
    )


@core_access.requires(READ)
@require_POST
def decision_lift(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    """Propose lifting a pause or restriction in effect on this release; the lift is scoped
    like the decision it lifts and takes effect at the same quorum."""
    release = _release(request, pk)
    lifted = Decision.objects.filter(pk=decision_pk).first()
    if lifted is None or release not in decisions.affected_releases(lifted):
        raise Http404("decision")
    actor = core_access.acting_user(request)
    slug = release.model_version.model.slug
    if not access.can_propose(actor, "lift", slug, on=timezone.localdate()):
        raise PermissionDenied
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a rationale of 20 characters or more for the lift.")
        return redirect("releases:release", pk=pk)
    target = lifted.release or lifted.model_version or lifted.model
    return _act(
        request,
        release,
        lambda: decisions.decision_propose(
            actor=actor,
            kind="lift",
            target=target,  # type: ignore[arg-type]
            rationale=form.cleaned_data["rationale"],
            lifts=lifted,
        ),
        "Lift proposed: it needs its quorum of signatures.",
    )


@core_access.requires(READ)
@require_POST
def decision_sign(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    release = _release(request, pk)
    decision = Decision.objects.filter(pk=decision_pk).first()
    if decision is None or release not in decisions.affected_releases(decision):
        raise Http404("decision")
    actor = core_access.acting_user(request)
    if not access.holds_power(
        actor, decision.kind, release.model_version.model.slug, on=timezone.localdate()
    ):
        raise PermissionDenied
    form = SignatureForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Re-enter your password to sign.")
        return redirect("releases:release", pk=pk)

    def sign() -> None:
        reauth = signing.reauthenticate(
            request=request,
            user=actor,
            password=form.cleaned_data["password"],
            otp_token=form.cleaned_data["otp_token"],
        )
        decisions.decision_sign(actor=actor, decision=decision, reauth=reauth)

    return _act(request, release, sign, "Decision signed.")
