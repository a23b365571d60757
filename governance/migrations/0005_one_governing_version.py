import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from governance.guards import guards


def one_in_force(apps, schema_editor):
    """Exactly one version governs: the most recently published stays in force, any other
    published version is superseded (the change the guard lets a published version make)."""
    version = apps.get_model("governance", "PolicyVersion")
    published = list(version.objects.filter(state="published").order_by("-published_at", "-pk"))
    for row in published[1:]:
        row.state, row.superseded_at = "superseded", timezone.now()
        row.save(update_fields=["state", "superseded_at"])


def drop_guards(apps, schema_editor):
    # SQLite rebuilds the versions table for these changes, which the item guards' triggers
    # (that read it) refuse; they are installed again at the end.
    from core.dbguard import uninstall_guard

    uninstall_guard(*guards(schema_editor.connection.vendor))(apps, schema_editor)


def install_guards(apps, schema_editor):
    # The version guard now also freezes separation_waiver.
    from core.dbguard import install_guard

    install_guard(*guards(schema_editor.connection.vendor))(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0004_validators"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(one_in_force, migrations.RunPython.noop),
        migrations.RunPython(drop_guards, migrations.RunPython.noop),
        migrations.CreateModel(
            name="IntegrityAlarm",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("problems", models.JSONField(default=list)),
                ("raised_at", models.DateTimeField(auto_now_add=True)),
                ("cleared_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["-raised_at"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="policyversion",
            name="one_version_in_force",
        ),
        migrations.AddField(
            model_name="policyversion",
            name="separation_waiver",
            field=models.TextField(blank=True),
        ),
        migrations.AddConstraint(
            model_name="policyversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("state", "published")),
                fields=("state",),
                name="one_version_in_force",
            ),
        ),
        migrations.AddField(
            model_name="integrityalarm",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="governance.policyversion",
            ),
        ),
        migrations.RunPython(install_guards, migrations.RunPython.noop),
    ]
