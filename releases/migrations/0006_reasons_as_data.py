from django.db import migrations


def pending(apps, schema_editor):
    """Verdicts cached as text become a denial pending a refresh, as data: every model version
    is reassessed (evaluations 0006), and the next read or sweep refreshes each gate."""
    apps.get_model("releases", "Release").objects.update(
        gate_allowed=False,
        gate_reasons=[
            {
                "code": "assessment_pending",
                "message": "the verdict is being recomputed",
                "subject": "model_version",
            }
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("releases", "0005_gate_freshness"), ("evaluations", "0006_freshness")]

    operations = [migrations.RunPython(pending, migrations.RunPython.noop)]
