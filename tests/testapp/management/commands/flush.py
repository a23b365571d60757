"""``flush`` for the test suite: transactional tests empty every table between tests, and the
audit table refuses that unless the guard is bypassed for the duration."""

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand

from tests.audit_bypass import audit_guard_bypassed


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        with audit_guard_bypassed(options["database"]):
            super().handle(**options)
