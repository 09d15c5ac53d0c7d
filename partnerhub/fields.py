"""An encrypted text field for secrets at rest (sub-account keys, mailbox passwords).

Fernet with `FIELD_ENCRYPTION_KEY`; in development, without a key, one is derived from
SECRET_KEY so the demo works, and production settings should always set a real key.
Values are never shown back in forms or lists: only their presence is.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@cache
def _fernet(key: str, secret_key: str) -> Fernet:
    if key:
        try:
            return Fernet(key.encode())
        except ValueError as exc:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY is not a Fernet key."
            ) from exc
    digest = hashlib.sha256(("partnerhub-fields:" + secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def fernet() -> Fernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


class EncryptedTextField(models.TextField):
    """Stores `fernet:<token>`; reads back the plain text."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, "") or str(value).startswith(PREFIX):
            return value
        return PREFIX + fernet().encrypt(str(value).encode()).decode()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value or not str(value).startswith(PREFIX):
            return value
        try:
            return fernet().decrypt(value[len(PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise ImproperlyConfigured(
                "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY changed?"
            ) from exc
