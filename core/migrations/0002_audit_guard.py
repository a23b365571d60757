from django.db import migrations

from core import dbguard


class Migration(migrations.Migration):
    """The database refuses UPDATE / DELETE (and TRUNCATE on PostgreSQL) of audit events."""

    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            dbguard.install_guard(dbguard.AUDIT_EVENTS),
            dbguard.uninstall_guard(dbguard.AUDIT_EVENTS),
        )
    ]
