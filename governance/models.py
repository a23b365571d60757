"""The commitment register: policies, their versions, and what each version commits to.

Only drafts change. Once a version is published its rows are frozen: the services refuse, and
database guards (migration ``governance.0002``) refuse too. A change is a new version.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from governance.validation import CODE, MAX_INTERVAL_DAYS, SLUG, alert_on_wrong_side

slug_validator = RegexValidator(SLUG, "Use lower-case letters, digits and single hyphens.")
code_validator = RegexValidator(
    CODE, "Use letters, digits, dots, dashes and underscores, starting with a letter or digit."
)


class Policy(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name


class PolicyVersionQuerySet(models.QuerySet["PolicyVersion"]):
    def governing(self) -> PolicyVersion | None:
        """The one version every model is assessed under: the register may hold several
        policies, but exactly one version is in force at a time (a constraint), and publishing
        any version supersedes it. ``integrity_alarm`` says whether its content was found not
        to match what was signed (read in the same query)."""
        from core import counters

        alarms = IntegrityAlarm.objects.filter(version=models.OuterRef("pk"), cleared_at=None)
        return (
            self.filter(state=PolicyVersion.State.PUBLISHED)
            .annotate(
                integrity_alarm=models.Exists(alarms),
                # who may act as of this read (core.counters.PEOPLE), for caches built on it
                people_epoch=counters.current(counters.PEOPLE),
            )
            .select_related("policy")
            .order_by("-published_at", "-pk")
            .first()
        )


class PolicyVersion(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "In force"
        SUPERSEDED = "superseded", "Superseded"

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=50)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    changelog = models.TextField(blank=True)
    reevaluation_interval_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_DAYS)]
    )
    baseline_level = models.ForeignKey(
        "SafetyLevel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signing_quorum = models.PositiveSmallIntegerField(default=1)
    # Set only with a reason: lets the people who overrode a release's determinations or
    # verified its safeguards count toward its approval quorum (otherwise they do not).
    separation_waiver = models.TextField(blank=True)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the signing quorum is reached:
    effective_from = models.DateField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["policy", "-number"]
        permissions = [
            ("edit_register", "Can edit draft policy versions"),
            ("publish_policyversion", "Can sign policy versions to publish them"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="policy_version_number"),
            # Exactly one version governs, whichever policy it belongs to.
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="published"), name="one_version_in_force"
            ),
            models.UniqueConstraint(
                fields=["policy"], condition=Q(state="draft"), name="one_open_draft"
            ),
            models.CheckConstraint(condition=Q(signing_quorum__gte=1), name="signing_quorum_min"),
            models.CheckConstraint(
                condition=Q(reevaluation_interval_days__gte=1), name="reevaluation_interval_min"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} v{self.number} ({self.label})"

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    def clean(self) -> None:
        level = self.baseline_level
        if level is not None and level.version_id != self.pk:
            raise ValidationError({"baseline_level": "Choose a level of this version."})


class VersionItem(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class SafetyLevel(VersionItem):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="levels")
    rank = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=30, validators=[code_validator])
    name = models.CharField(max_length=100)
    capability_bar = models.TextField(blank=True)
    defined = models.BooleanField(
        default=True, help_text="Off: to be specified before a threshold requiring it is crossed."
    )
    approval_quorum = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="level_code"),
            models.UniqueConstraint(fields=["version", "rank"], name="level_rank"),
            models.CheckConstraint(condition=Q(approval_quorum__gte=1), name="approval_quorum_min"),
        ]

    def __str__(self) -> str:
        return self.code


class RiskDomain(VersionItem):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="domains")
    code = models.CharField(max_length=30, validators=[code_validator])
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="domain_code")]

    def __str__(self) -> str:
        return self.code


class CapabilityThreshold(VersionItem):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="thresholds")
    domain = models.ForeignKey(RiskDomain, on_delete=models.PROTECT, related_name="thresholds")
    code = models.CharField(max_length=30, validators=[code_validator])
    description = models.TextField(blank=True)
    required_level = models.ForeignKey(
        SafetyLevel, on_delete=models.PROTECT, related_name="thresholds"
    )

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="threshold_code")]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        errors = {}
        if self.domain_id and self.domain.version_id != self.version_id:
            errors["domain"] = "Choose a domain of this version."
        if self.required_level_id and self.required_level.version_id != self.version_id:
            errors["required_level"] = "Choose a level of this version."
        if errors:
            raise ValidationError(errors)


class TriggerCondition(models.Model):
    class Comparator(models.TextChoices):
        GTE = ">=", ">="
        GT = ">", ">"
        LTE = "<=", "<="
        LT = "<", "<"

    threshold = models.ForeignKey(
        CapabilityThreshold, on_delete=models.CASCADE, related_name="conditions"
    )
    evaluation_key = models.CharField(max_length=100)
    metric_key = models.CharField(max_length=100)
    comparator = models.CharField(max_length=2, choices=Comparator.choices, default=">=")
    value = models.FloatField()
    alert_value = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.evaluation_key}/{self.metric_key} {self.comparator} {self.value:g}"

    def clean(self) -> None:
        if self.value is None or self.comparator is None:
            return
        problem = alert_on_wrong_side(self.comparator, self.value, self.alert_value)
        if problem:
            raise ValidationError({"alert_value": problem[0].upper() + problem[1:] + "."})


class Safeguard(VersionItem):
    class Family(models.TextChoices):
        SECURITY = "security", "Security"
        DEPLOYMENT = "deployment", "Deployment"
        GOVERNANCE = "governance", "Governance"

    class Scope(models.TextChoices):
        MODEL_VERSION = "model_version", "Model version (shared by its releases)"
        RELEASE = "release", "Each release"

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="safeguards")
    code = models.CharField(max_length=30, validators=[code_validator])
    name = models.CharField(max_length=150)
    family = models.CharField(max_length=20, choices=Family.choices)
    scope = models.CharField(max_length=20, choices=Scope.choices)
    description = models.TextField(blank=True)
    evidence_required = models.TextField(blank=True)
    minimum_level = models.ForeignKey(
        SafetyLevel, on_delete=models.PROTECT, related_name="safeguards"
    )

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="safeguard_code")]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if self.minimum_level_id and self.minimum_level.version_id != self.version_id:
            raise ValidationError({"minimum_level": "Choose a level of this version."})


class PauseAuthority(VersionItem):
    class Power(models.TextChoices):
        PAUSE = "pause", "Pause"
        RESTRICT = "restrict", "Restrict"
        LIFT = "lift", "Lift"
        APPROVE = "approve", "Approve releases"

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="authorities")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    all_models = models.BooleanField(default=True)
    model_slugs = models.JSONField(default=list, blank=True)
    powers = models.JSONField(default=list)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["user__username"]
        verbose_name_plural = "pause authorities"
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="authority_user")]

    def __str__(self) -> str:
        return f"{self.user} ({', '.join(self.powers)})"

    def covers(self, model_slug: str, on: date) -> bool:
        """Valid on ``on`` and in scope for the model."""
        valid = self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)
        return valid and (self.all_models or model_slug in self.model_slugs)

    def clean(self) -> None:
        errors = {}
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = "Valid until cannot be before valid from."
        unknown = set(self.powers or []) - set(self.Power.values)
        if not self.powers or unknown:
            errors["powers"] = "Choose at least one of pause, restrict, lift and approve."
        if not self.all_models and not self.model_slugs:
            errors["model_slugs"] = "Name the models in scope, or choose all models."
        if errors:
            raise ValidationError(errors)


class IntegrityAlarm(models.Model):
    """A published version whose stored content was found not to match what was signed
    (``governance.integrity``). While one is open on the version in force, every gate denies."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    problems = models.JSONField(default=list)
    raised_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"integrity alarm on {self.version_id}"
