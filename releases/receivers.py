"""How releases reacts to evaluations (DESIGN: the documented signals only)."""

from __future__ import annotations

from typing import Any

from releases import services


def on_assessment_changed(sender: Any, version_ids: list[int], **kwargs: Any) -> None:
    # Sent after the recompute commits: refresh gates and escalate in transactions of their own.
    services.refresh_for_model_versions(version_ids)


def connect() -> None:
    from evaluations.signals import assessment_changed

    assessment_changed.connect(on_assessment_changed, dispatch_uid="releases.refresh_gates")
