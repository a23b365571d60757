from django.db import migrations

from core import dbguard

SIGNATURES = dbguard.append_only(
    "core_signature_guard", "core_signature", "signatures are append-only"
)


class Migration(migrations.Migration):
    """The database refuses UPDATE / DELETE (and TRUNCATE on PostgreSQL) of signatures."""

    dependencies = [("core", "0003_signature")]

    operations = [
        migrations.RunPython(dbguard.install_guard(SIGNATURES), dbguard.uninstall_guard(SIGNATURES))
    ]
