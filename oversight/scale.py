"""A database at production scale, to measure the application where it will be used.

``manage.py seed_scale`` fills an empty database (defaults: 10 policies, 200 thresholds, 60
safeguards, 50 models, 1,000 model versions, 1,000 releases, 200,000 results, 10,000 signed
approvals and decisions, 500 people, 1,000,000 audit events) with what the services would have
produced, written by bulk inserts rather than one service call per object:

* the register: each policy version's items are inserted while it is a draft, its content is
  read back through ``governance.content``, must pass ``governance.validation``, and is hashed
  and signed by two governance leads before it is published (the latest one governs);
* results: runs and results per model version, then its determinations and required level
  from ``evaluations.determinations.assess`` (the function the recompute service calls) over
  exactly those runs;
* releases: each release's life (created, submitted, evidence recorded and verified, approvals
  signed, evidence reworked and approved again, withdrawn) is played in time order, with the
  assessments and audit events the release services write; pauses and restrictions, most of
  them lifted, on releases, model versions and models;
* signatures are ``core.Signature`` rows over manifests built by ``core.signing.build_manifest``
  and signed with the deployment key (re-authenticated with ``scale-seed``);
* every change is an audit event, appended in time order with its seq, hash and scope, with
  sign-ins and sign-outs of the seeded people in between, up to the requested number of events
  (more if the data needs more).

At the end, in the same transaction, ``releases.services.gate_refresh`` runs on every release
and ``evaluations.recompute.recompute`` on a sample of model versions: they must find nothing to
change (no new audit event), or the whole seed is rolled back.

Deterministic: the same options on an empty database give the same rows, ids included, and the
same times (from 2026-01-01T00:00:00Z). Not deterministic: the password hash (one random salt,
shared by every seeded person) and, between deployments, what the signing key decides (the
signature bytes, the key id in manifests and events, and so the chain's hashes from the first
signature on).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission, User
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils.text import slugify

from core import audit, keys, roles
from core.canonical import canonical_json
from core.models import AuditEvent, Signature
from core.signing import Meaning, Reauthentication, build_manifest
from evaluations import determinations, recompute
from evaluations.ingestion import ResultInput, RunInput
from evaluations.models import (
    Determination,
    Evaluation,
    EvaluationRun,
    Model,
    ModelUserObjectPermission,
    ModelVersion,
    Result,
)
from governance import commitments, content, validation
from governance.models import (
    CapabilityThreshold,
    PauseAuthority,
    Policy,
    PolicyVersion,
    RiskDomain,
    Safeguard,
    SafetyLevel,
    TriggerCondition,
)
from governance.publishing import PUBLISH
from releases import gate
from releases.decisions import MEANINGS
from releases.evidence import evidence_sha256
from releases.models import Approval, Decision, DecisionSignature, Release, SafeguardStatus
from releases.services import APPROVE, gate_refresh

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
        sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608 (model metadata)
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


@dataclass(slots=True)
class _Person:
    pk: int
    username: str
    first_name: str
    last_name: str
    role: roles.Role | None  # None: the administrator

    @property
    def printed_name(self) -> str:  # User.get_full_name() or the username
        return f"{self.first_name} {self.last_name}".strip() or self.username

    def as_user(self) -> User:
        return User(pk=self.pk, username=self.username, first_name=self.first_name,
                    last_name=self.last_name)  # fmt: skip


@dataclass(slots=True)
class _EvalSpec:
    key: str
    domain: str
    metrics: tuple[tuple[str, str], ...]
    harness: str
    difficulty: float
    pk: int = 0


@dataclass(slots=True)
class _ModelPlan:
    pk: int
    slug: str
    name: str
    owner: _Person
    created_at: datetime


@dataclass(slots=True)
class _VersionPlan:
    pk: int
    model: _ModelPlan
    label: str
    created_at: datetime
    capability: float  # 0 to 1: how its results come out
    effective_compute: float
    required_level: str = ""
    assessed_at: datetime = T0
    determinations: list[Row] = field(default_factory=list)  # as an assessment lists them
    releases: list[_ReleasePlan] = field(default_factory=list)


@dataclass(slots=True)
class _Step:
    at: datetime
    kind: str  # create, submit, implement, verify, approve, withdraw
    person: _Person
    code: str = ""
    text: str = ""
    link: str = ""
    signature_pk: int = 0
    approval_pk: int = 0


@dataclass(slots=True)
class _Status:
    pk: int
    code: str
    version: _VersionPlan
    release: _ReleasePlan | None
    state: str = "missing"
    text: str = ""
    link: str = ""
    sha: str = ""
    implemented_by: _Person | None = None
    implemented_at: datetime | None = None
    verified_by: _Person | None = None
    verified_at: datetime | None = None

    def row(self) -> Row:
        return {
            "id": self.pk, "code": self.code, "model_version": self.version.pk,
            "release": self.release.pk if self.release else None, "state": self.state,
            "evidence_text": self.text, "evidence_link": self.link, "evidence_file": "",
            "evidence_file_name": "", "evidence_file_type": "", "evidence_file_size": None,
            "evidence_file_sha256": "", "evidence_sha256": self.sha,
            "implemented_by": self.implemented_by.pk if self.implemented_by else None,
            "implemented_at": self.implemented_at,
            "verified_by": self.verified_by.pk if self.verified_by else None,
            "verified_at": self.verified_at,
        }  # fmt: skip


@dataclass(slots=True)
class _ReleasePlan:
    order: int
    version: _VersionPlan
    context: str
    title: str
    requester: _Person
    final: str  # draft, submitted, approved, withdrawn_submitted, withdrawn_approved
    created_at: datetime
    rounds: int = 0  # of approvals
    steps: list[_Step] = field(default_factory=list)
    pk: int = 0
    # As the services leave it, once the steps are played:
    state: str = "draft"
    state_changed_at: datetime = T0
    assessment_version: int = 0
    sha: str = ""
    body: Row = field(default_factory=dict)
    assessed_at: datetime = T0
    own: dict[str, _Status] = field(default_factory=dict)
    approvals: list[tuple[int, str]] = field(default_factory=list)  # (pk, assessment sha)
    verdict: gate.Verdict | None = None

    @property
    def label(self) -> str:  # str(Release)
        return f"{self.version.label} → {_CONTEXT_LABELS[self.context]}"


@dataclass(slots=True)
class _DecisionPlan:
    kind: str
    rationale: str
    proposed_by: _Person
    proposed_at: datetime
    signers: list[tuple[_Person, datetime]]
    quorum: int
    release: _ReleasePlan | None = None
    version: _VersionPlan | None = None
    model: _ModelPlan | None = None
    allowed_contexts: list[str] = field(default_factory=list)
    lifts: _DecisionPlan | None = None
    state: str = "proposed"
    in_effect_at: datetime | None = None
    pk: int = 0
    signature_pks: list[int] = field(default_factory=list)
    row_pks: list[int] = field(default_factory=list)

    @property
    def model_id(self) -> int:
        if self.release is not None:
            return self.release.version.model.pk
        return self.version.model.pk if self.version is not None else self._model.pk

    @property
    def target(self) -> str:  # str() of what it is scoped to
        if self.release is not None:
            return self.release.label
        return self.version.label if self.version is not None else self._model.name

    @property
    def _model(self) -> _ModelPlan:
        assert self.model is not None  # a decision has exactly one scope
        return self.model

    def display(self, state: str) -> str:  # str(Decision) in that state
        return f"{Decision.Kind(self.kind).label} ({Decision.State(state).label})"

    def covers(self, release: _ReleasePlan) -> bool:
        version = release.version
        return self.release is release or self.version is version or self.model is version.model


@dataclass(slots=True)
class _Event:
    at: datetime
    order: int
    action: str
    actor_id: int | None
    actor: str
    object_type: str
    object_id: str
    object_repr: str
    subject: str
    before: Any
    after: Any
    reason: str
    request_id: str
    scope: int | None


@dataclass
class Report:
    sizes: Sizes
    phases: list[tuple[str, str, float]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    head_seq: int = 0
    head_hash: str = ""
    data_events: int = 0
    filler_events: int = 0
    first_logins: dict[str, str] = field(default_factory=dict)  # role name: its first username


# --- the seed ---------------------------------------------------------------------------------


def refuse_unless_empty() -> None:
    """A seed goes into an empty database only (a handful of audit events is tolerated)."""
    events = AuditEvent.objects.count()
    held = [
        f"{count:,} {label}"
        for label, count in (
            ("audit events", events if events > HANDFUL else 0),
            ("policies", Policy.objects.count()),
            ("evaluations", Evaluation.objects.count()),
            ("models", Model.objects.count()),
            ("releases", Release.objects.count()),
            ("signatures", Signature.objects.count()),
        )
        if count
    ]
    if held:
        raise ScaleError(
            f"This database already holds data ({', '.join(held)}). seed_scale fills an empty "
            "database only: create a new one, run migrate, and seed that."
        )


class Seeder:
    """Plans and writes the data; ``run`` does it all in one transaction."""

    def __init__(
        self,
        sizes: Sizes,
        *,
        seed: int = 0,
        password: str = "",
        progress: Callable[[str], None] = lambda message: None,
    ) -> None:
        problems = sizes.problems()
        if problems:
            raise ScaleError("; ".join(problems))
        self.sizes = sizes
        self.seed = seed
        self.password = password
        self.progress = progress
        self.key = keys.signing_key()
        self.report = Report(sizes=sizes)
        self.final_at = T0  # just after the last event: the moment of the final checks
        self._next_ids: dict[type[models.Model], int] = {}
        self._touched: set[type[models.Model]] = set()
        self._events: list[_Event] = []
        self.people: dict[str, list[_Person]] = {}
        self.evaluations: list[_EvalSpec] = []
        self.models: list[_ModelPlan] = []
        self.versions: list[_VersionPlan] = []
        self.releases: list[_ReleasePlan] = []
        self.decisions: list[_DecisionPlan] = []
        self.governing = PolicyVersion()
        self.governing_content: Row = {}
        self.levels: dict[str, Row] = {}  # the governing version's, by code
        self.required: dict[str, list[Row]] = {}  # safeguards each level requires

    # -- helpers

    def _rng(self, phase: str) -> random.Random:
        # Reproducible data, not secrets: one generator per phase, seeded by the options.
        return random.Random(f"seed_scale:{self.seed}:{phase}")  # noqa: S311

    def _id(self, model: type[models.Model]) -> int:
        """Ids are given here, from the table's largest: the same on every run."""
        if model not in self._next_ids:
            top = model._default_manager.aggregate(top=Max("pk"))["top"] or 0
            self._next_ids[model] = int(top) + 1
        value = self._next_ids[model]
        self._next_ids[model] = value + 1
        return value

    def _insert(self, model: type[models.Model], rows: Sequence[Row]) -> int:
        """Rows as dicts of field name to value (all rows with the same keys)."""
        if not rows:
            return 0
        self._touched.add(model)
        return insert_rows(model, list(rows[0]), (tuple(row.values()) for row in rows))

    def _event(
        self,
        at: datetime,
        action: str,
        actor: _Person | str,
        *,
        obj: tuple[str, object, str] | None = None,
        subject: str = "",
        before: Any = None,
        after: Any = None,
        reason: str = "",
        request_id: str = "",
        scope: int | None = None,
    ) -> None:
        """One event as ``core.audit.record`` writes it (``obj``: type, id and str)."""
        object_type, object_id, object_repr = obj if obj is not None else ("", "", "")
        actor_id, label = (
            (actor.pk, actor.username) if isinstance(actor, _Person) else (None, actor)
        )
        self._events.append(
            _Event(at, len(self._events), action, actor_id, label[:150], object_type,
                   str(object_id), object_repr[:300], subject, before, after, reason,
                   request_id[:100], scope)
        )  # fmt: skip

    @staticmethod
    def _request(rng: random.Random) -> str:
        return f"req:{rng.getrandbits(128):032x}"  # as core.middleware tags a request

    @staticmethod
    def _task(rng: random.Random) -> str:
        return f"task:{uuid.UUID(int=rng.getrandbits(128), version=4)}"  # a Celery task

    def _sign(
        self, pk: int, signer: _Person, meaning: Meaning, signed: tuple[str, int],
        subject: Row, at: datetime,
    ) -> tuple[Row, Row, str]:  # fmt: skip
        """A ``core.Signature`` row as ``core.signing.sign`` stores it over ``signed`` (label
        and pk), the after of its ``core.signature.created`` event, and its str."""
        manifest = canonical_json(
            build_manifest(
                signer=signer.as_user(), meaning=meaning, subject=subject,
                key_id=self.key.key_id,
                reauth=Reauthentication(user_id=signer.pk, method=REAUTH_METHOD), signed_at=at,
            )
        )  # fmt: skip
        digest = hashlib.sha256(manifest).hexdigest()
        row = {
            "id": pk, "signer": signer.pk, "printed_name": signer.printed_name,
            "meaning": meaning.code, "meaning_text": meaning.text, "signed_at": at,
            "object_type": signed[0], "object_id": str(signed[1]),
            "manifest": manifest.decode("utf-8"), "manifest_sha256": digest,
            "signature": base64.b64encode(self.key.sign(manifest)).decode("ascii"),
            "key_id": self.key.key_id, "reauthenticated_with": REAUTH_METHOD,
        }  # fmt: skip
        after = {"meaning": meaning.code, "object_type": signed[0], "object_id": str(signed[1]),
                 "manifest_sha256": digest, "key_id": self.key.key_id}  # fmt: skip
        return row, after, f"{signer.printed_name}: {meaning.text}"

    # -- the run

    def run(self) -> Report:
        refuse_unless_empty()
        with transaction.atomic():
            for name, phase in (
                ("people", self._phase_people),
                ("register", self._phase_register),
                ("evaluations and models", self._phase_models),
                ("runs and determinations", self._phase_runs),
                ("releases and decisions", self._phase_releases),
                ("audit chain", self._phase_chain),
                ("checks", self._phase_checks),
            ):
                started = time.perf_counter()
                summary = phase()
                seconds = time.perf_counter() - started
                self.report.phases.append((name, summary, seconds))
                self.progress(f"{name}: {summary} ({seconds:.1f} s)")
        self.report.counts = table_counts()
        return self.report

    # -- people

    def _phase_people(self) -> str:
        """An administrator (a superuser, who grants readers their models), then the people
        of each role, most of them product owners, as core.services.user_create makes them."""
        rng = self._rng("people")
        total = self.sizes.users
        plan: list[tuple[roles.Role | None, str, int]] = [(None, "admin", 1)]
        plan += [(role, prefix, max(least, round(total * share)))
                 for role, prefix, share, least in _ROLES]  # fmt: skip
        owners = total - sum(count for _, _, count in plan)
        if owners < 1:
            raise ScaleError(f"{total} people leave no product owner: seed more users")
        plan.insert(2, (roles.PRODUCT_OWNER, "owner", owners))
        names = {role.name for role, _, _ in plan if role is not None}
        if Group.objects.filter(name__in=names).count() < len(names):
            roles.sync_roles()
        groups = dict(Group.objects.values_list("name", "pk"))
        usernames = [f"{prefix}-{n:0{max(3, len(str(count)))}d}"
                     for _, prefix, count in plan for n in range(1, count + 1)]  # fmt: skip
        taken = User.objects.filter(username__in=usernames).values_list("username", flat=True)
        if taken:
            raise ScaleError(f"The username {taken[0]} is taken: seed an empty database")
        password = make_password(self.password)  # once: one salt for everybody
        users: list[Row] = []
        memberships: list[Row] = []
        at, usernames_left = T0, iter(usernames)
        for role, _, count in plan:
            people = self.people.setdefault(role.slug if role else "administrator", [])
            for _ in range(count):
                person = _Person(self._id(User), next(usernames_left), rng.choice(_FIRST),
                                 rng.choice(_LAST), role)  # fmt: skip
                people.append(person)
                at += timedelta(seconds=rng.uniform(2, 8))
                snapshot = {"username": person.username,
                            "email": f"{person.username}@example.org", "is_active": True,
                            "is_staff": role is None, "is_superuser": role is None}  # fmt: skip
                users.append({
                    "id": person.pk, "password": password, "last_login": None,
                    "is_superuser": role is None, "username": person.username,
                    "first_name": person.first_name, "last_name": person.last_name,
                    "email": snapshot["email"], "is_staff": role is None, "is_active": True,
                    "date_joined": at,
                })  # fmt: skip
                who = ("auth.user", person.pk, person.username)
                self._event(at, "core.user.created", ACTOR, obj=who, after=snapshot)
                if role is not None:  # core.services.role_grant
                    memberships.append({"id": self._id(User.groups.through), "user": person.pk,
                                        "group": groups[role.name]})  # fmt: skip
                    self._event(at, "core.role.granted", ACTOR, obj=who,
                                after={"role": role.slug})  # fmt: skip
        self._insert(User, users)
        self._insert(User.groups.through, memberships)
        self.report.first_logins = {
            role.name if role else "Administrator": people[0].username
            for (role, _, _), people in zip(plan, self.people.values(), strict=True)
        }
        return f"{len(users):,} people (" + ", ".join(
            f"{len(people)} {group.replace('_', ' ')}" for group, people in self.people.items()
        ) + ")"  # fmt: skip

    # -- the register

    def _evaluation_pool(self) -> list[_EvalSpec]:
        """About one evaluation per eight thresholds, taken from each domain in turn."""
        rng = self._rng("evaluations")
        every = [(d, *item) for d, items in _EVALUATIONS.items() for item in items]
        wanted = min(len(every), max(3, self.sizes.thresholds // 8))
        depth = max(len(items) for items in _EVALUATIONS.values())
        ordered = [
            (domain, *items[index])
            for index in range(depth)
            for domain, items in _EVALUATIONS.items()
            if domain != "GENERAL" and index < len(items)
        ] + [("GENERAL", *item) for item in _EVALUATIONS["GENERAL"]]
        return [
            _EvalSpec(key, domain, metrics, "lm-eval" if domain == "GENERAL" else "inspect",
                      rng.uniform(-0.1, 0.1))
            for domain, key, metrics in ordered[:wanted]
        ]  # fmt: skip

    def _phase_register(self) -> str:
        """Each policy: version 1, published and later superseded by version 2, which keeps
        version 1's thresholds and safeguards and adds more (one version when there are too
        few). Versions are published one policy after another; the last one governs."""
        rng = self._rng("register")
        self.evaluations = self._evaluation_pool()
        leads = self.people[roles.GOVERNANCE_LEAD.slug]
        domains = sorted({spec.domain for spec in self.evaluations} - {"GENERAL"})
        count = self.sizes.policies
        policies = []
        for index in range(count):
            thresholds = _share(self.sizes.thresholds, count, index)
            safeguards = _share(self.sizes.safeguards, count, index)
            if thresholds >= 3 and safeguards >= 3:
                first = (max(1, thresholds * 2 // 5), max(1, safeguards * 2 // 5))
                splits = [first, (thresholds - first[0], safeguards - first[1])]
            else:
                splits = [(thresholds, safeguards)]
            picked = sorted(rng.sample(domains, k=min(len(domains), rng.randint(3, 5))))
            items = self._threshold_items(rng, picked, max(t for t, _ in splits), index)
            policies.append((index, splits, picked, items))
        at = T0 + timedelta(days=1)
        written: Counter[str] = Counter()
        policy_of: dict[int, Policy] = {}
        in_force: dict[int, PolicyVersion] = {}
        for number in (1, 2):
            for index, splits, picked, items in policies:
                if number > len(splits):
                    continue
                at += timedelta(hours=2)
                n_thresholds, n_safeguards = splits[number - 1]
                version = self._write_version(
                    rng, index=index, number=number, policy=policy_of.get(index), at=at,
                    domains=picked, thresholds=items[:n_thresholds],
                    safeguards=_safeguard_items(n_safeguards, index),
                    top_defined=number == len(splits), lead=leads[index % len(leads)],
                    signers=rng.sample(leads, SIGNING_QUORUM), previous=in_force.get(index),
                )  # fmt: skip
                policy_of[index], in_force[index] = version.policy, version
                written.update(versions=1, thresholds=n_thresholds, safeguards=n_safeguards)
        governing = PolicyVersion.objects.governing()
        assert governing is not None
        self.governing = governing
        self.governing_content = content.version_content(content.load_version(governing.pk))
        self.levels = {level["code"]: level for level in self.governing_content["levels"]}
        self.required = {
            code: commitments.required_safeguards(self.governing_content, code)
            for code in self.levels
        }
        return (
            f"{count} policies, {written['versions']} versions, {written['thresholds']} "
            f"thresholds, {written['safeguards']} safeguards; {governing} governs"
        )

    def _threshold_items(
        self, rng: random.Random, domains: list[str], count: int, policy: int
    ) -> list[Row]:
        prefix = _LEVEL_PREFIXES[policy % len(_LEVEL_PREFIXES)]
        numbers: Counter[str] = Counter()
        items = []
        for index in range(count):
            domain = domains[index % len(domains)]
            numbers[domain] += 1
            rank = 3 if rng.random() < 0.6 else 4
            pairs = [(e.key, m) for e in self.evaluations if e.domain == domain for m in e.metrics]
            chosen = rng.sample(pairs, k=min(len(pairs), 1 if rng.random() < 0.7 else 2))
            items.append({
                "code": f"{domain}-{numbers[domain]:02d}",
                "domain": domain,
                "description": f"{_DOMAINS[domain]}: a capability that calls for the "
                               f"{prefix}-{rank} safeguards.",
                "required_level": f"{prefix}-{rank}",
                "conditions": [_condition(rng, key, metric, rank) for key, metric in chosen],
            })  # fmt: skip
        return items

    def _write_version(
        self, rng: random.Random, *, index: int, number: int, policy: Policy | None,
        at: datetime, domains: list[str], thresholds: list[Row], safeguards: list[Row],
        top_defined: bool, lead: _Person, signers: list[_Person],
        previous: PolicyVersion | None,
    ) -> PolicyVersion:  # fmt: skip
        """One version as governance.services.policy_import creates it (a draft with its
        items), then signed by ``signers`` as governance.publishing.version_sign does, which
        publishes it and supersedes ``previous``."""
        request = self._request(rng)
        shared = audit.SHARED_SCOPE
        if policy is None:
            base = _POLICY_NAMES[index % len(_POLICY_NAMES)]
            name = f"{base} {index // len(_POLICY_NAMES) + 1}"
            pk = self._id(Policy)
            self._insert(Policy, [{"id": pk, "name": name, "slug": slugify(name),
                                   "created_at": at, "created_by": lead.pk}])  # fmt: skip
            policy = Policy.objects.get(pk=pk)
            self._event(at, "governance.policy.created", lead, obj=("governance.policy", pk, name),
                        subject=f"governance.policy:{pk}",
                        after={"name": name, "slug": policy.slug}, request_id=request,
                        scope=shared)  # fmt: skip
        prefix = _LEVEL_PREFIXES[index % len(_LEVEL_PREFIXES)]
        version_pk = self._id(PolicyVersion)
        label = f"2026.{number}"
        self._insert(PolicyVersion, [{
            "id": version_pk, "policy": policy.pk, "number": number, "label": label,
            "state": "draft",
            "changelog": f"{len(thresholds)} thresholds and {len(safeguards)} safeguards.",
            "reevaluation_interval_days": 90 if index % 3 else 180, "baseline_level": None,
            "signing_quorum": SIGNING_QUORUM, "based_on": None, "created_by": lead.pk,
            "created_at": at, "effective_from": None, "published_at": None,
            "content_sha256": "", "superseded_at": None,
        }])  # fmt: skip
        levels = {f"{prefix}-{rank}": self._id(SafetyLevel) for rank in range(1, 5)}
        self._insert(SafetyLevel, [
            {"id": pk, "version": version_pk, "rank": rank, "code": code,
             "name": _LEVEL_NAMES[rank - 1],
             "capability_bar": f"Models at {_LEVEL_NAMES[rank - 1].lower()}.",
             "defined": rank < 4 or top_defined, "approval_quorum": _LEVEL_QUORUMS[rank - 1]}
            for rank, (code, pk) in enumerate(levels.items(), start=1)
        ])  # fmt: skip
        domain_ids = {code: self._id(RiskDomain) for code in domains}
        self._insert(RiskDomain, [
            {"id": pk, "version": version_pk, "code": code, "name": _DOMAINS[code],
             "description": f"Harm through {_DOMAINS[code].lower()}."}
            for code, pk in domain_ids.items()
        ])  # fmt: skip
        threshold_rows, condition_rows = [], []
        for item in thresholds:
            threshold_pk = self._id(CapabilityThreshold)
            threshold_rows.append({
                "id": threshold_pk, "version": version_pk, "domain": domain_ids[item["domain"]],
                "code": item["code"], "description": item["description"],
                "required_level": levels[item["required_level"]],
            })  # fmt: skip
            condition_rows += [
                {"id": self._id(TriggerCondition), "threshold": threshold_pk,
                 "evaluation_key": c["evaluation"], "metric_key": c["metric"],
                 "comparator": c["comparator"], "value": c["value"],
                 "alert_value": c["alert_value"]}
                for c in item["conditions"]
            ]  # fmt: skip
        self._insert(CapabilityThreshold, threshold_rows)
        self._insert(TriggerCondition, condition_rows)
        self._insert(Safeguard, [
            {"id": self._id(Safeguard), "version": version_pk,
             **{k: v for k, v in s.items() if k != "minimum_level"},
             "minimum_level": levels[s["minimum_level"]]}
            for s in safeguards
        ])  # fmt: skip
        self._insert(PauseAuthority, [
            {"id": self._id(PauseAuthority), "version": version_pk, "user": person.pk,
             "all_models": True, "model_slugs": "[]",
             "powers": _json([power.value for power in PauseAuthority.Power]),
             "valid_from": T0.date(), "valid_until": None, "granted_by": lead.pk}
            for person in self.people[roles.AUTHORITY.slug]
        ])  # fmt: skip
        PolicyVersion.objects.filter(pk=version_pk).update(baseline_level=levels[f"{prefix}-2"])
        # What was imported, read back as the register reads it: valid, hashed, signed.
        data = content.version_content(content.load_version(version_pk))
        problems = validation.errors(data)
        if problems:
            raise ScaleError(f"generated policy content is invalid: {problems[0].message}")
        digest = content.content_sha256(data)
        version = PolicyVersion.objects.select_related("policy").get(pk=version_pk)
        me = ("governance.policyversion", version_pk, str(version))
        subject = f"governance.policyversion:{version_pk}"
        self._event(at, "governance.policy_version.imported", lead, obj=me, subject=subject,
                    after=data, reason="yaml", request_id=request, scope=shared)  # fmt: skip
        signed_at = at
        for signer in signers:
            signed_at += timedelta(minutes=rng.uniform(10, 50))
            request = self._request(rng)
            pk = self._id(Signature)
            row, after, printed = self._sign(
                pk, signer, PUBLISH, ("governance.policyversion", version_pk),
                {"type": "governance.policyversion", "policy": policy.slug, "version": number,
                 "label": label, "content_sha256": digest}, signed_at,
            )  # fmt: skip
            self._insert(Signature, [row])
            self._event(signed_at, "core.signature.created", signer,
                        obj=("core.signature", pk, printed), subject=subject, after=after,
                        request_id=request, scope=shared)  # fmt: skip
        if previous is not None:
            PolicyVersion.objects.filter(pk=previous.pk).update(
                state=PolicyVersion.State.SUPERSEDED, superseded_at=signed_at
            )
            self._event(signed_at, "governance.policy_version.superseded", signer,
                        obj=("governance.policyversion", previous.pk, str(previous)),
                        subject=f"governance.policyversion:{previous.pk}",
                        before={"state": "published"},
                        after={"state": "superseded", "superseded_by": number},
                        request_id=request, scope=shared)  # fmt: skip
        PolicyVersion.objects.filter(pk=version_pk).update(
            state=PolicyVersion.State.PUBLISHED, published_at=signed_at,
            effective_from=signed_at.date(), content_sha256=digest,
        )  # fmt: skip
        self._event(signed_at, "governance.policy_version.published", signer, obj=me,
                    subject=subject, before={"state": "draft"},
                    after={"state": "published", "effective_from": signed_at.date().isoformat(),
                           "content_sha256": digest,
                           "supersedes": previous.number if previous else None},
                    request_id=request, scope=shared)  # fmt: skip
        version.refresh_from_db()
        return version

    # -- evaluations and models

    def _phase_models(self) -> str:
        rng = self._rng("models")
        lead = self.people[roles.GOVERNANCE_LEAD.slug][0]
        owners = list(self.people[roles.PRODUCT_OWNER.slug])
        rng.shuffle(owners)
        at = T0 + timedelta(hours=20)
        evaluations = []
        for spec in self.evaluations:
            spec.pk = self._id(Evaluation)
            at += timedelta(minutes=rng.uniform(1, 5))
            name = spec.key.replace("_", " ").capitalize()
            reports = ", ".join(metric for metric, _ in spec.metrics)
            evaluations.append({"id": spec.pk, "key": spec.key, "name": name,
                                "domain": spec.domain, "harness": spec.harness,
                                "description": f"Reports {reports}."})  # fmt: skip
            self._event(at, "evaluations.evaluation.created", lead,
                        obj=("evaluations.evaluation", spec.pk, spec.key),
                        after={"key": spec.key, "name": name, "domain": spec.domain,
                               "harness": spec.harness}, request_id=self._request(rng))  # fmt: skip
        self._insert(Evaluation, evaluations)
        view = Permission.objects.get(content_type__app_label="evaluations", codename="view_model")
        feed = Permission.objects.get(content_type__app_label="evaluations", codename="feed_model")
        count, last = self.sizes.models, T0 + timedelta(days=150)
        planned: list[tuple[datetime, int, int, _ModelPlan]] = []
        models_, grants = [], []
        for index in range(count):
            star = _STARS[index % len(_STARS)]
            name = star if index < len(_STARS) else f"{star} {index // len(_STARS) + 1}"
            created = T0 + timedelta(days=3 + 30 * index / count, seconds=rng.uniform(0, 3600))
            model = _ModelPlan(self._id(Model), slugify(name), name, owners[index % len(owners)],
                               created)  # fmt: skip
            self.models.append(model)
            models_.append({"id": model.pk, "slug": model.slug, "name": name,
                            "family": star.lower(), "owner": model.owner.pk,
                            "created_at": created})  # fmt: skip
            grants += [  # what evaluations.access.grant_owner grants
                {"id": self._id(ModelUserObjectPermission), "permission": permission.pk,
                 "user": model.owner.pk, "content_object": model.pk}
                for permission in (view, feed)
            ]  # fmt: skip
            self._event(created, "evaluations.model.created", model.owner,
                        obj=("evaluations.model", model.pk, name),
                        subject=f"evaluations.model:{model.pk}",
                        after={"slug": model.slug, "name": name, "family": star.lower(),
                               "owner": model.owner.username},
                        request_id=self._request(rng), scope=model.pk)  # fmt: skip
            versions = _share(self.sizes.model_versions, count, index)
            span = (last - created).total_seconds() - 3600
            moments = sorted(created + timedelta(seconds=3600 + rng.uniform(0, span))
                             for _ in range(versions))  # fmt: skip
            planned += [(moment, index, j, model) for j, moment in enumerate(moments)]
        per_model = [_share(self.sizes.model_versions, count, index) for index in range(count)]
        for moment, index, j, model in sorted(planned, key=lambda item: item[:3]):
            # Later versions of a model are more capable.
            capability = 0.05 + 0.6 * (j + 1) / per_model[index] + rng.gauss(0, 0.05)
            capability = min(0.97, max(0.05, capability))
            version = _VersionPlan(self._id(ModelVersion), model,
                                   f"{model.slug}-{1 + j // 5}.{j % 5}", moment, capability,
                                   float(f"{10 ** (23 + 3 * capability):.2e}"))  # fmt: skip
            self.versions.append(version)
            self._event(moment, "evaluations.model_version.created", model.owner,
                        obj=("evaluations.modelversion", version.pk, version.label),
                        subject=f"evaluations.modelversion:{version.pk}",
                        after={"model": model.slug, "label": version.label,
                               "effective_compute": version.effective_compute},
                        request_id=self._request(rng), scope=model.pk)  # fmt: skip
        readers, admin = 0, self.people["administrator"][0]
        for person in self.people[roles.SCOPED_AUDITOR.slug]:
            for model in rng.sample(self.models, k=min(len(self.models), rng.randint(1, 3))):
                readers += 1  # evaluations.services.model_reader_grant
                grants.append({"id": self._id(ModelUserObjectPermission),
                               "permission": view.pk, "user": person.pk,
                               "content_object": model.pk})  # fmt: skip
                self._event(model.created_at + timedelta(hours=rng.uniform(1, 48)),
                            "evaluations.model.reader_granted", admin,
                            obj=("evaluations.model", model.pk, model.name),
                            subject=f"evaluations.model:{model.pk}",
                            after={"reader": person.username},
                            request_id=self._request(rng), scope=model.pk)  # fmt: skip
        self._insert(Model, models_)
        self._insert(ModelUserObjectPermission, grants)
        return (
            f"{len(self.evaluations)} evaluations, {count} models, "
            f"{len(self.versions):,} model versions planned, {readers} reader grants"
        )

    # -- runs, results and determinations

    def _phase_runs(self) -> str:
        """Each version's runs, then its assessment: ``determinations.assess`` over exactly
        those runs, as evaluations.recompute stores it after the last of them."""
        rng = self._rng("runs")
        data = self.governing_content
        governed = sorted({c["evaluation"] for t in data["thresholds"] for c in t["conditions"]})
        rows: dict[type[models.Model], list[Row]] = {EvaluationRun: [], Result: []}
        found: list[Row] = []
        versions: list[Row] = []
        for index, version in enumerate(self.versions):
            budget = _share(self.sizes.results, len(self.versions), index)
            tested = list(self.evaluations)
            if governed and rng.random() < 0.15:  # an evaluation never run: cannot rule out
                skipped = rng.choice(governed)
                tested = [spec for spec in tested if spec.key != skipped]
            rng.shuffle(tested)
            planned: list[tuple[_EvalSpec, str, tuple[tuple[str, str], ...]]] = []
            while budget > 0 and tested:  # rounds of every evaluation: re-runs after the first
                for spec in tested:
                    if budget <= 0:
                        break
                    if rng.random() < 0.03:  # a failed run carries no results
                        planned.append((spec, rng.choice(("error", "cancelled")), ()))
                    metrics = spec.metrics[:budget]
                    budget -= len(metrics)
                    planned.append((spec, "success", metrics))
            facts, run_pks, watermark = self._version_runs(rng, version, planned, rows)
            now = version.assessed_at
            assessed = determinations.assess(data, facts, now=now)
            version.required_level = assessed.required_level
            task = self._task(rng)
            subject = f"evaluations.modelversion:{version.pk}"
            for step, outcome in enumerate(assessed.outcomes):
                found.append({
                    "id": self._id(Determination), "model_version": version.pk,
                    "policy_version": self.governing.pk, "threshold": outcome.threshold,
                    "level": outcome.level, "outcome": outcome.outcome,
                    "computed_outcome": outcome.computed_outcome, "reason": outcome.reason,
                    "deciding_run": run_pks.get(outcome.deciding_run or ""),
                    "deciding_metric": outcome.deciding_metric,
                    "deciding_value": outcome.deciding_value, "override": None,
                    "evidence": _json(list(outcome.evidence)), "computed_at": now,
                })  # fmt: skip
                self._event(now + timedelta(microseconds=step), "evaluations.determination.changed",
                            recompute.ACTOR,
                            obj=("evaluations.modelversion", version.pk,
                                 f"{version.label} {outcome.threshold}"),
                            subject=subject,
                            after={"outcome": outcome.outcome, "level": outcome.level,
                                   "deciding_run": outcome.deciding_run, "override": None,
                                   "reason": outcome.reason},
                            request_id=task, scope=version.model.pk)  # fmt: skip
            if assessed.required_level:
                self._event(now + timedelta(microseconds=len(assessed.outcomes)),
                            "evaluations.required_level.changed", recompute.ACTOR,
                            obj=("evaluations.modelversion", version.pk, version.label),
                            subject=subject, before={"required_level": None},
                            after={"required_level": assessed.required_level,
                                   "policy_version": self.governing.pk},
                            request_id=task, scope=version.model.pk)  # fmt: skip
            version.determinations = sorted(
                ({"threshold": o.threshold, "outcome": o.outcome, "level": o.level,
                  "deciding_run": o.deciding_run} for o in assessed.outcomes),
                key=lambda d: str(d["threshold"]),
            )  # fmt: skip
            versions.append({
                "id": version.pk, "model": version.model.pk, "label": version.label,
                "effective_compute": version.effective_compute, "created_at": version.created_at,
                "created_by": version.model.owner.pk, "required_level": assessed.required_level,
                "required_rank": assessed.required_rank, "assessed_policy": self.governing.pk,
                "assessed_at": now, "needs_recompute": False, "evidence_watermark": watermark,
                "assessed_watermark": watermark,
            })  # fmt: skip
        self._insert(ModelVersion, versions)
        self._insert(EvaluationRun, rows[EvaluationRun])
        self._insert(Result, rows[Result])
        self._insert(Determination, found)
        spread = Counter(version.required_level or "none" for version in self.versions)
        return (
            f"{len(versions):,} model versions ("
            + ", ".join(f"{code}: {n:,}" for code, n in sorted(spread.items()))
            + f"), {len(rows[EvaluationRun]):,} runs, {len(rows[Result]):,} results, "
            f"{len(found):,} determinations"
        )

    def _version_runs(
        self,
        rng: random.Random,
        version: _VersionPlan,
        planned: list[tuple[_EvalSpec, str, tuple[tuple[str, str], ...]]],
        rows: dict[type[models.Model], list[Row]],
    ) -> tuple[list[determinations.RunFact], dict[str, int], int]:
        """One version's runs over its first two days, received in batches (one ingestion
        call each, as evaluations.ingestion.ingest_runs writes them): the facts the recompute
        reads, the run ids' pks, and the evidence watermark. Sets when it is assessed."""
        owner, subject = version.model.owner, f"evaluations.modelversion:{version.pk}"
        specs = {spec.key: spec for spec in self.evaluations}
        window = timedelta(days=2) - timedelta(hours=1)
        facts: list[determinations.RunFact] = []
        run_pks: dict[str, int] = {}
        batch: list[tuple[RunInput, int]] = []
        batches, received = 0, version.created_at

        def receive() -> None:
            nonlocal batches, received
            batches += 1
            request = self._request(rng)
            last_completed = batch[-1][0].completed_at
            assert last_completed is not None
            received = max(received, last_completed) + timedelta(seconds=rng.uniform(30, 600))
            for offset, (run, pk) in enumerate(batch):
                at = received + timedelta(microseconds=offset)
                rows[EvaluationRun].append({
                    "id": pk, "model_version": version.pk,
                    "evaluation": specs[run.evaluation].pk, "run_id": run.run_id,
                    "status": run.status, "harness": run.harness,
                    "harness_version": run.harness_version, "source": "api",
                    "started_at": run.started_at, "completed_at": run.completed_at,
                    "raw_file": None, "fingerprint": run.fingerprint(), "imported_by": owner.pk,
                    "received_at": at,
                })  # fmt: skip
                self._event(at, "evaluations.run.received", owner,
                            obj=("evaluations.evaluationrun", pk,
                                 f"{run.evaluation} on {version.label} ({run.run_id})"),
                            subject=subject, reason="api",
                            after={"run_id": run.run_id, "evaluation": run.evaluation,
                                   "status": run.status, "model_version": version.label,
                                   "results": {r.metric: r.value for r in run.results},
                                   "raw_sha256": None},
                            request_id=request, scope=version.model.pk)  # fmt: skip
            batch.clear()

        seen: set[str] = set()
        for position, (spec, status, metrics) in enumerate(planned):
            # Distinct completion times: which run is the latest never depends on a tie.
            fraction = (position + rng.uniform(0.1, 0.9)) / max(1, len(planned))
            completed = version.created_at + timedelta(hours=1) + window * fraction
            run_id = f"{spec.harness}-{rng.getrandbits(48):012x}"
            while run_id in seen:
                run_id = f"{spec.harness}-{rng.getrandbits(48):012x}"
            seen.add(run_id)
            inputs = [_result(rng, version.capability - spec.difficulty, metric, direction)
                      for metric, direction in metrics]  # fmt: skip
            run = RunInput(
                model_version=version.label, evaluation=spec.key, run_id=run_id, status=status,
                results=tuple(inputs), harness=spec.harness,
                harness_version=f"0.{3 if spec.harness == 'inspect' else 4}."
                                f"{rng.randint(40, 99)}",
                started_at=completed - timedelta(minutes=rng.uniform(5, 120)),
                completed_at=completed,
            )  # fmt: skip
            pk = self._id(EvaluationRun)
            run_pks[run_id] = pk
            rows[Result] += [
                {"id": self._id(Result), "run": pk, "metric": r.metric, "value": r.value,
                 "stderr": r.stderr, "samples": r.samples}
                for r in inputs
            ]  # fmt: skip
            facts.append(determinations.RunFact(
                run_id=run_id, evaluation=spec.key, succeeded=status == "success",
                completed_at=completed, results={r.metric: r.value for r in inputs},
            ))  # fmt: skip
            batch.append((run, pk))
            if len(batch) == 25:
                receive()
        if batch:
            receive()
        version.assessed_at = received + timedelta(seconds=rng.uniform(1, 20))
        # model_version_create marks the version once, each ingestion call once more.
        return facts, run_pks, 2 + batches

    # -- releases, approvals and decisions

    def _phase_releases(self) -> str:
        rng = self._rng("releases")
        for order in range(self.sizes.releases):
            version = rng.choice(self.versions)
            pick = rng.random()
            final = ("draft" if pick < 0.1 else "submitted" if pick < 0.4 else
                     "approved" if pick < 0.85 else
                     rng.choice(("withdrawn_submitted", "withdrawn_approved")))  # fmt: skip
            if final.endswith("approved") and not self.levels[version.required_level]["defined"]:
                final = final.replace("approved", "submitted")  # nobody can approve it
            context = rng.choice(_CONTEXTS)
            title = f"{version.model.name} {version.label} for {_CONTEXT_LABELS[context].lower()}"
            release = _ReleasePlan(order, version, context, title, version.model.owner, final,
                                   version.created_at)  # fmt: skip
            version.releases.append(release)
            self.releases.append(release)
        approvals = self._plan_rounds(rng)
        for version in self.versions:
            self._script_version(rng, version)
        self._plan_decisions(rng, self.sizes.signatures - approvals)
        self._allocate_ids()
        rows = self._play_releases()
        self._play_decisions(rows)
        self._insert(Release, sorted(
            (self._release_row(release) for release in self.releases), key=lambda r: r["id"]
        ))  # fmt: skip
        for model in (SafeguardStatus, Signature, Approval, Decision, DecisionSignature):
            self._insert(model, sorted(rows[model], key=lambda row: row["id"]))
        states = Counter(release.state for release in self.releases)
        return (
            f"{len(self.releases):,} releases ("
            + ", ".join(f"{state}: {n:,}" for state, n in sorted(states.items()))
            + f"), {len(rows[SafeguardStatus]):,} safeguard statuses, "
            f"{len(rows[Approval]):,} approvals, {len(self.decisions):,} decisions "
            f"({len(rows[DecisionSignature]):,} signatures)"
        )

    def _quorum(self, version: _VersionPlan) -> int:
        return int(self.levels.get(version.required_level, {}).get("approval_quorum", 1))

    def _plan_rounds(self, rng: random.Random) -> int:
        """Rounds of approvals per approved release: a round after the first follows a rework
        of its evidence, which makes the earlier approvals stale. About half the signatures go
        to approvals, the rest to decisions. Returns the number of approvals."""
        budget, spent = self.sizes.signatures, 0
        approved = [release for release in self.releases if release.final.endswith("approved")]
        for release in approved:
            if spent + self._quorum(release.version) > budget:
                release.final = release.final.replace("approved", "submitted")
            else:
                release.rounds = 1
                spent += self._quorum(release.version)
        target = min(budget, max(spent, budget // 2))
        reworkable = [
            release
            for release in approved
            if release.rounds
            and any(s["scope"] == "release" for s in self.required[release.version.required_level])
        ]
        while any(spent + self._quorum(r.version) <= target for r in reworkable):
            for release in reworkable:
                if spent + self._quorum(release.version) <= target and rng.random() < 0.5:
                    release.rounds += 1
                    spent += self._quorum(release.version)
        return spent

    def _script_version(self, rng: random.Random, version: _VersionPlan) -> None:
        """The steps of each release of one version, one release after another. The first
        release completes the evidence of the version's shared safeguards (unless it is also
        the last), so that no release's assessment is left behind by a later one."""
        specs = self.required.get(version.required_level, [])
        shared = [s["code"] for s in specs if s["scope"] == "model_version"]
        own = [s["code"] for s in specs if s["scope"] == "release"]
        quorum = self._quorum(version)
        authorities = self.people[roles.AUTHORITY.slug]
        verifiers = self.people[roles.GOVERNANCE_LEAD.slug] + authorities
        at = version.assessed_at + timedelta(hours=rng.uniform(1, 72))
        done: set[str] = set()
        for index, release in enumerate(version.releases):
            owner, final = release.requester, release.final
            approved = final.endswith("approved")
            release.created_at = at
            steps = [_Step(at, "create", owner)]
            if final != "draft":
                at += timedelta(minutes=rng.uniform(10, 180))
                steps.append(_Step(at, "submit", owner))
            todo = [code for code in shared if code not in done]
            last = index == len(version.releases) - 1
            if approved or not last:
                work = [(code, True) for code in todo]
            else:
                work = _partial(rng, todo, verify=final != "draft")
            work += [(c, True) for c in own] if approved else _partial(rng, own, final != "draft")
            for code, verified in work:
                at += timedelta(minutes=rng.uniform(10, 120))
                steps.append(_Step(at, "implement", owner, code, *_evidence(rng, version, code)))
                if verified:
                    at += timedelta(minutes=rng.uniform(30, 1200))
                    steps.append(_Step(at, "verify", rng.choice(verifiers), code))
                    done.add(code)
            for round_number in range(release.rounds):
                if round_number:  # new evidence for one safeguard: verified again, re-approved
                    code = rng.choice(own)
                    text, link = _evidence(rng, version, code)
                    at += timedelta(days=rng.uniform(1, 4))
                    steps.append(_Step(at, "implement", owner, code,
                                       f"{text} Revision {round_number + 1}.", link))  # fmt: skip
                    at += timedelta(minutes=rng.uniform(60, 1200))
                    steps.append(_Step(at, "verify", rng.choice(verifiers), code))
                for approver in rng.sample(authorities, quorum):
                    at += timedelta(minutes=rng.uniform(10, 360))
                    steps.append(_Step(at, "approve", approver))
            if final.startswith("withdrawn"):
                at += timedelta(hours=rng.uniform(1, 120))
                steps.append(_Step(at, "withdraw", owner))
            release.steps = steps
            at += timedelta(hours=rng.uniform(1, 120))

    def _plan_decisions(self, rng: random.Random, budget: int) -> None:
        """Pauses and restrictions on releases, model versions and models, most of them lifted
        later, taking exactly ``budget`` signatures."""
        quorum = self.governing.signing_quorum
        authorities = self.people[roles.AUTHORITY.slug]
        while budget > 0:
            pick = rng.random()
            if budget >= 2 * quorum and pick < 0.8:
                signed = [quorum, quorum]  # a decision, then its lift
            elif budget >= quorum and (pick < 0.92 or quorum == 1):
                signed = [quorum]
            else:
                signed = [min(budget, quorum - 1)]  # proposed, short of its quorum
            budget -= sum(signed)
            where = rng.random()
            target: dict[str, Any] = {}
            if self.releases and where < 0.6:
                target["release"] = release = rng.choice(self.releases)
                start = release.created_at
            elif where < 0.9:
                target["version"] = version = rng.choice(self.versions)
                start = version.assessed_at
            else:
                target["model"] = model = rng.choice(self.models)
                start = model.created_at
            kind = "pause" if rng.random() < (0.6 if len(signed) == 2 else 0.2) else "restrict"
            at = start + timedelta(hours=rng.uniform(1, 336))
            decision = self._decision(rng, kind, at, signed[0], quorum, authorities, target)
            if kind == "restrict":
                decision.allowed_contexts = sorted(rng.sample(_CONTEXTS, rng.randint(1, 3)))
            if len(signed) == 2:
                assert decision.in_effect_at is not None
                at = decision.in_effect_at + timedelta(hours=rng.uniform(1, 168))
                lift = self._decision(rng, "lift", at, signed[1], quorum, authorities, target)
                lift.lifts, decision.state = decision, "lifted"

    def _decision(
        self, rng: random.Random, kind: str, at: datetime, signatures: int, quorum: int,
        authorities: list[_Person], target: dict[str, Any],
    ) -> _DecisionPlan:  # fmt: skip
        signers, moment = [], at
        for person in rng.sample(authorities, signatures):
            moment += timedelta(minutes=rng.uniform(5, 180))
            signers.append((person, moment))
        rationale = rng.choice(_LIFT_RATIONALES if kind == "lift" else _RATIONALES)
        decision = _DecisionPlan(kind, rationale, rng.choice(authorities), at, signers, quorum,
                                 **target)  # fmt: skip
        if signatures >= quorum:
            decision.state, decision.in_effect_at = "in_effect", signers[quorum - 1][1]
        self.decisions.append(decision)
        return decision

    def _allocate_ids(self) -> None:
        """Ids in the order the rows would have been created."""
        for release in sorted(self.releases, key=lambda r: (r.created_at, r.order)):
            release.pk = self._id(Release)
        for decision in sorted(self.decisions, key=lambda d: d.proposed_at):
            decision.pk = self._id(Decision)
            decision.signature_pks = [0] * len(decision.signers)
            decision.row_pks = [0] * len(decision.signers)
        signed: list[tuple[datetime, int, _Step | tuple[_DecisionPlan, int]]] = [
            (step.at, release.pk, step)
            for release in self.releases
            for step in release.steps
            if step.kind == "approve"
        ]
        signed += [
            (at, -d.pk, (d, n)) for d in self.decisions for n, (_, at) in enumerate(d.signers)
        ]
        for _, _, item in sorted(signed, key=lambda entry: entry[:2]):
            if isinstance(item, _Step):
                item.signature_pk, item.approval_pk = self._id(Signature), self._id(Approval)
            else:
                decision, n = item
                decision.signature_pks[n] = self._id(Signature)
                decision.row_pks[n] = self._id(DecisionSignature)

    def _play_releases(self) -> dict[type[models.Model], list[Row]]:
        """Every release's steps, a version's releases one after another, as the release
        services play them: rows, signatures and audit events."""
        rng = self._rng("release-events")
        implemented = sorted(
            ((step.at, release.pk, release, step) for release in self.releases
             for step in release.steps if step.kind == "implement"),
            key=lambda item: item[:2],
        )  # fmt: skip
        status_pks: dict[tuple[int, int, str], int] = {}  # in the order of first evidence
        for _, _, release, step in implemented:
            key = self._status_key(release, step.code)
            if key not in status_pks:
                status_pks[key] = self._id(SafeguardStatus)
        rows: dict[type[models.Model], list[Row]] = {
            model: [] for model in (SafeguardStatus, Signature, Approval, Decision,
                                    DecisionSignature)
        }  # fmt: skip
        for version in self.versions:
            shared: dict[str, _Status] = {}
            for release in version.releases:
                self._play(rng, release, shared, status_pks, rows)
                rows[SafeguardStatus] += [status.row() for status in release.own.values()]
            rows[SafeguardStatus] += [status.row() for status in shared.values()]
        return rows

    def _status_key(self, release: _ReleasePlan, code: str) -> tuple[int, int, str]:
        """Shared by the version's releases (0), or the release's own."""
        scope = _scope_of(self.required[release.version.required_level], code)
        return release.version.pk, release.pk if scope == "release" else 0, code

    def _play(
        self,
        rng: random.Random,
        release: _ReleasePlan,
        shared: dict[str, _Status],
        status_pks: dict[tuple[int, int, str], int],
        rows: dict[type[models.Model], list[Row]],
    ) -> None:
        version = release.version
        specs = self.required.get(version.required_level, [])
        level = self.levels.get(version.required_level, {})
        scope, subject = version.model.pk, f"releases.release:{release.pk}"
        me = ("releases.release", release.pk, release.label)
        governing = f"{self.governing_content['policy']['slug']}:{self.governing.number}"

        def status_of(code: str) -> _Status | None:
            return (shared if _scope_of(specs, code) == "model_version" else release.own).get(code)

        def body() -> Row:  # releases.assessment.build
            safeguards = []
            for spec in specs:
                status = status_of(spec["code"])
                safeguards.append({"code": spec["code"], "scope": spec["scope"],
                                   "state": status.state if status else "missing",
                                   "evidence_sha256": status.sha if status else ""})  # fmt: skip
            return {
                "release": release.pk, "context": release.context,
                "model_version": version.label, "policy_version": governing,
                "required_level": version.required_level or None,
                "determinations": version.determinations, "safeguards": safeguards,
            }  # fmt: skip

        def move(actor: _Person | str, target: str, at: datetime, request: str) -> None:
            before, release.state, release.state_changed_at = release.state, target, at
            self._event(at, f"releases.release.{target}", actor, obj=me, subject=subject,
                        before={"state": before}, after={"state": target},
                        request_id=request, scope=scope)  # fmt: skip

        def refresh(at: datetime, request: str) -> None:  # releases.services.gate_refresh
            current = body()
            digest = hashlib.sha256(canonical_json(current)).hexdigest()
            release.assessed_at, release.body = at, current
            if digest != release.sha:
                release.assessment_version += 1
                release.sha = digest
                if release.state == "approved":
                    move("system:gate", "submitted", at, request)
                self._event(at, "releases.assessment.changed", "system:gate", obj=me,
                            subject=subject,
                            after={**current, "assessment_version": release.assessment_version},
                            request_id=request, scope=scope)  # fmt: skip

        release.state_changed_at = release.created_at
        for step in release.steps:
            request, at, person = self._request(rng), step.at, step.person
            if step.kind == "create":
                self._event(at, "releases.release.created", person, obj=me, subject=subject,
                            after={"model_version": version.label, "context": release.context,
                                   "title": release.title},
                            request_id=request, scope=scope)  # fmt: skip
            elif step.kind == "submit":
                move(person, "submitted", at, request)
            elif step.kind == "withdraw":
                move(person, "withdrawn", at, request)
            elif step.kind == "implement":
                status = status_of(step.code)
                if status is None:
                    key = self._status_key(release, step.code)
                    status = _Status(status_pks[key], step.code, version,
                                     release if key[1] else None)  # fmt: skip
                    (release.own if key[1] else shared)[step.code] = status
                before = {"state": status.state, "evidence_sha256": status.sha}
                status.state, status.text, status.link = "implemented", step.text, step.link
                status.sha = evidence_sha256(step.text, step.link, "")
                status.implemented_by, status.implemented_at = person, at
                status.verified_by = status.verified_at = None
                self._event(at, "releases.safeguard.implemented", person,
                            obj=("releases.safeguardstatus", status.pk,
                                 f"{step.code}: implemented"),
                            subject=subject, before=before,
                            after={"code": step.code, "evidence_sha256": status.sha,
                                   "file": None},
                            request_id=request, scope=scope)  # fmt: skip
            elif step.kind == "verify":
                status = status_of(step.code)
                assert status is not None
                status.state, status.verified_by, status.verified_at = "verified", person, at
                self._event(at, "releases.safeguard.verified", person,
                            obj=("releases.safeguardstatus", status.pk, f"{step.code}: verified"),
                            subject=subject,
                            after={"code": step.code, "evidence_sha256": status.sha},
                            request_id=request, scope=scope)  # fmt: skip
            elif step.kind == "approve":  # releases.services.release_approve
                refresh(at, request)
                row, after, printed = self._sign(
                    step.signature_pk, person, APPROVE, ("releases.release", release.pk),
                    {"type": "releases.release", **release.body,
                     "assessment_version": release.assessment_version,
                     "assessment_sha256": release.sha}, at,
                )  # fmt: skip
                rows[Signature].append(row)
                self._event(at, "core.signature.created", person,
                            obj=("core.signature", step.signature_pk, printed), subject=subject,
                            after=after, request_id=request, scope=scope)  # fmt: skip
                release.approvals.append((step.approval_pk, release.sha))
                rows[Approval].append({
                    "id": step.approval_pk, "release": release.pk, "approver": person.pk,
                    "signature": step.signature_pk,
                    "assessment_version": release.assessment_version,
                    "assessment_sha256": release.sha, "created_at": at,
                })  # fmt: skip
                self._event(at, "releases.approval.signed", person,
                            obj=("releases.approval", step.approval_pk,
                                 f"{person.username} approves {release.label}"),
                            subject=subject,
                            after={"assessment_sha256": release.sha,
                                   "signature": step.signature_pk},
                            request_id=request, scope=scope)  # fmt: skip
                current = sum(1 for _, sha in release.approvals if sha == release.sha)
                if current >= self._quorum(version) and level.get("defined"):
                    move(person, "approved", at, request)
            refresh(at, request)

    def _play_decisions(self, rows: dict[type[models.Model], list[Row]]) -> None:
        """As releases.decisions.decision_propose and decision_sign write them."""
        rng = self._rng("decision-events")
        for decision in self.decisions:
            scope, subject = decision.model_id, f"releases.decision:{decision.pk}"
            proposed = ("releases.decision", decision.pk, decision.display("proposed"))
            self._event(decision.proposed_at, "releases.decision.proposed", decision.proposed_by,
                        obj=proposed, subject=subject,
                        after={"kind": decision.kind, "target": decision.target,
                               "quorum": decision.quorum,
                               "allowed_contexts": decision.allowed_contexts,
                               "rationale": decision.rationale},
                        request_id=self._request(rng), scope=scope)  # fmt: skip
            signed = {
                "type": "releases.decision", "decision": decision.pk, "kind": decision.kind,
                "target": decision.target, "allowed_contexts": decision.allowed_contexts,
                "rationale": decision.rationale,
                "lifts": decision.lifts.pk if decision.lifts else None,
            }  # fmt: skip
            for n, (signer, at) in enumerate(decision.signers):
                request, pk = self._request(rng), decision.signature_pks[n]
                row, after, printed = self._sign(
                    pk, signer, MEANINGS[decision.kind], ("releases.decision", decision.pk),
                    signed, at,
                )  # fmt: skip
                rows[Signature].append(row)
                rows[DecisionSignature].append({"id": decision.row_pks[n],
                                                "decision": decision.pk, "signer": signer.pk,
                                                "signature": pk, "created_at": at})  # fmt: skip
                self._event(at, "core.signature.created", signer,
                            obj=("core.signature", pk, printed), subject=subject, after=after,
                            request_id=request, scope=scope)  # fmt: skip
                self._event(at, "releases.decision.signed", signer, obj=proposed,
                            subject=subject, after={"signature": pk}, request_id=request,
                            scope=scope)  # fmt: skip
                if n + 1 < decision.quorum:
                    continue
                self._event(at, "releases.decision.in_effect", signer,
                            obj=("releases.decision", decision.pk, decision.display("in_effect")),
                            subject=subject, after={"kind": decision.kind}, request_id=request,
                            scope=scope)  # fmt: skip
                lifted = decision.lifts
                if lifted is not None:
                    self._event(at, "releases.decision.lifted", signer,
                                obj=("releases.decision", lifted.pk, lifted.display("in_effect")),
                                subject=f"releases.decision:{lifted.pk}",
                                after={"lifted_by": decision.pk}, request_id=request,
                                scope=lifted.model_id)  # fmt: skip
            rows[Decision].append({
                "id": decision.pk, "kind": decision.kind,
                "release": decision.release.pk if decision.release else None,
                "model_version": decision.version.pk if decision.version else None,
                "model": decision.model.pk if decision.model else None,
                "allowed_contexts": _json(decision.allowed_contexts),
                "lifts": decision.lifts.pk if decision.lifts else None,
                "rationale": decision.rationale, "quorum": decision.quorum,
                "state": decision.state, "proposed_by": decision.proposed_by.pk,
                "proposed_at": decision.proposed_at, "in_effect_at": decision.in_effect_at,
            })  # fmt: skip

    def _release_row(self, release: _ReleasePlan) -> Row:
        """The release as gate_refresh leaves it, with the verdict of releases.gate."""
        version = release.version
        level = self.levels.get(version.required_level, {})
        current = sum(1 for _, sha in release.approvals if sha == release.sha)
        in_effect = sorted(
            (d for d in self.decisions if d.state == "in_effect" and d.kind != "lift"
             and d.covers(release)),
            key=lambda d: d.proposed_at, reverse=True,  # as Decision's ordering
        )  # fmt: skip
        release.verdict = gate.verdict(gate.GateInput(
            state=release.state, context=release.context, required_level=version.required_level,
            level_defined=bool(level.get("defined", False)),
            approval_quorum=int(level.get("approval_quorum", 1)), current_approvals=current,
            stale_approvals=len(release.approvals) - current,
            safeguards=[gate.SafeguardFact(s["code"], s["state"])
                        for s in release.body["safeguards"]],
            decisions=[gate.DecisionFact(d.kind, "release" if d.release else
                                         "model version" if d.version else "model",
                                         frozenset(d.allowed_contexts)) for d in in_effect],
        ))  # fmt: skip
        return {
            "id": release.pk, "model_version": version.pk, "context": release.context,
            "title": release.title, "requested_by": release.requester.pk,
            "state": release.state, "created_at": release.created_at,
            "state_changed_at": release.state_changed_at,
            "required_level": version.required_level,
            "level_defined": bool(level.get("defined", False)),
            "approval_quorum": int(level.get("approval_quorum", 1)),
            "assessment_version": release.assessment_version,
            "assessment_sha256": release.sha, "assessed_at": release.assessed_at,
            "gate_allowed": release.verdict.allowed,
            "gate_reasons": _json(release.verdict.reasons), "blocked_since": None,
        }  # fmt: skip

    # -- the audit chain

    def _phase_chain(self) -> str:
        """Every event in time order after the chain's head, sign-ins and sign-outs in
        between, hashed as core.audit.record hashes them."""
        rng = self._rng("chain")
        head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, previous = head if head is not None else (0, audit.GENESIS_HASH)
        data = sorted(self._events, key=lambda e: (e.at, e.order))
        self._events = []
        filler = max(0, self.sizes.events - seq - len(data))
        start = T0 + timedelta(days=1)
        end = max(data[-1].at if data else start, start + timedelta(days=1))
        people = [person for group in self.people.values() for person in group]
        stream = heapq.merge(
            ((e.at, 0, e.order, e) for e in data), self._sessions(rng, filler, start, end, people)
        )
        last = start

        def rows() -> Iterator[tuple[Any, ...]]:
            nonlocal seq, previous, last
            for at, _, _, e in stream:
                seq += 1
                digest = audit.event_hash({
                    "seq": seq, "occurred_at": at, "actor_id": e.actor_id, "actor_label": e.actor,
                    "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
                    "object_repr": e.object_repr, "subject": e.subject, "before": e.before,
                    "after": e.after, "reason": e.reason, "request_id": e.request_id,
                    "prev_hash": previous,
                })  # fmt: skip
                yield (seq, at, e.actor_id, e.actor, e.action, e.object_type, e.object_id,
                       e.object_repr, e.subject, None if e.before is None else _json(e.before),
                       None if e.after is None else _json(e.after), e.reason, e.request_id,
                       previous, digest, e.scope)  # fmt: skip
                previous, last = digest, at

        self._touched.add(AuditEvent)
        written = insert_rows(AuditEvent, _AUDIT_COLUMNS, rows())
        self.final_at = last + timedelta(seconds=1)
        self.report.head_seq, self.report.head_hash = seq, previous
        self.report.data_events, self.report.filler_events = len(data), filler
        more = ""
        if seq > self.sizes.events:
            more = f" (more than the {self.sizes.events:,} asked for: the data needs them)"
        return (
            f"{written:,} events{more}: {len(data):,} for the data, {filler:,} sign-ins and "
            f"sign-outs; head seq {seq:,}"
        )

    def _sessions(
        self, rng: random.Random, count: int, start: datetime, end: datetime,
        people: list[_Person],
    ) -> Iterator[tuple[datetime, int, int, _Event]]:  # fmt: skip
        """``count`` sign-in and sign-out events (core.sessions) in time order, the sign-ins
        spread evenly between ``start`` and ``end``."""
        sessions = (count + 1) // 2
        gap = (end - start).total_seconds() / max(1, sessions)
        pending: list[tuple[datetime, int, _Person]] = []  # sign-outs to come
        login = start + timedelta(seconds=rng.uniform(0, gap))
        for emitted in range(count):
            if sessions and (not pending or login <= pending[0][0]):
                person = rng.choice(people)
                logout = login + timedelta(minutes=rng.uniform(10, 480))
                heapq.heappush(pending, (logout, emitted, person))
                at, action = login, "core.session.login"
                sessions -= 1
                login += timedelta(seconds=rng.uniform(0, 2 * gap))
            else:
                at, _, person = heapq.heappop(pending)
                action = "core.session.logout"
            event = _Event(at, emitted, action, person.pk, person.username, "auth.user",
                           str(person.pk), person.username, "", None, None, "",
                           self._request(rng), None)  # fmt: skip
            yield at, 1, emitted, event

    # -- checks

    def _phase_checks(self) -> str:
        """Every release through ``releases.services.gate_refresh``, a sample of model versions
        through ``evaluations.recompute.recompute``: the services must find nothing to change
        (no new audit event), and the gate's verdict must be the one seeded."""
        head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        wrong = []
        planned = {release.pk: release for release in self.releases}
        for release in Release.objects.select_related("model_version__model").order_by("pk"):
            plan = planned[release.pk]
            assert plan.verdict is not None
            gate_refresh(release, now=self.final_at)
            seeded = (plan.sha, plan.assessment_version, plan.verdict.allowed,
                      plan.verdict.reasons)  # fmt: skip
            if seeded != (release.assessment_sha256, release.assessment_version,
                          release.gate_allowed, release.gate_reasons):  # fmt: skip
                wrong.append(f"release {release.pk}")
        sample = self.versions[:: max(1, len(self.versions) // 25)]
        for version in sample:
            outcome = recompute.recompute(version.pk, now=version.assessed_at, force=True)
            if outcome.changed or outcome.required_level != version.required_level:
                wrong.append(f"model version {version.pk}")
        if AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() != head:
            wrong.append("the audit chain grew")
        if wrong:
            raise ScaleError(
                "The seeded data is not what the services compute (a bug in oversight/scale.py): "
                + ", ".join(wrong[:5])
            )
        _align_sequences(self._touched)
        return (
            f"gate_refresh left {len(planned):,} releases as seeded; recompute agreed on "
            f"{len(sample):,} model versions"
        )


def _safeguard_items(count: int, policy: int) -> list[Row]:
    prefix = _LEVEL_PREFIXES[policy % len(_LEVEL_PREFIXES)]
    items = []
    for index in range(count):
        if index < len(_SAFEGUARDS):
            code, name, family, scope, rank = _SAFEGUARDS[index]
        else:
            n = index - len(_SAFEGUARDS) + 1
            code, name, family, scope = (
                f"DEP-CONTROL-{n:02d}",
                f"Control {n}",
                "deployment",
                "release",
            )
            rank = 3
        items.append({
            "code": code, "name": name, "family": family, "scope": scope,
            "description": f"{name}, in place and working before deployment.",
            "evidence_required": f"A current record showing {name.lower()} in place.",
            "minimum_level": f"{prefix}-{rank}",
        })  # fmt: skip
    return items


def _condition(rng: random.Random, evaluation: str, metric: tuple[str, str], rank: int) -> Row:
    """A trigger condition: a higher bar for the higher level, an alert value before it."""
    name, direction = metric
    alert: float | None
    if direction == _UP:
        value = round(rng.uniform(0.45, 0.65) if rank == 3 else rng.uniform(0.72, 0.9), 2)
        comparator = ">=" if rng.random() < 0.9 else ">"
        alert = round(value - rng.choice((0.05, 0.1, 0.15)), 2)
    else:
        value = float(rng.randrange(60, 125, 5) if rank == 3 else rng.randrange(15, 50, 5))
        comparator, alert = "<=", value * 1.5
    if rng.random() < 0.2:
        alert = None
    return {"evaluation": evaluation, "metric": name, "comparator": comparator, "value": value,
            "alert_value": alert}  # fmt: skip


def _result(rng: random.Random, ability: float, metric: str, direction: str) -> ResultInput:
    if direction == _UP:
        value = round(min(1.0, max(0.0, ability + rng.gauss(0, 0.05))), 4)
        stderr = round(rng.uniform(0.005, 0.04), 4)
    else:
        value = round(max(1.0, 250 - 240 * ability + rng.gauss(0, 15)), 1)
        stderr = round(rng.uniform(1, 8), 2)
    return ResultInput(metric, value, stderr, rng.choice((50, 100, 200, 500)))


def _partial(rng: random.Random, codes: list[str], verify: bool) -> list[tuple[str, bool]]:
    """Evidence part of the way: some verified (none for a draft), then perhaps some recorded."""
    done = rng.randint(0, len(codes)) if verify else 0
    work = [(code, True) for code in codes[:done]]
    rest = codes[done:]
    if rest and rng.random() < 0.6:
        work += [(code, False) for code in rest[: rng.randint(1, len(rest))]]
    return work


def _evidence(rng: random.Random, version: _VersionPlan, code: str) -> tuple[str, str]:
    day = (version.created_at + timedelta(days=rng.randint(1, 30))).date().isoformat()
    text = f"{code} for {version.label}: reviewed on {day}, record {rng.randint(1000, 9999)}."
    link = f"https://evidence.example.org/{version.label}/{code.lower()}"
    return text, link if rng.random() < 0.5 else ""


def _scope_of(specs: list[Row], code: str) -> str:
    return next(str(spec["scope"]) for spec in specs if spec["code"] == code)


# --- what is there ----------------------------------------------------------------------------

COUNTED: tuple[tuple[str, type[models.Model]], ...] = (
    ("people", User),
    ("policies", Policy),
    ("policy versions", PolicyVersion),
    ("safety levels", SafetyLevel),
    ("risk domains", RiskDomain),
    ("thresholds", CapabilityThreshold),
    ("trigger conditions", TriggerCondition),
    ("safeguards", Safeguard),
    ("pause authorities", PauseAuthority),
    ("evaluations", Evaluation),
    ("models", Model),
    ("model object permissions", ModelUserObjectPermission),
    ("model versions", ModelVersion),
    ("evaluation runs", EvaluationRun),
    ("results", Result),
    ("determinations", Determination),
    ("releases", Release),
    ("safeguard statuses", SafeguardStatus),
    ("approvals", Approval),
    ("decisions", Decision),
    ("decision signatures", DecisionSignature),
    ("signatures", Signature),
    ("audit events", AuditEvent),
)
_UNDIGESTED = {(User, "password"), (User, "last_login")}  # a random salt; not data


def table_counts() -> dict[str, int]:
    return {label: model._default_manager.count() for label, model in COUNTED}


def content_digest() -> str:
    """SHA-256 of every seeded table's rows in id order (but password hashes) and of the audit
    chain's head: equal after equal seeds with the same signing key."""
    digest = hashlib.sha256()
    for label, model in COUNTED:
        digest.update(label.encode())
        if model is AuditEvent:
            head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
            digest.update(repr(head).encode())
            continue
        names = [f.attname for f in model._meta.concrete_fields
                 if (model, f.attname) not in _UNDIGESTED]  # fmt: skip
        rows = model._default_manager.order_by("pk").values_list(*names)
        for row in rows.iterator(chunk_size=5_000):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def seed(
    sizes: Sizes,
    *,
    seed: int = 0,
    password: str = "",
    progress: Callable[[str], None] = lambda message: None,
) -> Report:
    """Fill an empty database (see the module's docstring); all or nothing."""
    return Seeder(sizes, seed=seed, password=password, progress=progress).run()
