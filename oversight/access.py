"""Who reads the history, and how much of it.

An auditor with the global right to read models reads the whole chain. An auditor whose right
to read models is granted per model (``evaluations.model_reader_grant``) is *scoped*: they read
the events filed under those models (their versions, releases and decisions) and the
commitment register, which every signed-in person reads anyway; nothing about people, tokens
or other models.
"""

from __future__ import annotations

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast

from core import access
from core.access import AnyUser
from core.models import AuditEvent, Signature
from evaluations import access as evaluation_access

AUDIT = "core.view_auditevent"
AUDIT_RULE = access.permission_rule(AUDIT)
# Kinds of object every reader of the history may see: the commitment register.
REGISTER_PREFIX = "governance."


def model_scope(user: AnyUser) -> list[int] | None:
    """None for a reader of every model, else the pks of the models ``user`` may read."""
    if access.has_perm(user, evaluation_access.VIEW):
        return None
    return list(evaluation_access.visible_models(user).values_list("pk", flat=True))


def visible_events(user: AnyUser) -> QuerySet[AuditEvent]:
    if not access.has_perm(user, AUDIT):
        return AuditEvent.objects.none()
    scope = model_scope(user)
    if scope is None:
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(
        Q(scope_id__in=scope) | Q(scope_id=None, object_type__startswith=REGISTER_PREFIX)
    )


def visible_signatures(user: AnyUser) -> QuerySet[Signature]:
    """Signatures whose recording event the user may read."""
    recorded = (
        visible_events(user)
        .filter(action="core.signature.created")
        .annotate(signature_id=Cast("object_id", BigIntegerField()))
    )
    return Signature.objects.filter(pk__in=recorded.values("signature_id"))
