"""`manage.py reencrypt_secrets`: re-encrypt stored secrets with the current key.

The last step of a key rotation (README, Security): FIELD_ENCRYPTION_KEY holds the
new key, FIELD_ENCRYPTION_OLD_KEYS the old one; after this command the old key can
be removed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from partnerhub import fields


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with FIELD_ENCRYPTION_KEY (key rotation)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = fields.reencrypt_all()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{count} stored secret(s) re-encrypted with the current key."
        )
