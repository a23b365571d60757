from django.db import migrations, models
from django.db.models import F


def reassess(apps, schema_editor):
    """Every model version is assessed again, so each determination gets its valid_until."""
    apps.get_model("evaluations", "ModelVersion").objects.update(
        needs_recompute=True, evidence_watermark=F("evidence_watermark") + 1
    )


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0005_import_attempts"),
        ("governance", "0005_one_governing_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="determination",
            name="valid_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="modelversion",
            name="assessment_seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="determination",
            index=models.Index(
                condition=models.Q(("valid_until__isnull", False)),
                fields=["valid_until"],
                name="goes_stale",
            ),
        ),
        migrations.RunPython(reassess, migrations.RunPython.noop),
    ]
