"""What the models can do: models, their versions, evaluation runs and results, and the
determinations and required level that follow from them under the policy in force.

Runs and results are never edited or deleted: a flawed run is invalidated by a signed act
(``RunInvalidation``), and a determination is overridden by a signed ``Override``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.access import GroupObjectPermissionBase, UserObjectPermissionBase
from governance.models import PolicyVersion, code_validator, slug_validator


class Model(models.Model):
    slug = models.SlugField(max_length=60, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    family = models.CharField(max_length=100, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("feed_model", "Can register versions and bring in results")]

    def __str__(self) -> str:
        return self.name


class ModelVersion(models.Model):
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(max_length=100, unique=True, validators=[code_validator])
    effective_compute = models.FloatField(
        null=True, blank=True, help_text="Training compute in FLOP (informational)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The cached assessment, written only by the recompute service.
    required_level = models.CharField(max_length=30, blank=True)
    required_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    assessed_policy = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    # Every new input (a run, an override, an invalidation, stale evidence) bumps the evidence
    # watermark and sets the mark; a recompute records the watermark it saw and clears the mark.
    needs_recompute = models.BooleanField(default=True)
    evidence_watermark = models.PositiveBigIntegerField(default=1)
    assessed_watermark = models.PositiveBigIntegerField(default=0)
    # Bumped by every recompute that reassessed the version, in its transaction: a release
    # whose gate was built from an older one is due a refresh (releases records which it saw).
    assessment_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["model", "created_at"]
        indexes = [
            models.Index(
                fields=["needs_recompute"], condition=Q(needs_recompute=True), name="to_recompute"
            )
        ]

    def __str__(self) -> str:
        return self.label


class Evaluation(models.Model):
    key = models.CharField(max_length=100, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=30, blank=True, help_text="e.g. CBRN, CYBER, AIRD")
    harness = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class RawFile(models.Model):
    """An uploaded log, kept byte for byte; the same bytes are stored once."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    name = models.CharField(max_length=255)
    file = models.FileField(upload_to="raw/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"


class EvaluationRun(models.Model):
    class Status(models.TextChoices):
        SUCCESS = "success", "Success"
        ERROR = "error", "Error"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        API = "api", "API"
        INSPECT = "inspect", "Inspect AI log"
        LM_EVAL = "lm-eval", "lm-evaluation-harness results"
        CSV = "csv", "CSV"
        MANUAL = "manual", "Manual"

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="runs")
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="runs")
    # A harness's own id, unique per model version: owners cannot collide with, or probe, each
    # other's run ids.
    run_id = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices)
    harness = models.CharField(max_length=50, blank=True)
    harness_version = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    raw_file = models.ForeignKey(
        RawFile, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    # SHA-256 of the canonical run as submitted: an identical replay matches it exactly.
    fingerprint = models.CharField(max_length=64)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["model_version", "evaluation"], name="run_version_eval")]
        constraints = [
            models.UniqueConstraint(fields=["model_version", "run_id"], name="run_id_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.evaluation.key} on {self.model_version.label} ({self.run_id})"


class Result(models.Model):
    run = models.ForeignKey(EvaluationRun, on_delete=models.PROTECT, related_name="results")
    metric = models.CharField(max_length=100)
    value = models.FloatField()
    stderr = models.FloatField(null=True, blank=True)
    samples = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["metric"]
        constraints = [models.UniqueConstraint(fields=["run", "metric"], name="result_metric")]

    def __str__(self) -> str:
        return f"{self.metric}={self.value}"


class Determination(models.Model):
    """The current determination of one threshold for one model version (recompute writes it)."""

    class Outcome(models.TextChoices):
        CROSSED = "crossed", "Crossed"
        ALERT = "alert", "Alert"
        RULED_OUT = "ruled_out", "Ruled out"
        CANNOT_RULE_OUT = "cannot_rule_out", "Cannot rule out"

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="determinations"
    )
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    threshold = models.CharField(max_length=30)
    level = models.CharField(max_length=30)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    computed_outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.TextField()
    deciding_run = models.ForeignKey(
        EvaluationRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deciding_metric = models.CharField(max_length=100, blank=True)
    deciding_value = models.FloatField(null=True, blank=True)
    override = models.ForeignKey(
        "Override", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    evidence = models.JSONField(default=list)  # run ids considered
    # A ruled-out or alert outcome holds until the oldest run it rests on goes stale; None
    # for outcomes time cannot improve (crossed, cannot rule out).
    valid_until = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "threshold"], name="one_determination_per_threshold"
            )
        ]
        indexes = [
            models.Index(
                fields=["valid_until"], condition=Q(valid_until__isnull=False), name="goes_stale"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_version} {self.threshold}: {self.outcome}"


class Override(models.Model):
    """A signed human determination of one threshold, bound to the evidence it considered:
    it lapses as soon as the set of runs for that threshold's evaluations changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="overrides"
    )
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    threshold = models.CharField(max_length=30)
    outcome = models.CharField(max_length=20, choices=Determination.Outcome.choices)
    rationale = models.TextField()
    considered_runs = models.JSONField(default=list)
    signature = models.OneToOneField("core.Signature", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.model_version} {self.threshold} → {self.outcome}"


class ImportJob(models.Model):
    """A file import in progress. The upload waits under ``pending_name`` until the worker has
    parsed it; only then does it become a ``RawFile`` with runs (or the job fails, storing
    nothing but this record of why)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    pending_name = models.CharField(max_length=255, blank=True)
    model_version_label = models.CharField(max_length=100, blank=True)
    raw_file = models.ForeignKey(
        RawFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    detected_format = models.CharField(max_length=30, blank=True)
    errors = models.JSONField(default=list)
    runs_created = models.JSONField(default=list)
    runs_replayed = models.JSONField(default=list)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.id} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)


class ModelUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Model, on_delete=models.CASCADE)


class ModelGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Model, on_delete=models.CASCADE)
