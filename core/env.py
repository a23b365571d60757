"""Typed readers for environment variables.

Every setting that comes from the environment goes through one of these helpers, so a
typo such as ``DJANGO_DEBUG=ture`` stops the process at start-up with a message naming
the variable, instead of silently meaning something else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit


class ImproperlyConfiguredEnv(Exception):
    """An environment variable holds a value the application cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(
    name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None
) -> str | None:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(
        f"{name}={value!r} is not a boolean; use one of {sorted(_TRUE | _FALSE)}"
    )


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={number} is below the minimum of {minimum}")
    return number


def env_choice(
    name: str, default: str, choices: tuple[str, ...], *, environ: Mapping[str, str] | None = None
) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def env_list(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfiguredEnv(f"{name}={value!r} has an empty item in its comma list")
    return items


def env_url(
    name: str, *, schemes: tuple[str, ...], environ: Mapping[str, str] | None = None
) -> str | None:
    value = _raw(name, environ)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ImproperlyConfiguredEnv(
            f"{name} must be a URL with one of the schemes {', '.join(schemes)}; "
            f"got scheme {parts.scheme or '(none)'!r}"
        )
    if not parts.hostname and parts.scheme not in {"sqlite", "console", "locmem"}:
        raise ImproperlyConfiguredEnv(f"{name} has no host")
    return value


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    default_from: str = "governance@localhost"


_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "submission": "django.core.mail.backends.smtp.EmailBackend",
}


def parse_email_url(name: str, *, environ: Mapping[str, str] | None = None) -> EmailConfig:
    """``EMAIL_URL``: ``console://``, ``smtp://user:pass@host:25``, ``submission://…`` (STARTTLS
    on 587) or ``smtps://…`` (TLS on 465); ``?from=ops@example.org`` sets the sender."""
    value = env_url(name, schemes=tuple(_EMAIL_BACKENDS), environ=environ)
    if value is None:
        return EmailConfig(backend=_EMAIL_BACKENDS["console"])
    parts = urlsplit(value)
    query = parse_qs(parts.query)
    default_ports = {"smtp": 25, "submission": 587, "smtps": 465}
    try:
        port = parts.port or default_ports.get(parts.scheme, 25)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name} has an invalid port") from None
    return EmailConfig(
        backend=_EMAIL_BACKENDS[parts.scheme],
        host=parts.hostname or "localhost",
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=parts.scheme == "submission",
        use_ssl=parts.scheme == "smtps",
        default_from=query.get("from", ["governance@localhost"])[0],
    )
