"""How evaluations reacts to the register (DESIGN: the documented signals only)."""

from __future__ import annotations

from typing import Any

from core import jobs
from evaluations import tasks


def on_policy_published(sender: Any, version_id: int, **kwargs: Any) -> None:
    # Sent after commit, so the published version is visible to the worker. If the broker is
    # down, the sweep cannot help (nothing is marked yet), so mark every version right here.
    if not jobs.enqueue(tasks.recompute_all_model_versions, version_id):
        from evaluations.recompute import mark_all

        mark_all(reason=f"policy {version_id}")


def connect() -> None:
    from governance.signals import policy_published

    policy_published.connect(on_policy_published, dispatch_uid="evaluations.recompute_all")
