"""Releases and the gate: requests, safeguard evidence, approvals and decisions.

Approvals, decisions and their signatures are append-only rows; the release row carries the
cached assessment that approvals are bound to (``assessment_sha256``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from evaluations.models import Model, ModelVersion
from releases import workflow


class Release(models.Model):
    class Context(models.TextChoices):
        INTERNAL = "internal", "Internal"
        TRUSTED_TESTERS = "trusted_testers", "Trusted testers"
        GENERAL = "general_availability", "General availability"
        API = "api", "API"
        OPEN_WEIGHTS = "open_weights", "Open weights"

    class State(models.TextChoices):
        DRAFT = workflow.DRAFT, "Draft"
        SUBMITTED = workflow.SUBMITTED, "Submitted"
        APPROVED = workflow.APPROVED, "Approved"
        DEPLOYED = workflow.DEPLOYED, "Deployed"
        WITHDRAWN = workflow.WITHDRAWN, "Withdrawn"

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="releases"
    )
    context = models.CharField(max_length=30, choices=Context.choices)
    title = models.CharField(max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    state_changed_at = models.DateTimeField(auto_now_add=True)
    # The cached assessment (written only by the gate service): approvals sign its hash.
    required_level = models.CharField(max_length=30, blank=True)
    level_defined = models.BooleanField(default=False)
    approval_quorum = models.PositiveSmallIntegerField(default=1)
    assessment_version = models.PositiveIntegerField(default=0)
    assessment_sha256 = models.CharField(max_length=64, blank=True)
    assessed_at = models.DateTimeField(null=True, blank=True)
    gate_allowed = models.BooleanField(default=False)
    gate_reasons = models.JSONField(default=list)
    blocked_since = models.DateTimeField(null=True, blank=True)
    # Until when the cached verdict holds (evidence going stale, an approver's authority
    # ending); None when time alone cannot change it.
    gate_valid_until = models.DateTimeField(null=True, blank=True)
    # The model version's ``assessment_seq`` this verdict was built from: a recompute bumps
    # the version's in its own transaction, so a gate behind it is known to be due a refresh
    # even if the refresh that follows the commit never runs. Such a gate is never served.
    assessed_seq = models.PositiveBigIntegerField(default=0)
    # ``core.counters.PEOPLE`` when the verdict was built: a person activated, renamed or given
    # or stripped of a role since may count, or no longer count, as an approver.
    people_epoch = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.model_version.label} → {self.get_context_display()}"

    @property
    def gate_messages(self) -> list[str]:
        return [reason["message"] for reason in self.gate_reasons]

    @property
    def gate_codes(self) -> list[str]:
        return [reason["code"] for reason in self.gate_reasons]


class SafeguardStatus(models.Model):
    """One safeguard's state for a model version (security family, shared by its releases) or
    for one release (deployment family). The verifier is never the implementer."""

    class State(models.TextChoices):
        MISSING = "missing", "Missing"
        IN_PROGRESS = "in_progress", "In progress"
        IMPLEMENTED = "implemented", "Implemented"
        VERIFIED = "verified", "Verified"

    code = models.CharField(max_length=30)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="safeguards"
    )
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.PROTECT, related_name="safeguards"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.MISSING)
    evidence_text = models.TextField(blank=True)
    evidence_link = models.URLField(blank=True, max_length=500)
    evidence_file = models.FileField(upload_to="evidence/", blank=True)
    evidence_file_name = models.CharField(max_length=200, blank=True)
    evidence_file_type = models.CharField(max_length=100, blank=True)
    evidence_file_size = models.PositiveBigIntegerField(null=True, blank=True)
    evidence_file_sha256 = models.CharField(max_length=64, blank=True)
    # Of the description, link and file hash together (releases.evidence.evidence_sha256).
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    implemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    implemented_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        permissions = [("verify_safeguard", "Can verify safeguard evidence")]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "code"],
                condition=Q(release=None),
                name="one_status_per_version_safeguard",
            ),
            models.UniqueConstraint(
                fields=["release", "code"],
                condition=~Q(release=None),
                name="one_status_per_release_safeguard",
            ),
            models.CheckConstraint(
                condition=~Q(verified_by=F("implemented_by")), name="verifier_is_not_implementer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.state}"


class Approval(models.Model):
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")
    assessment_version = models.PositiveIntegerField()
    assessment_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # Each approver counts once per assessment.
            models.UniqueConstraint(
                fields=["release", "approver", "assessment_version"],
                name="one_approval_per_approver_and_assessment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver} approves {self.release}"


class Decision(models.Model):
    class Kind(models.TextChoices):
        PAUSE = "pause", "Pause"
        RESTRICT = "restrict", "Restrict"
        LIFT = "lift", "Lift"

    class State(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        IN_EFFECT = "in_effect", "In effect"
        LIFTED = "lifted", "Lifted"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model = models.ForeignKey(
        Model, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    allowed_contexts = models.JSONField(default=list, blank=True)
    lifts = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rationale = models.TextField()
    quorum = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    in_effect_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(release__isnull=False, model_version=None, model=None)
                | Q(release=None, model_version__isnull=False, model=None)
                | Q(release=None, model_version=None, model__isnull=False),
                name="decision_has_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"


class DecisionSignature(models.Model):
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "signer"], name="one_signature_per_signer"),
        ]

    def __str__(self) -> str:
        return f"{self.signer} signs {self.decision}"


def model_id_of(obj: Release | Decision) -> int:
    """The pk of the AI model a release or a decision concerns."""
    if isinstance(obj, Decision):
        if obj.model_id is not None:
            return obj.model_id
        if obj.model_version_id is not None:
            return ModelVersion.objects.values_list("model_id", flat=True).get(
                pk=obj.model_version_id
            )
        assert obj.release is not None  # nosec B101  # exactly one scope (a constraint)
        obj = obj.release
    return obj.model_version.model_id
