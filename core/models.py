from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One link of the audit hash chain. Written only by ``core.audit.record``.

    The database refuses UPDATE and DELETE on this table (and TRUNCATE on PostgreSQL); see
    ``core/dbguard.py``. Users are deactivated, never deleted, hence ``PROTECT``.
    """

    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    # The governed record the event is filed under, "app.model:pk" (a policy version for an
    # edit of one of its thresholds), so a record's page can show its whole history.
    subject = models.CharField(max_length=120, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Who may read the event, for reading scoped to models: the AI model (an
    # ``evaluations.Model`` pk) its subject belongs to, 0 for the commitment register that
    # every reader reads, NULL for the rest (people, tokens). An index written with the row by
    # ``core.audit.record``, not part of the hash (no foreign key: core knows no app above it).
    scope_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["scope_id", "seq"], name="audit_scope_seq"),
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_seq"),
            models.Index(fields=["actor", "seq"], name="audit_actor_seq"),
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["occurred_at"], name="audit_occurred_at"),
            models.Index(fields=["subject", "seq"], name="audit_subject_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"


class Signature(models.Model):
    """A person's signature on a manifest: canonical JSON of exactly what they saw and meant.

    Append-only (database guard, migration ``core.0004``). Verify offline with the deployment's
    public key: ``openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in manifest.json
    -sigfile signature.bin``.
    """

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=300)
    meaning = models.CharField(max_length=100)
    meaning_text = models.CharField(max_length=200)
    signed_at = models.DateTimeField()
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    manifest = models.TextField()
    manifest_sha256 = models.CharField(max_length=64, unique=True)
    signature = models.CharField(max_length=200)  # base64 of the 64-byte Ed25519 signature
    key_id = models.CharField(max_length=32)
    reauthenticated_with = models.CharField(max_length=30)

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="signature_object")]

    def __str__(self) -> str:
        return f"{self.printed_name}: {self.meaning_text}"


class ApiToken(models.Model):
    """A machine credential acting as its person. Only a SHA-256 of the secret is stored; the
    secret is shown once, when the token is made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)  # shown in lists so a person can tell tokens apart
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditCheckpoint(models.Model):
    """A signed statement of the audit chain's head: "event ``seq`` had hash ``head_hash`` at
    ``created_at``". Written only by ``core.checkpoints.checkpoint_create``.

    ``manifest`` is the exact signed text (canonical JSON of the type, seq, head hash and
    time); ``signature`` is base64 of its Ed25519 signature by the deployment key ``key_id``.
    Append-only (database guard, migration ``core.0008``). Verify offline like a
    ``Signature``: ``openssl pkeyutl -verify -pubin -inkey public.pem -rawin -in manifest.json
    -sigfile signature.bin``.
    """

    seq = models.BigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    manifest = models.TextField()
    signature = models.CharField(max_length=200)
    key_id = models.CharField(max_length=32)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"checkpoint {self.pk} at seq {self.seq}"


class ResetRequest(models.Model):
    """A password-reset e-mail asked for, counted to throttle them (``core.throttle``): by the
    address asked about and by the client's address, each kept only as a SHA-256 ``key``.
    Rows older than a day are deleted as new ones arrive."""

    key = models.CharField(max_length=64)
    requested_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["key", "requested_at"], name="core_reset_key_time")]

    def __str__(self) -> str:
        return f"reset request {self.pk}"


class Counter(models.Model):
    """A named counter, bumped in the transaction of a change that other apps cache against
    (``core.counters``): a cache records the value it was built at and is stale once it moved."""

    name = models.CharField(primary_key=True, max_length=50)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
