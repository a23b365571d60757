from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import access, health, selectors
from core.forms import AuditFilterForm
from core.models import AuditEvent

VIEW_AUDIT = access.permission_rule("core.view_auditevent")

login = access.requires(access.PUBLIC)(
    auth_views.LoginView.as_view(redirect_authenticated_user=True)
)
logout = access.requires(access.SIGNED_IN)(auth_views.LogoutView.as_view())


@access.requires(access.SIGNED_IN)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {}
    if VIEW_AUDIT(request.user):
        context["chain"] = selectors.chain_summary()
        context["recent_events"] = selectors.recent_events(limit=8)
    return render(request, "core/dashboard.html", context)


@access.requires(VIEW_AUDIT)
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "core/audit_list.html", {"form": form, "page": None}, status=400)
    page = selectors.audit_page(form.cleaned_data)
    query = {key: value for key, value in request.GET.items() if key != "before" and value}
    return render(
        request, "core/audit_list.html", {"form": form, "page": page, "query": urlencode(query)}
    )


@access.requires(VIEW_AUDIT)
@require_GET
def audit_detail(request: HttpRequest, seq: int) -> HttpResponse:
    event = get_object_or_404(AuditEvent.objects.select_related("actor"), seq=seq)
    return render(request, "core/audit_detail.html", {"event": event})


@access.requires(access.PUBLIC)
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, body = health.report()
    return JsonResponse(body, status=200 if healthy else 503)
