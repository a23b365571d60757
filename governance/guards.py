"""Database guards that freeze a policy version once it leaves draft (see core/dbguard.py)."""

from __future__ import annotations

from core import dbguard

VERSION = "governance_policyversion"
MESSAGE = "published policy versions are immutable"
# Every column but state and superseded_at: the one change a published version may undergo
# is being superseded. (Migration 0002 guards the columns that existed then; 0005 reinstalls
# the guard over them all.)
COLUMNS_0002 = [
    "policy_id", "number", "label", "changelog", "reevaluation_interval_days",
    "baseline_level_id", "signing_quorum", "based_on_id", "created_by_id", "created_at",
    "effective_from", "published_at", "content_sha256",
]  # fmt: skip
FROZEN_COLUMNS = [*COLUMNS_0002, "separation_waiver"]


# The SQL below is built from constants and trigger row references only (no input).
def _state_of(version_id: str) -> str:
    return f"(SELECT state FROM {VERSION} WHERE id = {version_id})"  # noqa: S608  # nosec B608


def version_guard(vendor: str, columns: list[str] = FROZEN_COLUMNS) -> dbguard.Guard:
    return dbguard.Guard(
        name="governance_policyversion_guard",
        table=VERSION,
        message=MESSAGE,
        update_when=(
            "OLD.state <> 'draft' AND NOT (OLD.state = 'published' AND NEW.state = 'superseded'"
            f" AND {dbguard.unchanged(vendor, columns)})"
        ),
        delete_when="OLD.state <> 'draft'",
    )


def item_guard(table: str) -> dbguard.Guard:
    """Rows of a version (levels, domains, …) change only while their version is a draft."""
    return dbguard.Guard(
        name=f"{table}_guard",
        table=table,
        message=MESSAGE,
        insert_when=f"{_state_of('NEW.version_id')} <> 'draft'",
        update_when=(
            f"{_state_of('OLD.version_id')} <> 'draft' OR {_state_of('NEW.version_id')} <> 'draft'"
        ),
        delete_when=f"{_state_of('OLD.version_id')} <> 'draft'",
    )


def _threshold_state(threshold_id: str) -> str:
    join = f"governance_capabilitythreshold t JOIN {VERSION} v ON v.id = t.version_id"
    return f"(SELECT v.state FROM {join} WHERE t.id = {threshold_id})"  # noqa: S608  # nosec B608


CONDITION_GUARD = dbguard.Guard(
    name="governance_triggercondition_guard",
    table="governance_triggercondition",
    message=MESSAGE,
    insert_when=f"{_threshold_state('NEW.threshold_id')} <> 'draft'",
    update_when=(
        f"{_threshold_state('OLD.threshold_id')} <> 'draft' "
        f"OR {_threshold_state('NEW.threshold_id')} <> 'draft'"
    ),
    delete_when=f"{_threshold_state('OLD.threshold_id')} <> 'draft'",
)

ITEM_TABLES = [
    "governance_safetylevel", "governance_riskdomain", "governance_capabilitythreshold",
    "governance_safeguard", "governance_pauseauthority",
]  # fmt: skip


def guards(vendor: str, columns: list[str] = FROZEN_COLUMNS) -> list[dbguard.Guard]:
    return [version_guard(vendor, columns), *map(item_guard, ITEM_TABLES), CONDITION_GUARD]
