from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core import access, health, tokens
from core import dashboard as dashboard_panels
from core.forms import ApiTokenForm
from core.models import ApiToken

login = access.requires(access.PUBLIC)(
    auth_views.LoginView.as_view(redirect_authenticated_user=True)
)
logout = access.requires(access.SIGNED_IN)(auth_views.LogoutView.as_view())


@access.requires(access.SIGNED_IN)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"panels": dashboard_panels.panels_for(request)}
    return render(request, "core/dashboard.html", context)


@access.requires(access.SIGNED_IN)
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """A person's own API tokens: make one (its key is shown this once), revoke one."""
    user = access.acting_user(request)
    new_key = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and "revoke" in request.POST:
        token = get_object_or_404(ApiToken, pk=request.POST.get("revoke", "0") or 0, user=user)
        tokens.token_revoke(actor=user, token=token)
        messages.success(request, f"Revoked {token}.")
        return redirect("api-tokens")
    if request.method == "POST" and form.is_valid():
        new_key = tokens.token_create(actor=user, user=user, name=form.cleaned_data["name"]).key
        form = ApiTokenForm()
    listed = ApiToken.objects.filter(user=user).order_by("-created_at")[:100]
    response = render(
        request,
        "core/api_tokens.html",
        {"tokens": listed, "form": form, "new_key": new_key},
        status=400 if form.errors else 200,
    )
    response["Cache-Control"] = "no-store"  # the page may show a secret
    return response


@access.requires(access.PUBLIC)
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, body = health.report()
    return JsonResponse(body, status=200 if healthy else 503)
