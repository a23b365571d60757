from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from core import dbguard, roles, schema, sessions, taskcontext  # noqa: F401 (schema)

        connection_created.connect(dbguard.register_sqlite_function, weak=False)
        # Roles are data: after every migrate the groups hold exactly the declared permissions.
        post_migrate.connect(roles.sync_after_migrate, weak=False)
        taskcontext.connect()
        sessions.connect()
