"""Tag audit events written by a Celery task with the task's id."""

from __future__ import annotations

from contextvars import Token
from typing import Any

from celery.signals import task_postrun, task_prerun

from core import audit

_tokens: dict[str, Token[str]] = {}


def _bind(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _tokens[task_id] = audit._request_id.set(f"task:{task_id}")


def _unbind(task_id: str | None = None, **kwargs: Any) -> None:
    token = _tokens.pop(task_id or "", None)
    if token is not None:
        audit._request_id.reset(token)


def connect() -> None:
    task_prerun.connect(_bind, weak=False)
    task_postrun.connect(_unbind, weak=False)
