from django.db import migrations

from core import dbguard

GUARDS = [
    dbguard.append_only(
        "releases_approval_guard", "releases_approval", "approvals are append-only"
    ),
    dbguard.append_only(
        "releases_decisionsignature_guard",
        "releases_decisionsignature",
        "decision signatures are append-only",
    ),
]


class Migration(migrations.Migration):
    """Approvals and decision signatures are never edited or deleted: the database refuses it."""

    dependencies = [("releases", "0001_initial")]

    operations = [
        migrations.RunPython(dbguard.install_guard(*GUARDS), dbguard.uninstall_guard(*GUARDS))
    ]
