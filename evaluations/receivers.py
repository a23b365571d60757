"""How evaluations reacts to the register (DESIGN: the documented signals only)."""

from __future__ import annotations

from typing import Any

from evaluations import tasks


def on_policy_published(sender: Any, version_id: int, **kwargs: Any) -> None:
    # Sent after commit, so the published version is visible to the worker.
    tasks.recompute_all_model_versions.delay(version_id)


def connect() -> None:
    from governance.signals import policy_published

    policy_published.connect(on_policy_published, dispatch_uid="evaluations.recompute_all")
