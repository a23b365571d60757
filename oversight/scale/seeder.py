"""The whole seed: the phases in order, the audit chain, the checks, and ``seed``."""

from __future__ import annotations

import hashlib
import heapq
import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from core import audit
from core.models import AuditEvent, Signature
from evaluations import recompute
from evaluations.models import (
    Determination,
    Evaluation,
    EvaluationRun,
    Model,
    ModelUserObjectPermission,
    ModelVersion,
    Result,
)
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
from oversight.scale.common import (
    _AUDIT_COLUMNS,
    T0,
    ScaleError,
    Sizes,
    _align_sequences,
    _json,
    insert_rows,
)
from oversight.scale.plans import (
    Report,
    _Event,
    _Person,
    refuse_unless_empty,
)
from oversight.scale.releases import _Releases
from releases.models import Approval, Decision, DecisionSignature, Release, SafeguardStatus
from releases.services import gate_refresh


class Seeder(_Releases):
    """Plans and writes the data; ``run`` does it all in one transaction."""

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
        """Every release through ``releases.services.gate_refresh`` at the seed's last moment, a
        sample of model versions through ``evaluations.recompute.recompute``: the services must
        find nothing to change (no new audit event), and the gate's verdict must be the one
        seeded. No evidence may have gone stale by then: the recompute sweep would have
        reassessed its version. The recomputes are rolled back, being forced: a reassessment
        counts (``assessment_seq``) and would leave the gates behind, which the data is not."""
        stale = [v.label for v in self.versions
                 if v.valid_until is not None and v.valid_until <= self.final_at]  # fmt: skip
        if stale:
            raise ScaleError(
                f"The evidence of {len(stale):,} model versions ({', '.join(stale[:3])}) goes "
                f"stale before the seed's last moment ({self.final_at.isoformat()}): seed fewer "
                "releases per model version"
            )
        head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        wrong = []
        planned = {release.pk: release for release in self.releases}
        for release in Release.objects.select_related("model_version__model").order_by("pk"):
            plan = planned[release.pk]
            assert plan.verdict is not None  # nosec B101  # type narrowing: every plan has one
            gate_refresh(release, now=self.final_at)
            seeded = (plan.sha, plan.assessment_version, plan.state, plan.verdict.allowed,
                      [reason.as_dict() for reason in plan.verdict.reasons],
                      plan.verdict.valid_until, plan.version.assessment_seq, 0)  # fmt: skip
            if seeded != (release.assessment_sha256, release.assessment_version, release.state,
                          release.gate_allowed, release.gate_reasons, release.gate_valid_until,
                          release.assessed_seq, release.people_epoch):  # fmt: skip
                wrong.append(f"release {release.pk}")
        sample = self.versions[:: max(1, len(self.versions) // 25)]
        try:
            with transaction.atomic():
                for version in sample:
                    outcome = recompute.recompute(version.pk, now=version.assessed_at, force=True)
                    if outcome.changed or outcome.required_level != version.required_level:
                        wrong.append(f"model version {version.pk}")
                raise _Undone
        except _Undone:
            pass
        if AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() != head:
            wrong.append("the audit chain grew")
        if wrong:
            raise ScaleError(
                "The seeded data is not what the services compute (a bug in oversight/scale): "
                + ", ".join(wrong[:5])
            )
        _align_sequences(self._touched)
        return (
            f"gate_refresh left {len(planned):,} releases as seeded; recompute agreed on "
            f"{len(sample):,} model versions"
        )


class _Undone(Exception):
    """Rolls back what the checks wrote."""


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
