from typing import Any

from django.db import migrations

from governance.guards import COLUMNS_0002, guards


def install(apps: Any, schema_editor: Any) -> None:
    from core.dbguard import install_guard

    install_guard(*guards(schema_editor.connection.vendor, COLUMNS_0002))(apps, schema_editor)


def uninstall(apps: Any, schema_editor: Any) -> None:
    from core.dbguard import uninstall_guard

    uninstall_guard(*guards(schema_editor.connection.vendor, COLUMNS_0002))(apps, schema_editor)


class Migration(migrations.Migration):
    """The database refuses changes to a policy version, and to its rows, once published."""

    dependencies = [("governance", "0001_initial"), ("core", "0002_audit_guard")]

    operations = [migrations.RunPython(install, uninstall)]
