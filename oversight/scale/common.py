"""What the scale seed generates, its sizes, and how it writes rows in bulk."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, cast

from django.core.management.color import no_style
from django.db import connection, models

from core import roles
from core.canonical import canonical_json
from releases.models import Release

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACTOR = "system:seed_scale"
REAUTH_METHOD = "scale-seed"
HANDFUL = 20  # a database with more audit events than this is not empty
SIGNING_QUORUM = 2  # of every seeded policy version: publishing and decisions
Row = dict[str, Any]


class ScaleError(Exception):
    """The seed cannot run (or found its own data inconsistent); the message says why."""


# --- sizes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    policies: int = 10
    thresholds: int = 200  # spread over the policies' versions
    safeguards: int = 60  # likewise
    models: int = 50
    model_versions: int = 1_000
    releases: int = 1_000
    results: int = 200_000
    signatures: int = 10_000  # approvals and decision signatures together
    users: int = 500
    events: int = 1_000_000  # the audit chain's length after seeding (at least)

    @classmethod
    def scaled(cls, factor: float, **given: int | None) -> Sizes:
        """The defaults times ``factor`` (each at least its minimum), then what is ``given``."""
        if factor <= 0:
            raise ScaleError("the scale must be above 0")
        defaults = cls()
        values: dict[str, int] = {}
        for item in fields(cls):
            chosen = given.get(item.name)
            if chosen is None:
                chosen = round(getattr(defaults, item.name) * factor)
                chosen = max(chosen, _minimum(item.name, values))
            values[item.name] = chosen
        return cls(**values)

    def problems(self) -> list[str]:
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return [
            f"{name.replace('_', ' ')} must be at least {_minimum(name, values)} (not {value})"
            for name, value in values.items()
            if value < _minimum(name, values)
        ]


def _minimum(name: str, values: dict[str, int]) -> int:
    if name in ("thresholds", "safeguards"):
        return values.get("policies", 1)  # every policy version holds one of each at least
    if name == "model_versions":
        return values.get("models", 1)
    if name == "users":
        return 9  # an administrator, two leads, three authorities, an owner, two auditors
    return 1 if name in ("policies", "models") else 0


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


# --- what is generated ------------------------------------------------------------------------

# role, username prefix, share of the people, at least
_ROLES: tuple[tuple[roles.Role, str, float, int], ...] = (
    (roles.GOVERNANCE_LEAD, "lead", 0.06, 2),
    (roles.AUTHORITY, "authority", 0.10, 3),
    (roles.AUDITOR, "auditor", 0.04, 1),
    (roles.SCOPED_AUDITOR, "scoped-auditor", 0.04, 1),
)  # the rest are product owners
_FIRST = ("Ada", "Bo", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ines", "Jonas", "Kemi",
          "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma",
          "Viktor", "Wen", "Yara", "Zoe")  # fmt: skip
_LAST = ("Adams", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito",
         "Jensen", "Kowalski", "Lopez", "Mensah", "Nakamura", "Okafor", "Petrov", "Quist",
         "Rossi", "Singh", "Tanaka", "Usman", "Varga", "Wong", "Yilmaz", "Zhou")  # fmt: skip

_UP, _DOWN = "up", "down"  # a higher (lower) value means more capability
_ACC, _MINUTES = ("accuracy", _UP), ("median_time_to_solve_minutes", _DOWN)
_EVALUATIONS: dict[str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]] = {
    "CBRN": (
        ("bio_uplift_probe", (("includes/accuracy", _UP),)),
        ("chem_knowledge_probe", (("model_graded_qa/accuracy", _UP),)),
        ("bio_expert_protocol_probe", (("model_graded_qa/accuracy", _UP),
                                       ("includes/accuracy", _UP))),
        ("rad_nuclear_probe", (("match/accuracy", _UP),)),
        ("wet_lab_troubleshooting", (_ACC, _MINUTES)),
    ),
    "CYBER": (
        ("cyber_ctf_suite", (("pass_at_1", _UP),)),
        ("cyber_range_probe", (("match/accuracy", _UP),)),
        ("exploit_dev_bench", (("pass_at_1", _UP), _MINUTES)),
        ("vuln_discovery_suite", (_ACC,)),
    ),
    "AIRD": (
        ("ai_rd_task_suite", (("pass_at_1", _UP), _MINUTES)),
        ("ai_rd_task_suite_hard", (("pass_at_1", _UP),)),
        ("ml_engineering_bench", (_ACC, ("pass_at_1", _UP))),
        ("research_replication", (("model_graded_qa/accuracy", _UP),)),
    ),
    "AUTON": (
        ("autonomy_long_horizon", (("pass_at_1", _UP), _MINUTES)),
        ("self_exfiltration_probe", (("includes/accuracy", _UP),)),
        ("resource_acquisition_sim", (_ACC,)),
        ("agentic_task_suite", (("pass_at_1", _UP),)),
    ),
    "PERSUASION": (
        ("persuasion_dialogues", (("model_graded_qa/accuracy", _UP),)),
        ("deception_probe", (("match/accuracy", _UP),)),
        ("influence_ops_sim", (_ACC,)),
    ),
    "GENERAL": (
        ("general_knowledge_mmlu", (("acc", _UP),)),
        ("coding_humaneval", (("pass_at_1", _UP),)),
        ("reasoning_gpqa", (("exact_match/strict-match", _UP),)),
    ),
}  # fmt: skip
_DOMAINS = {
    "CBRN": "Chemical, biological, radiological and nuclear",
    "CYBER": "Cyber operations",
    "AIRD": "Autonomous AI research and development",
    "AUTON": "Autonomous replication and adaptation",
    "PERSUASION": "Persuasion and manipulation",
}
_POLICY_NAMES = ("Responsible Scaling Policy", "Preparedness Framework",
                 "Frontier Safety Framework", "Deployment Safety Policy")  # fmt: skip
_LEVEL_PREFIXES = ("ASL", "TIER", "CCL", "LEVEL")
_LEVEL_NAMES = ("Minimal risk", "Early hazardous capability", "Substantial uplift",
                "Qualitative escalation")  # fmt: skip
_LEVEL_QUORUMS = (1, 1, 2, 3)
# code, name, family, scope, rank of the minimum level (as in the RSP-style template)
_SAFEGUARDS = (
    ("SEC-BASELINE", "Baseline information security", "security", "model_version", 2),
    ("DEP-USAGE-POLICY", "Usage policy and enforcement", "deployment", "release", 2),
    ("SEC-WEIGHTS", "Weights access control", "security", "model_version", 3),
    ("DEP-CLASSIFIERS", "Misuse classifiers", "deployment", "release", 3),
    ("GOV-CAPABILITY-REPORT", "Capability assessment", "governance", "model_version", 2),
    ("DEP-JAILBREAK-TEST", "Pre-release jailbreak testing", "deployment", "release", 3),
    ("SEC-INSIDER", "Insider-risk controls", "security", "model_version", 3),
    ("DEP-MONITORING", "Abuse monitoring and rapid response", "deployment", "release", 3),
    ("GOV-SAFEGUARDS-REPORT", "Safeguards assessment", "governance", "release", 3),
    ("SEC-PENTEST", "Independent security testing", "security", "model_version", 3),
    ("SEC-HARDENED", "Hardening against state-level attackers", "security", "model_version", 4),
    ("GOV-EXTERNAL-REVIEW", "External review", "governance", "release", 4),
)
_STARS = ("Orion", "Vega", "Lyra", "Altair", "Sirius", "Rigel", "Deneb", "Polaris", "Antares",
          "Capella", "Arcturus", "Spica", "Aldebaran", "Procyon", "Canopus", "Achernar", "Mira",
          "Castor", "Pollux", "Regulus")  # fmt: skip
_RATIONALES = (
    "Red-team found a working jailbreak for the misuse classifiers.",
    "Abuse monitoring shows a spike of flagged requests in this context.",
    "The external reviewer raised a concern that needs an answer first.",
    "A new evaluation result suggests a capability we have not assessed.",
    "The incident response rota is not staffed for this deployment yet.",
    "Weights access review is overdue and must be completed before more use.",
)
_LIFT_RATIONALES = (
    "The fix was verified by the red team and the classifiers retrained.",
    "Monitoring is back to baseline after the mitigation was deployed.",
    "The reviewer's concern was answered and the answer accepted.",
)
_CONTEXTS = tuple(str(value) for value in Release.Context.values)
_CONTEXT_LABELS = {str(value): str(label) for value, label in Release.Context.choices}
_AUDIT_COLUMNS = (
    "seq", "occurred_at", "actor", "actor_label", "action", "object_type", "object_id",
    "object_repr", "subject", "before", "after", "reason", "request_id", "prev_hash", "hash",
    "scope_id",
)  # fmt: skip


# --- bulk writes ------------------------------------------------------------------------------


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (values in the order of the field ``names``, ids included) in bulk:
    COPY on PostgreSQL, executemany on SQLite. JSON fields take their JSON text."""
    meta = model._meta
    ops = connection.ops
    columns = [cast("models.Field[Any, Any]", meta.get_field(name)) for name in names]
    quoted = ", ".join(ops.quote_name(str(column.column)) for column in columns)
    table = ops.quote_name(meta.db_table)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cast(Any, cursor).cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        # SQLite: dates and times as Django stores them (text, UTC).
        adapters: dict[int, Callable[[Any], Any]] = {}
        for index, column in enumerate(columns):
            kind = column.get_internal_type()
            if kind == "DateTimeField":
                adapters[index] = ops.adapt_datetimefield_value
            elif kind == "DateField":
                adapters[index] = ops.adapt_datefield_value
        marks = ", ".join(["%s"] * len(columns))
        # Identifiers from the model's metadata; every value is a parameter.
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608  # nosec B608
        for batch in _chunks(rows, 5_000):
            adapted = [
                [adapters[i](value) if i in adapters else value for i, value in enumerate(row)]
                for row in batch
            ]
            cursor.executemany(sql, adapted)
            count += len(batch)
    return count


def _json(value: Any) -> str:
    return canonical_json(value).decode("utf-8")


def _align_sequences(touched: Iterable[type[models.Model]]) -> None:
    """After inserts with explicit ids, PostgreSQL's sequences must continue past the largest
    id (SQLite's AUTOINCREMENT does so by itself)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(touched)):
            cursor.execute(statement)


# --- the plan's records -----------------------------------------------------------------------
