"""The seeder's state and the helpers every phase uses; the people."""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.db import models
from django.db.models import Max

from core import keys, roles
from core.canonical import canonical_json
from core.signing import Meaning, Reauthentication, build_manifest
from governance.models import (
    PolicyVersion,
)
from oversight.scale.common import (
    _EVALUATIONS,
    _FIRST,
    _LAST,
    _ROLES,
    ACTOR,
    REAUTH_METHOD,
    T0,
    Row,
    ScaleError,
    Sizes,
    insert_rows,
)
from oversight.scale.plans import (
    Report,
    _DecisionPlan,
    _EvalSpec,
    _Event,
    _ModelPlan,
    _Person,
    _ReleasePlan,
    _VersionPlan,
)


class _Base:
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
        return random.Random(f"seed_scale:{self.seed}:{phase}")  # noqa: S311  # nosec B311

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
