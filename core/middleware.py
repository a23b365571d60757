from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core import audit

_VALID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


class RequestIdMiddleware:
    """Give each request an id, echo it in the response, and tag the audit events the request
    writes with it. A well-formed ``X-Request-ID`` is adopted only behind trusted proxies
    (``DJANGO_PROXY_COUNT``): a client must not choose what the audit trail says."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "") if settings.PROXY_COUNT else ""
        request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        with audit.bound_request_id(f"req:{request_id}"):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
