"""What a request that failed gets back: JSON under /api/, a page elsewhere.

A path the API does not have is a JSON 404, as the API document says, not the site's page.

A database that cannot be reached (down, restarting, a connection cut mid-request, a lock it
gave up waiting for) is answered with 503 and ``Retry-After``: the request's transaction was
rolled back by the database, so nothing of it was stored and repeating it is safe. Anything
else is a plain 500. Neither page touches the database (no context processors, no session).
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
UNAVAILABLE = "The database is unavailable; nothing was stored. Try again in a moment."
FAILED = "Something went wrong on the server; the error has been logged."


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: Django calls it while handling the exception, so it is at hand."""
    unavailable = isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE)
    status, detail = (503, UNAVAILABLE) if unavailable else (500, FAILED)
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail}, status=status)
    else:
        response = HttpResponse(render_to_string(f"{status}.html"), status=status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


LOCKED_OUT = (
    "Too many failed password attempts from this address: signing and sign-in are locked for "
    "{minutes} minutes. Nothing was signed."
)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, object] | None = None,
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with ``Retry-After`` (the cool-off), JSON under /api/
    (an approval signed through the API with wrong passwords), the page elsewhere."""
    from django.conf import settings
    from django.shortcuts import render

    seconds = int(settings.AXES_COOLOFF_TIME * 3600)
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        detail = LOCKED_OUT.format(minutes=max(1, seconds // 60))
        response = JsonResponse({"detail": detail}, status=429)
    else:
        response = render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
    response["Retry-After"] = str(seconds)
    return response
