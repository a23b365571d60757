from django.db import migrations

from core import dbguard

GUARDS = [
    dbguard.append_only(
        "evaluations_run_guard", "evaluations_evaluationrun", "evaluation runs are append-only"
    ),
    dbguard.append_only(
        "evaluations_result_guard", "evaluations_result", "results are append-only"
    ),
    dbguard.append_only(
        "evaluations_override_guard", "evaluations_override", "overrides are append-only"
    ),
    dbguard.append_only(
        "evaluations_rawfile_guard", "evaluations_rawfile", "raw files are append-only"
    ),
]


class Migration(migrations.Migration):
    """Evidence is never edited or deleted: the database refuses it."""

    dependencies = [("evaluations", "0001_initial")]

    operations = [
        migrations.RunPython(dbguard.install_guard(*GUARDS), dbguard.uninstall_guard(*GUARDS))
    ]
