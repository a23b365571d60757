"""The auditor's pages: the history, past states, signed manifests, obligations and exports.
They change nothing; every read goes through ``oversight.access``."""

from __future__ import annotations

import base64
import tempfile
from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from core import access as core_access
from core import audit, signing
from oversight import access, bundle, history, obligations, selectors
from oversight.forms import AsOfForm, AtForm, AuditFilterForm
from releases import selectors as release_selectors
from releases.models import Decision, model_id_of

AUDIT = access.AUDIT_RULE


def _query(request: HttpRequest, *drop: str) -> str:
    return urlencode(
        {key: value for key, value in request.GET.items() if key not in drop and value}
    )


@core_access.requires(AUDIT)
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "oversight/audit_list.html", {"form": form}, status=400)
    page = selectors.audit_page(core_access.acting_user(request), form)
    return render(
        request,
        "oversight/audit_list.html",
        {"form": form, "page": page, "query": _query(request, "before")},
    )


@core_access.requires(AUDIT)
@require_GET
def audit_csv(request: HttpRequest) -> HttpResponseBase:
    """Every event matching the filters, for a spreadsheet."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "oversight/audit_list.html", {"form": form}, status=400)
    events = selectors.filtered_events(core_access.acting_user(request), form).order_by("seq")
    response = StreamingHttpResponse(bundle.csv_rows(events), content_type="text/csv")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.csv"'
    return response


@core_access.requires(AUDIT)
@require_GET
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The verifiable bundle of the events matching the filters (see ``oversight.bundle``)."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "oversight/audit_list.html", {"form": form}, status=400)
    user = core_access.acting_user(request)
    events = selectors.filtered_events(user, form)
    if events.count() > settings.AUDIT_EXPORT_MAX_EVENTS:
        messages.error(
            request,
            f"That is more than {settings.AUDIT_EXPORT_MAX_EVENTS:,} events: narrow the filters "
            "(a date range, a model), or ask an operator for `manage.py export_audit`, which "
            "has no limit.",
        )
        return redirect(f"{reverse('oversight:audit-list')}?{_query(request, 'before')}")
    filters = {
        key: str(value) for key, value in form.cleaned_data.items() if value and key != "before"
    }
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
    summary = bundle.write_bundle(out, events=events, filters=filters, generated_by=user.username)
    audit.record(
        action="oversight.export.created",
        actor=user,
        object_type="oversight.export",
        object_repr=summary.name,
        after={"filters": filters, "events": summary.events},
    )
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=summary.name)


@core_access.requires(AUDIT)
@require_GET
def audit_detail(request: HttpRequest, seq: int) -> HttpResponse:
    user = core_access.acting_user(request)
    event = get_object_or_404(access.visible_events(user).select_related("actor"), seq=seq)
    signature = None
    if event.action == "core.signature.created" and event.object_id.isdigit():
        signature = access.visible_signatures(user).filter(pk=int(event.object_id)).first()
    context = {
        "event": event,
        "diff": selectors.diff(event.before, event.after),
        "subject_url": selectors.subject_url(event.subject) if event.subject else None,
        "signature": signature,
    }
    return render(request, "oversight/audit_detail.html", context)


@core_access.requires(AUDIT)
@require_GET
def signature_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Exactly the manifest a person signed, whether it verifies, and whether it still holds."""
    signature = get_object_or_404(
        access.visible_signatures(core_access.acting_user(request)).select_related("signer"), pk=pk
    )
    context = {
        "signature": signature,
        "authentic": signing.is_authentic(signature),
        "signed": selectors.signed_thing(signature),
        "manifest": history.pretty_manifest(signature.manifest),
    }
    return render(request, "oversight/signature_detail.html", context)


@core_access.requires(AUDIT)
@require_GET
def signature_download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    signature = get_object_or_404(
        access.visible_signatures(core_access.acting_user(request)), pk=pk
    )
    if kind == "manifest.json":
        data, content_type = signature.manifest.encode("utf-8"), "application/json"
    else:
        data, content_type = base64.b64decode(signature.signature), "application/octet-stream"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="signature-{pk}-{kind}"'
    return response


@core_access.requires(AUDIT)
@require_GET
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = core_access.acting_user(request)
    decision = (
        Decision.objects.select_related("release", "model_version", "model").filter(pk=pk).first()
    )
    if decision is None or not access.can_read_decision(user, model_id_of(decision)):
        raise Http404("decision")
    context = {
        "decision": decision,
        "signatures": [
            {"row": row, "manifest": history.pretty_manifest(row.signature.manifest)}
            for row in selectors.decision_signatures(decision)
        ],
        "history_query": urlencode({"subject": f"releases.decision:{decision.pk}"}),
    }
    return render(request, "oversight/decision_detail.html", context)


@core_access.requires(AUDIT)
@require_GET
def register_as_of(request: HttpRequest) -> HttpResponse:
    """The policy versions in force on a chosen date."""
    form = AsOfForm(request.GET or {"on": timezone.localdate().isoformat()})
    versions = history.register_on(form.cleaned_data["on"]) if form.is_valid() else []
    return render(
        request,
        "oversight/register_as_of.html",
        {"form": form, "versions": versions},
        status=200 if form.is_valid() else 400,
    )


@core_access.requires(AUDIT)
@require_GET
def release_as_of(request: HttpRequest, pk: int) -> HttpResponse:
    """A release as it stood at a chosen moment, rebuilt from its history."""
    user = core_access.acting_user(request)
    release = (
        release_selectors.visible_releases(user)
        .select_related("model_version__model")
        .filter(pk=pk)
        .first()
    )
    if release is None:
        raise Http404("release")
    form = AtForm(request.GET or {"at": timezone.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M")})
    past = history.release_at(release, form.cleaned_data["at"]) if form.is_valid() else None
    return render(
        request,
        "oversight/release_as_of.html",
        {"release": release, "form": form, "past": past},
        status=200 if form.is_valid() else 400,
    )


@core_access.requires(AUDIT)
@require_GET
def obligations_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "oversight/obligations.html",
        obligations.due(core_access.acting_user(request), now=timezone.now()),
    )
