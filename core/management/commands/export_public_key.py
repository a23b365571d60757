from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core import keys


class Command(BaseCommand):
    help = "Print the deployment's Ed25519 public key (PEM) that verifies its signatures."

    def handle(self, *args: Any, **options: Any) -> None:
        key = keys.signing_key()
        self.stderr.write(f"key id {key.key_id}")
        self.stdout.write(key.public_pem(), ending="")
