"""Editing the register: governance leads only. Every write goes through the services.

Forms work without JavaScript (a page per form, then back to the version). With htmx, an
item's form opens inline in its section and a successful save refreshes the page, so the
validation summary and the commitments always match what was saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core import access as core_access
from core import signing
from governance import access, publishing, selectors, services
from governance import forms as register_forms
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
from governance.policy_yaml import PolicyFileError
from governance.views import get_version


@dataclass(frozen=True)
class Kind:
    model: type[models.Model]
    form: type[register_forms.VersionItemForm]
    label: str
    section: str


KINDS = {
    "level": Kind(SafetyLevel, register_forms.LevelForm, "safety level", "levels"),
    "domain": Kind(RiskDomain, register_forms.DomainForm, "risk domain", "thresholds"),
    "threshold": Kind(CapabilityThreshold, register_forms.ThresholdForm, "threshold", "thresholds"),
    "condition": Kind(
        TriggerCondition, register_forms.ConditionForm, "trigger condition", "thresholds"
    ),
    "safeguard": Kind(Safeguard, register_forms.SafeguardForm, "safeguard", "safeguards"),
    "authority": Kind(PauseAuthority, register_forms.AuthorityForm, "authority", "authorities"),
}


def _version_url(version: PolicyVersion, section: str = "") -> str:
    url = reverse("governance:version", args=[version.policy.slug, version.number])
    return f"{url}#{section}" if section else url


def _item(version: PolicyVersion, kind: Kind, pk: int) -> models.Model:
    if kind.model is TriggerCondition:
        return get_object_or_404(TriggerCondition, pk=pk, threshold__version=version)
    return get_object_or_404(kind.model, pk=pk, version=version)


def _attach_errors(form: forms.BaseForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _saved(request: HttpRequest, version: PolicyVersion, section: str, text: str) -> HttpResponse:
    messages.success(request, text)
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect(_version_url(version, section))


def _refused(request: HttpRequest, version: PolicyVersion, error: Exception) -> HttpResponse:
    messages.error(request, str(error))
    return redirect(_version_url(version))


def _item_form_page(
    request: HttpRequest, version: PolicyVersion, kind: Kind, form: forms.BaseForm, title: str
) -> HttpResponse:
    template = "governance/partials/item_form.html" if request.htmx else "governance/item_form.html"  # type: ignore[attr-defined]
    context = {
        "version": version,
        "policy": version.policy,
        "form": form,
        "title": title,
        "kind": kind,
        "action": request.get_full_path(),
        "back": _version_url(version, kind.section),
    }
    # htmx swaps only 2xx answers: the inline form comes back as 200 with its errors.
    failed = bool(form.errors) and not request.htmx  # type: ignore[attr-defined]
    return render(request, template, context, status=400 if failed else 200)


def _edit(
    request: HttpRequest, version: PolicyVersion, kind: Kind, instance: models.Model, title: str
) -> HttpResponse:
    if not version.is_draft:
        return _refused(request, version, services.RegisterError("Only a draft can be edited."))
    form = kind.form(request.POST or None, instance=instance, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            item = services.item_save(
                actor=core_access.acting_user(request), item=form.save(commit=False)
            )
        except ValidationError as error:
            _attach_errors(form, error)
        except services.RegisterError as error:
            return _refused(request, version, error)
        else:
            return _saved(request, version, kind.section, f"Saved {kind.label} {item}.")
    return _item_form_page(request, version, kind, form, title)


@core_access.requires(access.EDIT)
@require_http_methods(["GET", "POST"])
def item_add(request: HttpRequest, slug: str, number: int, kind: str) -> HttpResponse:
    version, spec = get_version(slug, number), KINDS[kind]
    if spec.model is TriggerCondition:
        threshold = get_object_or_404(
            CapabilityThreshold, pk=request.GET.get("threshold") or 0, version=version
        )
        instance: models.Model = TriggerCondition(threshold=threshold)
        return _edit(request, version, spec, instance, f"Add a trigger condition to {threshold}")
    return _edit(request, version, spec, spec.model(version=version), f"Add a {spec.label}")


@core_access.requires(access.EDIT)
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, slug: str, number: int, kind: str, pk: int) -> HttpResponse:
    version, spec = get_version(slug, number), KINDS[kind]
    item = _item(version, spec, pk)
    return _edit(request, version, spec, item, f"Edit {spec.label} {item}")


@core_access.requires(access.EDIT)
@require_POST
def item_delete(request: HttpRequest, slug: str, number: int, kind: str, pk: int) -> HttpResponse:
    version, spec = get_version(slug, number), KINDS[kind]
    item = _item(version, spec, pk)
    try:
        services.item_delete(actor=core_access.acting_user(request), item=item)
    except services.RegisterError as error:
        return _refused(request, version, error)
    return _saved(request, version, spec.section, f"Removed {spec.label} {item}.")


@core_access.requires(access.EDIT)
@require_http_methods(["GET", "POST"])
def version_settings(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = get_version(slug, number)
    if not version.is_draft:
        return _refused(request, version, services.RegisterError("Only a draft can be edited."))
    form = register_forms.VersionSettingsForm(request.POST or None, instance=version)
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(
                actor=core_access.acting_user(request), version=version, changes=form.cleaned_data
            )
        except ValidationError as error:
            _attach_errors(form, error)
        except services.RegisterError as error:
            return _refused(request, version, error)
        else:
            return _saved(request, version, "settings", "Saved the version's settings.")
    return render(
        request,
        "governance/version_settings.html",
        {"version": version, "policy": version.policy, "form": form},
        status=400 if form.errors else 200,
    )


@core_access.requires(access.EDIT)
@require_POST
def draft_start(request: HttpRequest, slug: str) -> HttpResponse:
    policy = get_object_or_404(Policy, slug=slug)
    try:
        version = services.draft_start(actor=core_access.acting_user(request), policy=policy)
    except services.RegisterError as error:
        messages.error(request, str(error))
        return redirect("governance:policy", slug=slug)
    messages.success(request, f"Started draft version {version.number}.")
    return redirect(_version_url(version))


@core_access.requires(access.EDIT)
@require_POST
def draft_discard(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = get_version(slug, number)
    try:
        services.draft_discard(actor=core_access.acting_user(request), version=version)
    except services.RegisterError as error:
        return _refused(request, version, error)
    messages.success(request, f"Discarded draft version {number}.")
    return redirect("governance:policy", slug=slug)


@core_access.requires(access.PUBLISH)
@require_http_methods(["GET", "POST"])
def version_sign(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = get_version(slug, number)
    if not version.is_draft:
        return _refused(request, version, services.RegisterError("This version is not a draft."))
    view = selectors.register_view(version.pk, today=timezone.localdate())
    form = register_forms.SignForm(
        request.POST or None, initial={"content_sha256": view.content_sha256}
    )
    if request.method == "POST" and form.is_valid():
        try:
            reauth = signing.reauthenticate(
                request=request,
                user=core_access.acting_user(request),
                password=form.cleaned_data["password"],
                otp_token=form.cleaned_data["otp_token"],
            )
            outcome = publishing.version_sign(
                actor=core_access.acting_user(request),
                version=version,
                reauth=reauth,
                expected_sha256=form.cleaned_data["content_sha256"],
            )
        except signing.ReauthenticationFailed as error:
            form.add_error("password", str(error))
        except services.RegisterError as error:
            return _refused(request, version, error)
        else:
            if outcome.published:
                text = f"Signed. Version {number} is now in force."
            else:
                text = (
                    f"Signed ({outcome.signers} of {outcome.quorum}). Waiting for more signatures."
                )
            messages.success(request, text)
            return redirect(_version_url(version))
    return render(
        request,
        "governance/version_sign.html",
        {
            "version": version,
            "policy": version.policy,
            "form": form,
            "register": view,
            "meaning": publishing.PUBLISH,
            "signatures": publishing.signatures_of(version, view.content_sha256),
        },
        status=400 if form.errors else 200,
    )


@core_access.requires(access.CREATE)
@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest) -> HttpResponse:
    form = register_forms.PolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        version = services.policy_create(
            actor=core_access.acting_user(request), **form.cleaned_data
        )
        messages.success(request, f"Created {version.policy.name} with an empty draft.")
        return redirect(_version_url(version))
    return render(
        request, "governance/policy_new.html", {"form": form}, status=400 if form.errors else 200
    )


def _import(request: HttpRequest, text: str | None, name: str | None) -> Any:
    if name is not None:
        return services.template_load(actor=core_access.acting_user(request), name=name)
    return services.policy_import(actor=core_access.acting_user(request), text=text or "")


@core_access.requires(access.EDIT)
@require_http_methods(["GET", "POST"])
def policy_import(request: HttpRequest) -> HttpResponse:
    form = register_forms.ImportForm(request.POST or None, request.FILES or None)
    problems: list[Any] = []
    if request.method == "POST":
        name = request.POST.get("template")
        if name is not None or form.is_valid():
            try:
                version = _import(
                    request, form.cleaned_data.get("yaml") if name is None else None, name
                )
            except PolicyFileError as error:
                problems = error.problems
            except (services.RegisterError, ValidationError) as error:
                problems = [str(error)]
            else:
                messages.success(request, f"Imported as draft version {version.number}.")
                return redirect(_version_url(version))
    failed = bool(problems or form.errors)
    return render(
        request,
        "governance/policy_import.html",
        {"form": form, "problems": problems, "templates": services.TEMPLATES},
        status=400 if failed else 200,
    )
