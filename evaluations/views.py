"""Models, their versions and evaluations, as pages. Objects a person may not see are 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core import access as core_access
from core import signing
from core.api import content_length
from evaluations import access, imports, overrides, selectors, services
from evaluations.forms import EvaluationForm, ImportForm, ModelForm, ModelVersionForm, OverrideForm
from evaluations.models import Evaluation, ImportJob, Model


def _model(request: HttpRequest, slug: str) -> Model:
    model = access.visible_models(request.user).filter(slug=slug).first()
    if model is None:
        raise Http404("model")
    return model


def _save(form: ModelForm | ModelVersionForm | EvaluationForm, create: Callable[[], Any]) -> Any:
    """Call a service; a validation error it raises is shown on the form instead."""
    try:
        return create()
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    return None


def _page_number(request: HttpRequest) -> int:
    """?page=N, 1 for anything that is not a page number (never an error page)."""
    value = request.GET.get("page", "1")
    return min(int(value), 10_000) if value.isdigit() and int(value) > 0 else 1


@core_access.requires(access.READ_RULE)
@require_GET
def model_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "evaluations/model_index.html",
        {
            "heat": selectors.heat_map(request.user, page=_page_number(request)),
            "can_register": access.can_register_model(request.user),
        },
    )


@core_access.requires(access.REGISTER_RULE)
@require_http_methods(["GET", "POST"])
def model_new(request: HttpRequest) -> HttpResponse:
    form = ModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = core_access.acting_user(request)
        model = _save(form, lambda: services.model_create(actor=actor, **form.cleaned_data))
        if model is not None:
            messages.success(request, f"Registered {model}.")
            return redirect("evaluations:model", slug=form.cleaned_data["slug"])
    return render(
        request,
        "evaluations/form.html",
        {"form": form, "title": "Register a model"},
        status=400 if form.errors else 200,
    )


@core_access.requires(access.READ_RULE)
@require_GET
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = _model(request, slug)
    versions = model.versions.order_by("-created_at")
    return render(
        request,
        "evaluations/model_detail.html",
        {
            "model": model,
            "versions": versions,
            "can_feed": access.can_feed(request.user, model),
        },
    )


@core_access.requires(access.READ_RULE)
@require_http_methods(["GET", "POST"])
def model_version_new(request: HttpRequest, slug: str) -> HttpResponse:
    model = _model(request, slug)
    if not access.can_feed(request.user, model):
        raise PermissionDenied
    form = ModelVersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = core_access.acting_user(request)
        version = _save(
            form,
            lambda: services.model_version_create(actor=actor, model=model, **form.cleaned_data),
        )
        if version is not None:
            messages.success(
                request, f"Registered {version}; its level follows once results arrive."
            )
            return redirect("evaluations:version", label=form.cleaned_data["label"])
    return render(
        request,
        "evaluations/form.html",
        {"form": form, "title": f"New version of {model}"},
        status=400 if form.errors else 200,
    )


@core_access.requires(access.READ_RULE)
@require_GET
def model_version_detail(request: HttpRequest, label: str) -> HttpResponse:
    version = (
        access.visible_versions(request.user)
        .select_related("model", "assessed_policy__policy")
        .filter(label=label)
        .first()
    )
    if version is None:
        raise Http404("model version")
    return render(
        request,
        "evaluations/version_detail.html",
        {
            "version": version,
            "model": version.model,
            "can_feed": access.can_feed(request.user, version.model),
            "can_override": overrides.may_override(core_access.acting_user(request), version),
            **selectors.version_page(version),
        },
    )


@core_access.requires(access.READ_RULE)
@require_GET
def evaluation_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "evaluations/evaluation_index.html",
        {
            "evaluations": Evaluation.objects.order_by("key")[:500],
            "can_manage": access.can_manage_evaluations(request.user),
        },
    )


@core_access.requires(access.MANAGE_EVALUATIONS_RULE)
@require_http_methods(["GET", "POST"])
def evaluation_new(request: HttpRequest) -> HttpResponse:
    form = EvaluationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = core_access.acting_user(request)
        evaluation = _save(
            form, lambda: services.evaluation_create(actor=actor, **form.cleaned_data)
        )
        if evaluation is not None:
            messages.success(request, f"Registered evaluation {evaluation}.")
            return redirect("evaluations:evaluation", key=form.cleaned_data["key"])
    return render(
        request,
        "evaluations/form.html",
        {"form": form, "title": "Register an evaluation"},
        status=400 if form.errors else 200,
    )


@core_access.requires(access.READ_RULE)
@require_GET
def evaluation_detail(request: HttpRequest, key: str) -> HttpResponse:
    evaluation = Evaluation.objects.filter(key=key).first()
    if evaluation is None:
        raise Http404("evaluation")
    charts = [
        {"series": line, "svg": selectors.svg_geometry(line)}
        for line in selectors.evaluation_chart(request.user, key)
    ]
    return render(
        request, "evaluations/evaluation_detail.html", {"evaluation": evaluation, "charts": charts}
    )


@core_access.requires(access.READ_RULE)
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    versions = access.feedable_versions(request.user).select_related("model").order_by("label")
    if request.method == "POST" and content_length(request) > settings.IMPORT_MAX_BYTES:
        return render(request, "413.html", {"limit": settings.IMPORT_MAX_BYTES}, status=413)
    form = ImportForm(request.POST or None, request.FILES or None, versions=versions)
    if request.method == "POST" and form.is_valid():
        job = imports.import_job_create(
            actor=core_access.acting_user(request),
            upload=form.cleaned_data["file"],
            model_version=form.cleaned_data["model_version"].label,
        )
        return redirect("evaluations:import", job_id=job.pk)
    return render(
        request,
        "evaluations/import_new.html",
        {"form": form, "has_versions": versions.exists()},
        status=400 if form.errors else 200,
    )


def _job(request: HttpRequest, job_id: str) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or not access.can_see_import(request.user, job):
        raise Http404("import")
    return job


@core_access.requires(access.READ_RULE)
@require_GET
def import_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    return render(request, "evaluations/import_detail.html", {"job": _job(request, job_id)})


@core_access.requires(access.READ_RULE)
@require_GET
def import_status(request: HttpRequest, job_id: str) -> HttpResponse:
    """The progress panel alone, polled by htmx until the import ends."""
    return render(
        request, "evaluations/partials/import_status.html", {"job": _job(request, job_id)}
    )


@core_access.requires(access.READ_RULE)
@require_http_methods(["GET", "POST"])
def override_new(request: HttpRequest, label: str) -> HttpResponse:
    version = (
        access.visible_versions(request.user).select_related("model").filter(label=label).first()
    )
    if version is None:
        raise Http404("model version")
    actor = core_access.acting_user(request)
    if not overrides.may_override(actor, version):
        raise PermissionDenied
    determinations = list(version.determinations.order_by("threshold"))
    form = OverrideForm(
        request.POST or None,
        thresholds=[d.threshold for d in determinations],
        initial={"seen_watermark": version.evidence_watermark},
    )
    if request.method == "POST" and form.is_valid():
        try:
            reauth = signing.reauthenticate(
                request=request,
                user=actor,
                password=form.cleaned_data["password"],
                otp_token=form.cleaned_data["otp_token"],
            )
            overrides.override_record(
                actor=actor,
                version=version,
                threshold=form.cleaned_data["threshold"],
                outcome=form.cleaned_data["outcome"],
                rationale=form.cleaned_data["rationale"],
                reauth=reauth,
                seen_watermark=form.cleaned_data["seen_watermark"],
            )
        except signing.ReauthenticationFailed as error:
            form.add_error("password", str(error))
        except overrides.OverrideRefused as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"Signed override of {form.cleaned_data['threshold']} recorded."
            )
            return redirect("evaluations:version", label=label)
    return render(
        request,
        "evaluations/override_new.html",
        {
            "version": version,
            "form": form,
            "determinations": determinations,
            "meaning": overrides.OVERRIDE,
        },
        status=400 if form.errors else 200,
    )
