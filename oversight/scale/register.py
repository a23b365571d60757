"""The register phase: policies, versions, thresholds, safeguards; evaluations and models."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from django.contrib.auth.models import Permission
from django.utils.text import slugify

from core import audit, roles
from core.models import Signature
from evaluations.models import (
    Evaluation,
    Model,
    ModelUserObjectPermission,
    ModelVersion,
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
from oversight.scale.base import _Base
from oversight.scale.common import (
    _DOMAINS,
    _LEVEL_NAMES,
    _LEVEL_PREFIXES,
    _LEVEL_QUORUMS,
    _POLICY_NAMES,
    _STARS,
    SIGNING_QUORUM,
    T0,
    Row,
    ScaleError,
    _json,
    _share,
)
from oversight.scale.plans import (
    _condition,
    _ModelPlan,
    _Person,
    _safeguard_items,
    _VersionPlan,
)


class _Register(_Base):
    """The register, the evaluations and the models."""

    def _phase_register(self) -> str:
        """Each policy: version 1, then version 2, which keeps version 1's thresholds and
        safeguards and adds more (one version when there are too few). Versions are published
        one policy after another, each superseding the one in force (whichever policy it
        belongs to: exactly one version governs); the last one governs."""
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
        in_force: PolicyVersion | None = None
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
                    signers=rng.sample(leads, SIGNING_QUORUM), previous=in_force,
                )  # fmt: skip
                policy_of[index], in_force = version.policy, version
                written.update(versions=1, thresholds=n_thresholds, safeguards=n_safeguards)
        governing = PolicyVersion.objects.governing()
        assert governing is not None  # nosec B101  # seeding runs after publishing
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
        publishes it and supersedes ``previous`` (the version in force, of any policy)."""
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
        # Re-evaluation intervals longer than the months seeded: no run goes stale before the
        # seed's last moment (the services would reassess its version then; the checks see).
        self._insert(PolicyVersion, [{
            "id": version_pk, "policy": policy.pk, "number": number, "label": label,
            "state": "draft",
            "changelog": f"{len(thresholds)} thresholds and {len(safeguards)} safeguards.",
            "reevaluation_interval_days": 365 if index % 3 else 730, "baseline_level": None,
            "signing_quorum": SIGNING_QUORUM, "separation_waiver": "", "based_on": None,
            "created_by": lead.pk, "created_at": at, "effective_from": None,
            "published_at": None, "content_sha256": "", "superseded_at": None,
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
        supersedes = None
        if previous is not None:
            supersedes = f"{previous.policy.slug}:{previous.number}"
            PolicyVersion.objects.filter(pk=previous.pk).update(
                state=PolicyVersion.State.SUPERSEDED, superseded_at=signed_at
            )
            self._event(signed_at, "governance.policy_version.superseded", signer,
                        obj=("governance.policyversion", previous.pk, str(previous)),
                        subject=f"governance.policyversion:{previous.pk}",
                        before={"state": "published"},
                        after={"state": "superseded",
                               "superseded_by": f"{policy.slug}:{number}"},
                        request_id=request, scope=shared)  # fmt: skip
        PolicyVersion.objects.filter(pk=version_pk).update(
            state=PolicyVersion.State.PUBLISHED, published_at=signed_at,
            effective_from=signed_at.date(), content_sha256=digest,
        )  # fmt: skip
        self._event(signed_at, "governance.policy_version.published", signer, obj=me,
                    subject=subject, before={"state": "draft"},
                    after={"state": "published", "effective_from": signed_at.date().isoformat(),
                           "content_sha256": digest, "supersedes": supersedes, "content": data},
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
