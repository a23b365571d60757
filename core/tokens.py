"""API tokens: ``Authorization: Token <key>``. The key is random, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from core import audit
from core.models import ApiToken

PREFIX_LENGTH = 8
# last_used_at is informational: write it at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=5)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    key: str  # the only time the secret exists outside the client


@transaction.atomic
def token_create(*, actor: User, user: User, name: str) -> NewToken:
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionError("only the person themselves or an administrator makes a token")
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "token",
        prefix=key[:PREFIX_LENGTH],
        digest=_digest(key),
    )
    audit.record(
        action="core.api_token.created",
        actor=actor,
        obj=token,
        subject=user,
        after={"name": token.name, "prefix": token.prefix, "user": user.username},
    )
    return NewToken(token, key)


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> None:
    if actor.pk != token.user_id and not actor.is_superuser:
        raise PermissionError("only the token's owner or an administrator revokes it")
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    audit.record(
        action="core.api_token.revoked",
        actor=actor,
        obj=locked,
        subject=locked.user,
        before={"name": locked.name, "prefix": locked.prefix},
    )


def user_for_key(key: str) -> User | None:
    token = next(
        iter(
            ApiToken.objects.select_related("user")
            .filter(digest=_digest(key), revoked_at__isnull=True, user__is_active=True)
            .order_by()[:1]
        ),
        None,
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[User, None] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use the header: Authorization: Token <key>")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        user = user_for_key(key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return user, None

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
