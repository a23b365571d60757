from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task
def recompute_all_model_versions(policy_version_id: int) -> dict[str, Any]:
    """Recompute every model version's required level against a newly published policy.

    Idempotent. Model versions and their evaluation results arrive with the evaluations
    app's models; until then there is nothing to recompute and the task reports zero.
    """
    recomputed = 0
    log.info("recompute for policy version %s: %s model versions", policy_version_id, recomputed)
    return {"policy_version": policy_version_id, "model_versions": recomputed}
