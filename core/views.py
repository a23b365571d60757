from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core import access, health, services, throttle, tokens
from core import dashboard as dashboard_panels
from core.clientip import client_ip
from core.forms import ApiTokenForm
from core.models import ApiToken

log = logging.getLogger(__name__)

login = access.requires(access.PUBLIC)(
    auth_views.LoginView.as_view(redirect_authenticated_user=True)
)
logout = access.requires(access.SIGNED_IN)(auth_views.LogoutView.as_view())


# Password reset by e-mail. The request page answers the same whether or not an account uses
# the address (no enumeration); the link works once, for PASSWORD_RESET_TIMEOUT seconds, and
# setting the password ends the person's other sessions (their session hash changes).
def _reset_minutes() -> int:
    return int(settings.PASSWORD_RESET_TIMEOUT) // 60


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"]
        if not throttle.allow_reset(email=email, client=client_ip(self.request)):
            log.warning("password reset e-mail withheld: too many asked for")
            return HttpResponseRedirect(self.get_success_url())  # the same answer as ever
        self.extra_email_context = {"timeout_minutes": _reset_minutes()}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "timeout_minutes": _reset_minutes()}


password_reset = access.requires(access.PUBLIC)(PasswordResetView.as_view())
password_reset_done = access.requires(access.PUBLIC)(PasswordResetDoneView.as_view())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:  # type: ignore[type-arg]
        # Through the audited service rather than form.save(); the link is then spent.
        services.password_reset(user=form.user, password=form.cleaned_data["new_password1"])
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


password_reset_confirm = access.requires(access.PUBLIC)(PasswordResetConfirmView.as_view())
password_reset_complete = access.requires(access.PUBLIC)(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/password_reset_complete.html"
    )
)


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
