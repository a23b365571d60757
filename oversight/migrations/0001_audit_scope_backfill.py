"""Fill ``AuditEvent.scope_id`` for events recorded before it existed.

``scope_id`` is an index for reading scoped to models, outside the hash, so filling it changes
no event's hash. The append-only guard is lifted for this one statement per model and
installed again in the same transaction.
"""

from collections import defaultdict

from django.db import migrations

from core import dbguard


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    if not AuditEvent.objects.filter(scope_id=None).exclude(subject="").exists():
        return
    subjects = defaultdict(list)
    for pk in apps.get_model("evaluations", "Model").objects.values_list("pk", flat=True):
        subjects[pk].append(f"evaluations.model:{pk}")
    versions = apps.get_model("evaluations", "ModelVersion").objects.values_list("pk", "model_id")
    for pk, model_id in versions:
        subjects[model_id].append(f"evaluations.modelversion:{pk}")
    releases = apps.get_model("releases", "Release").objects.values_list(
        "pk", "model_version__model_id"
    )
    for pk, model_id in releases:
        subjects[model_id].append(f"releases.release:{pk}")
    decisions = apps.get_model("releases", "Decision").objects.values_list(
        "pk", "model_id", "model_version__model_id", "release__model_version__model_id"
    )
    for pk, *candidates in decisions:
        subjects[next(c for c in candidates if c is not None)].append(f"releases.decision:{pk}")
    dbguard.uninstall_guard(dbguard.AUDIT_EVENTS)(apps, schema_editor)
    AuditEvent.objects.filter(subject__startswith="governance.", scope_id=None).update(
        scope_id=0  # core.audit.SHARED_SCOPE: the register, read by every reader
    )
    for model_id, keys in subjects.items():
        for start in range(0, len(keys), 500):
            AuditEvent.objects.filter(subject__in=keys[start : start + 500], scope_id=None).update(
                scope_id=model_id
            )
    dbguard.install_guard(dbguard.AUDIT_EVENTS)(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_audit_scope"),
        ("evaluations", "0005_import_attempts"),
        ("releases", "0004_evidence_file"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
