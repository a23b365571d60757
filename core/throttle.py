"""How often password-reset e-mails may be asked for: by one address in an hour, and from one
client address in an hour (``PASSWORD_RESET_PER_ADDRESS_PER_HOUR``,
``PASSWORD_RESET_PER_CLIENT_PER_HOUR``). Past either, no e-mail is sent and the page says what
it always says, so the limit reveals no more than the form does.

The counts live in the database, shared by every process; two requests at the same instant
may both pass the last free place (a limit, not a quota).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import ResetRequest

WINDOW = timedelta(hours=1)
KEPT = timedelta(days=1)


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


@transaction.atomic
def allow_reset(*, email: str, client: str) -> bool:
    """Count this request and say whether an e-mail may go out for it."""
    now = timezone.now()
    ResetRequest.objects.filter(requested_at__lt=now - KEPT).delete()
    keys = {
        _key("email", email.strip().lower()): settings.PASSWORD_RESET_PER_ADDRESS_PER_HOUR,
        _key("client", client): settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR,
    }
    allowed = all(
        ResetRequest.objects.filter(key=key, requested_at__gte=now - WINDOW).count() < limit
        for key, limit in keys.items()
    )
    if allowed:
        ResetRequest.objects.bulk_create(ResetRequest(key=key, requested_at=now) for key in keys)
    return allowed
