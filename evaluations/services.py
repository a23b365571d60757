"""Registering models, their versions and evaluations. Results arrive through ``ingestion``."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from core import audit
from evaluations import access
from evaluations.ingestion import mark_for_recompute
from evaluations.models import Evaluation, Model, ModelVersion


@transaction.atomic
def model_create(*, actor: User, slug: str, name: str, family: str = "") -> Model:
    if not access.can_register_model(actor):
        raise PermissionDenied
    model = Model(slug=slug, name=name, family=family, owner=actor)
    model.full_clean()
    model.save()
    access.grant_owner(model)
    audit.record(
        action="evaluations.model.created",
        actor=actor,
        obj=model,
        subject=model,
        after={"slug": slug, "name": name, "family": family, "owner": actor.username},
    )
    return model


@transaction.atomic
def model_version_create(
    *, actor: User, model: Model, label: str, effective_compute: float | None = None
) -> ModelVersion:
    """A new checkpoint. With no evidence yet, nothing can be ruled out: its first assessment
    requires the highest level any threshold targets, until results arrive."""
    if not access.can_feed(actor, model):
        raise PermissionDenied
    version = ModelVersion(
        model=model, label=label, effective_compute=effective_compute, created_by=actor
    )
    version.full_clean()
    version.save()
    audit.record(
        action="evaluations.model_version.created",
        actor=actor,
        obj=version,
        subject=version,
        after={"model": model.slug, "label": label, "effective_compute": effective_compute},
    )
    mark_for_recompute([version.pk])
    return version


@transaction.atomic
def evaluation_create(
    *, actor: User, key: str, name: str, domain: str = "", harness: str = "", description: str = ""
) -> Evaluation:
    if not access.can_manage_evaluations(actor):
        raise PermissionDenied
    evaluation = Evaluation(
        key=key, name=name, domain=domain, harness=harness, description=description
    )
    evaluation.full_clean()
    evaluation.save()
    audit.record(
        action="evaluations.evaluation.created",
        actor=actor,
        obj=evaluation,
        after={"key": key, "name": name, "domain": domain, "harness": harness},
    )
    return evaluation


def model_reader_grant(*, actor: User | str, model: Model, reader: User) -> None:
    """Let ``reader`` read one model: its versions, results, releases and, for an auditor of
    named models, its history."""
    _reader_change(actor, model, reader, granted=True)


def model_reader_revoke(*, actor: User | str, model: Model, reader: User) -> None:
    _reader_change(actor, model, reader, granted=False)


@transaction.atomic
def _reader_change(actor: User | str, model: Model, reader: User, *, granted: bool) -> None:
    if not access.can_grant_readers(actor):
        raise PermissionDenied
    (access.grant_reader if granted else access.revoke_reader)(reader, model)
    audit.record(
        action=f"evaluations.model.reader_{'granted' if granted else 'revoked'}",
        actor=actor,
        obj=model,
        subject=model,
        after={"reader": reader.get_username()},
    )
