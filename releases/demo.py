"""Demo release for the embedded default: Orion 2.1 into the API, submitted by its owner."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from evaluations.models import ModelVersion
from releases import services
from releases.models import Release


@transaction.atomic
def seed_releases(*, owner: User) -> Release | None:
    version = ModelVersion.objects.filter(label="orion-2.1").first()
    if version is None:
        return None
    existing = Release.objects.filter(model_version=version).first()
    if existing is not None:
        return existing
    release = services.release_create(
        actor=owner, model_version=version, context="api", title="Orion 2.1 on the API"
    )
    return services.release_submit(actor=owner, release=release)
