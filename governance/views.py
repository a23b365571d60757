"""Reading the register: every signed-in person may. Editing lives in ``views_edit``."""

from __future__ import annotations

import base64

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core import access as core_access
from core.models import Signature
from governance import access, diff, publishing, selectors, services
from governance.models import Policy, PolicyVersion


def get_version(slug: str, number: int) -> PolicyVersion:
    return get_object_or_404(
        PolicyVersion.objects.select_related("policy"), policy__slug=slug, number=number
    )


@core_access.requires(access.READ)
@require_GET
def register_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "governance/register_index.html",
        {
            "rows": selectors.policies_overview(),
            "governing": PolicyVersion.objects.governing(),
            "can_create": access.can_create_policy(request.user),
            "can_edit": access.can_edit_register(request.user),
            "templates": services.TEMPLATES,
        },
    )


@core_access.requires(access.READ)
@require_GET
def policy_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The register page: the version in force, as commitments."""
    policy = get_object_or_404(Policy, slug=slug)
    versions = list(policy.versions.order_by("-number"))
    current = next((v for v in versions if v.state == PolicyVersion.State.PUBLISHED), None)
    draft = next((v for v in versions if v.is_draft), None)
    view = selectors.register_view(current.pk, today=timezone.localdate()) if current else None
    return render(
        request,
        "governance/policy_detail.html",
        {
            "policy": policy,
            "versions": versions,
            "register": view,
            "draft": draft,
            "can_edit": access.can_edit_register(request.user),
        },
    )


@core_access.requires(access.READ)
@require_GET
def version_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = get_version(slug, number)
    view = selectors.register_view(version.pk, today=timezone.localdate())
    editable = version.is_draft and access.can_edit_register(request.user)
    return render(
        request,
        "governance/version_detail.html",
        {
            "policy": version.policy,
            "version": view.version,
            "register": view,
            "editable": editable,
            "can_sign": version.is_draft and access.can_publish(request.user),
            "signatures": publishing.signatures_of(version, view.content_sha256),
            "history": selectors.history(version),
        },
    )


@core_access.requires(access.READ)
@require_GET
def version_diff(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = get_version(slug, number)
    others = list(version.policy.versions.exclude(pk=version.pk).order_by("-number"))
    against_number = request.GET.get("against")
    if against_number is None:
        default = version.based_on or (others[0] if others else None)
        against = default
    else:
        if not against_number.isdigit():
            return render(request, "400.html", status=400)
        against = next((v for v in others if v.number == int(against_number)), None)
        if against is None:
            raise Http404("version")
    result = None
    if against is not None:
        today = timezone.localdate()
        old = selectors.register_view(against.pk, today=today).content
        new = selectors.register_view(version.pk, today=today).content
        result = diff.diff(old, new)
    return render(
        request,
        "governance/version_diff.html",
        {
            "policy": version.policy,
            "version": version,
            "against": against,
            "others": others,
            "diff": result,
        },
    )


@core_access.requires(access.READ)
@require_GET
def version_export(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = get_version(slug, number)
    response = HttpResponse(
        services.policy_export(version), content_type="application/yaml; charset=utf-8"
    )
    filename = f"{version.policy.slug}-v{version.number}.yaml"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _signature(version: PolicyVersion, pk: int) -> Signature:
    return get_object_or_404(
        Signature, pk=pk, object_type="governance.policyversion", object_id=str(version.pk)
    )


@core_access.requires(access.READ)
@require_GET
def signature_manifest(request: HttpRequest, slug: str, number: int, pk: int) -> HttpResponse:
    signature = _signature(get_version(slug, number), pk)
    response = HttpResponse(signature.manifest.encode("utf-8"), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="manifest-{signature.pk}.json"'
    return response


@core_access.requires(access.READ)
@require_GET
def signature_file(request: HttpRequest, slug: str, number: int, pk: int) -> HttpResponse:
    signature = _signature(get_version(slug, number), pk)
    response = HttpResponse(
        base64.b64decode(signature.signature), content_type="application/octet-stream"
    )
    response["Content-Disposition"] = f'attachment; filename="signature-{signature.pk}.bin"'
    return response
