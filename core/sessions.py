"""Sign-in and sign-out go into the audit trail.

Failed attempts do not: they come from anonymous callers and would let anyone grow the chain
at will. django-axes keeps them (and lockouts) in its own tables, visible in the console.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out

from core import audit


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(action="core.session.login", actor=user, obj=user)


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        audit.record(action="core.session.logout", actor=user, obj=user)


def connect() -> None:
    user_logged_in.connect(_logged_in, weak=False, dispatch_uid="core.session.login")
    user_logged_out.connect(_logged_out, weak=False, dispatch_uid="core.session.logout")
