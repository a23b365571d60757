"""Liveness of the parts the application needs: database, broker, workers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection

# /healthz is public: a worker ping waits for replies, so its answer is shared for a few
# seconds rather than letting every probe (or anyone) hold a web worker for the timeout.
WORKER_CACHE_SECONDS = 5


def database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "down"; the reason class is safe to show
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def broker() -> dict[str, Any]:
    if settings.REDIS_URL is None:
        return {"ok": True, "mode": "eager"}
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0
        )
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "mode": "redis"}


def workers(*, timeout: float = 1.0) -> dict[str, Any]:
    if settings.REDIS_URL is None:
        return {"ok": True, "mode": "eager", "count": 0}
    cached: dict[str, Any] | None = cache.get("healthz:workers")
    if cached is not None:
        return cached
    from config.celery import app

    try:
        # limit=1: return as soon as one worker answers instead of waiting out the timeout.
        replies = app.control.ping(timeout=timeout, limit=1) or []
    except Exception as exc:  # broker unreachable: reported by broker() as well
        return {"ok": False, "error": type(exc).__name__, "count": 0}
    result = {"ok": bool(replies), "mode": "redis", "count": len(replies)}
    cache.set("healthz:workers", result, WORKER_CACHE_SECONDS)
    return result


def report() -> tuple[bool, dict[str, Any]]:
    checks = {"database": database(), "broker": broker()}
    checks["worker"] = workers() if checks["broker"]["ok"] else {"ok": False, "count": 0}
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"status": "ok" if healthy else "degraded", **checks}
