"""Sign-in, sign-out and session expiry go into the audit trail; sessions end when idle and
at an absolute limit.

Failed attempts are not audited: they come from anonymous callers and would let anyone grow
the chain at will. django-axes keeps them (and lockouts) in its own tables, visible in the
console.

A session ends ``SESSION_IDLE_SECONDS`` after its last request, and ``SESSION_COOKIE_AGE``
after sign-in however active it is: Django alone would slide the cookie's age forward at every
save, so both limits are checked here, against times kept in the session itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core import audit

STARTED = "_session_started_at"  # epoch seconds of the sign-in
SEEN = "_session_seen_at"  # epoch seconds of the last request, kept to within TOUCH_EVERY
IDLE, ABSOLUTE = "idle", "absolute"


def _now() -> int:
    return int(timezone.now().timestamp())


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session[STARTED] = session[SEEN] = _now()
    audit.record(action="core.session.login", actor=user, obj=user)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        audit.record(action="core.session.logout", actor=user, obj=user)


def connect() -> None:
    user_logged_in.connect(_logged_in, weak=False, dispatch_uid="core.session.login")
    user_logged_out.connect(_logged_out, weak=False, dispatch_uid="core.session.logout")


def touch_every() -> int:
    """How stale the last-seen time may get: writing the session on every request would cost
    a database write per page, so it is refreshed at most once a minute (and often enough that
    a short idle limit still counts every request)."""
    return min(60, max(1, settings.SESSION_IDLE_SECONDS // 30))


def _duration(seconds: int) -> str:
    if seconds >= 7200 and seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def expiry(session: Any, now: int) -> str | None:
    """Why the signed-in ``session`` is over at ``now`` (``IDLE`` or ``ABSOLUTE``), or None.

    A session without a sign-in time (one from before these limits existed) counts as over:
    nothing shows it is within its bound."""
    started, seen = session.get(STARTED), session.get(SEEN)
    if not isinstance(started, int) or not isinstance(seen, int):
        return ABSOLUTE
    absolute_end = started + settings.SESSION_COOKIE_AGE
    idle_end = seen + settings.SESSION_IDLE_SECONDS
    if now < min(absolute_end, idle_end):
        return None
    return IDLE if idle_end < absolute_end else ABSOLUTE


def _limit(reason: str) -> str:
    return _duration(
        settings.SESSION_IDLE_SECONDS if reason == IDLE else settings.SESSION_COOKIE_AGE
    )


def _message(reason: str) -> str:
    if reason == IDLE:
        return (
            f"You were signed out after {_limit(reason)} without activity. "
            "Sign in again to continue."
        )
    return (
        f"Your session ended: a sign-in lasts at most {_limit(reason)}. Sign in again to continue."
    )


class SessionTimeoutMiddleware:
    """End a signed-in session that has been idle too long or has reached its absolute limit:
    audit it, forget the session, and leave a note for the login page the request is then
    sent to (the login-required check runs after this, in ``process_view``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = _now()
            reason = expiry(request.session, now)
            if reason is not None:
                self._expire(request, reason)
            elif now - request.session[SEEN] >= touch_every():
                request.session[SEEN] = now
        return self.get_response(request)

    def _expire(self, request: HttpRequest, reason: str) -> None:
        user = request.user
        audit.record(
            action="core.session.expired",
            actor=user,  # type: ignore[arg-type]
            obj=user,  # type: ignore[arg-type]
            reason=f"{_limit(reason)} without activity"
            if reason == IDLE
            else f"{_limit(reason)} since sign-in",
            after={"timeout": reason},
        )
        request.session.flush()
        request.user = AnonymousUser()
        messages.info(request, _message(reason))
