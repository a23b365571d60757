"""Who reads the history, and how much of it.

An auditor with the global right to read models reads the whole chain. An auditor whose right
to read models is granted per model (``evaluations.model_reader_grant``) is *scoped*: they read
the events filed under those models (their versions, releases and decisions) and the
commitment register, which every signed-in person reads anyway; nothing about people, tokens
or other models.
"""

from __future__ import annotations

from django.db.models import BigIntegerField, QuerySet
from django.db.models.functions import Cast

from core import access, audit
from core.access import AnyUser
from core.models import AuditEvent, Signature
from evaluations import access as evaluation_access

AUDIT = "core.view_auditevent"
AUDIT_RULE = access.permission_rule(AUDIT)


def model_scope(user: AnyUser) -> list[int] | None:
    """None for a reader of every model, else the pks of the models ``user`` may read."""
    if access.has_perm(user, evaluation_access.VIEW):
        return None
    return list(evaluation_access.visible_models(user).values_list("pk", flat=True))


def scopes(user: AnyUser) -> list[int] | None:
    """The audit scopes ``user`` reads: None for all of them, else the register's and those
    of their models (``AuditEvent.scope_id``); [] for someone who may not read the history."""
    if not access.has_perm(user, AUDIT):
        return []
    models = model_scope(user)
    return None if models is None else [audit.SHARED_SCOPE, *models]


def visible_events(user: AnyUser) -> QuerySet[AuditEvent]:
    readable = scopes(user)
    if readable is None:
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(scope_id__in=readable)


def visible_signatures(user: AnyUser) -> QuerySet[Signature]:
    """Signatures whose recording event the user may read."""
    recorded = (
        visible_events(user)
        .filter(action="core.signature.created")
        .annotate(signature_id=Cast("object_id", BigIntegerField()))
    )
    return Signature.objects.filter(pk__in=recorded.values("signature_id"))


def can_read_decision(user: AnyUser, model_id: int) -> bool:
    """A decision is read by those who read the model it concerns."""
    return evaluation_access.visible_models(user).filter(pk=model_id).exists()
