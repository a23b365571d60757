"""Who may see and feed which models.

Product owners see and feed only their own models (object permissions granted when they
register a model); governance leads, authorities and auditors read every model (a global
permission of their role). Feeding (versions, results, imports) is never global.
"""

from __future__ import annotations

from django.db.models import QuerySet

from core import access
from core.access import AnyUser
from evaluations.models import ImportJob, Model, ModelVersion

VIEW = "evaluations.view_model"
FEED = "evaluations.feed_model"
REGISTER = "evaluations.add_model"
MANAGE_EVALUATIONS = "evaluations.add_evaluation"

READ_RULE = access.SIGNED_IN  # pages list what the person may see; objects outside are 404
REGISTER_RULE = access.permission_rule(REGISTER)
MANAGE_EVALUATIONS_RULE = access.permission_rule(MANAGE_EVALUATIONS)


def visible_models(user: AnyUser) -> QuerySet[Model]:
    return access.visible(user, VIEW, Model.objects.all())


def visible_versions(user: AnyUser) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(model__in=visible_models(user))


def feedable_versions(user: AnyUser) -> QuerySet[ModelVersion]:
    feedable = access.visible(user, FEED, Model.objects.all(), accept_global=False)
    return ModelVersion.objects.filter(model__in=feedable)


def can_view(user: AnyUser, model: Model) -> bool:
    return access.has_object_perm(user, VIEW, model)


def can_feed(user: AnyUser, model: Model) -> bool:
    return access.has_object_perm(user, FEED, model, accept_global=False)


def can_register_model(user: AnyUser) -> bool:
    return access.has_perm(user, REGISTER)


def can_manage_evaluations(user: AnyUser) -> bool:
    return access.has_perm(user, MANAGE_EVALUATIONS)


def can_see_import(user: AnyUser, job: ImportJob) -> bool:
    return access.is_active_user(user) and (job.requested_by_id == user.pk or user.is_superuser)


def can_grant_readers(actor: AnyUser | str) -> bool:
    """Who lets a person read a model: an administrator, or the operator's command line
    (``system:…``)."""
    return isinstance(actor, str) or (access.is_active_user(actor) and actor.is_superuser)


def grant_reader(user: AnyUser, model: Model) -> None:
    access.grant(user, VIEW, model)  # type: ignore[arg-type]


def revoke_reader(user: AnyUser, model: Model) -> None:
    access.revoke(user, VIEW, model)  # type: ignore[arg-type]


def grant_owner(model: Model) -> None:
    access.grant(model.owner, VIEW, model)
    access.grant(model.owner, FEED, model)
