"""The plan of the seeded world: people, models, versions, releases, decisions, events."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

from core import roles
from core.models import AuditEvent, Signature
from evaluations.ingestion import ResultInput
from evaluations.models import (
    Evaluation,
    Model,
)
from governance.models import (
    Policy,
)
from oversight.scale.common import (
    _CONTEXT_LABELS,
    _LEVEL_PREFIXES,
    _SAFEGUARDS,
    _UP,
    HANDFUL,
    T0,
    Row,
    ScaleError,
    Sizes,
)
from releases import gate
from releases.models import Decision, Release


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
    assessment_seq: int = 1  # one recompute, after its last run
    valid_until: datetime | None = None  # when the first outcome needing current runs lapses
    determinations: list[Row] = field(default_factory=list)  # as an assessment lists them
    evidence: list[list[str]] = field(default_factory=list)  # [run id, fingerprint], sorted
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
        assert self.model is not None  # nosec B101  # a decision has exactly one scope
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
