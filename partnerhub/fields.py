"""An encrypted text field for secrets at rest (sub-account keys, mailbox passwords).

Fernet with `FIELD_ENCRYPTION_KEY`; previous keys listed in
`FIELD_ENCRYPTION_OLD_KEYS` still decrypt (MultiFernet), so a key can be rotated:
put the new key first, the old one in the list, run `manage.py reencrypt_secrets`,
then drop the old key. Only in development (DEBUG on) and without a key is one
derived from SECRET_KEY, so the demo works; with DEBUG off an empty key is an error
(and a `check --deploy` error), never a silent fallback that a SECRET_KEY rotation
would turn into unreadable secrets. Values are never shown back in forms or lists:
only their presence is.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.functions import Cast

PREFIX = "fernet:"


@cache
def _fernet(keys: tuple[str, ...], secret_key: str, debug: bool) -> MultiFernet:
    keys = tuple(key for key in keys if key)
    if not keys and not debug:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be set when DEBUG is off."
        )
    if not keys:
        digest = hashlib.sha256(("partnerhub-fields:" + secret_key).encode()).digest()
        return MultiFernet([Fernet(base64.urlsafe_b64encode(digest))])
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY (or an old key) is not a Fernet key."
        ) from exc


def fernet() -> MultiFernet:
    """Encrypts with the current key, decrypts with the current or an old one."""
    keys = (settings.FIELD_ENCRYPTION_KEY, *_old_keys())
    return _fernet(keys, settings.SECRET_KEY, bool(settings.DEBUG))


def _old_keys() -> tuple[str, ...]:
    old = getattr(settings, "FIELD_ENCRYPTION_OLD_KEYS", ()) or ()
    if isinstance(old, str):
        old = old.split(",")
    return tuple(key.strip() for key in old)


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
                "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY changed? "
                "Put the previous key in FIELD_ENCRYPTION_OLD_KEYS."
            ) from exc


def encrypted_fields() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) stored with `EncryptedTextField`, in every app."""
    return [
        (model, field.attname)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


@transaction.atomic
def reencrypt_all() -> int:
    """Re-encrypt every stored secret with the current key; returns how many.

    Raw tokens are rotated with `MultiFernet.rotate` (decrypt with any configured
    key, encrypt with the first), so plain text never leaves this function.
    """
    multi = fernet()
    done = 0
    for model, name in encrypted_fields():
        # Cast to plain text: the column as stored, without `from_db_value`.
        raw = model._default_manager.annotate(raw=Cast(name, models.TextField()))
        for pk, value in raw.values_list("pk", "raw").iterator():
            if not value or not value.startswith(PREFIX):
                continue
            try:
                token = multi.rotate(value[len(PREFIX) :].encode()).decode()
            except InvalidToken as exc:
                raise ImproperlyConfigured(
                    f"{model._meta.label} #{pk}: no configured key decrypts it."
                ) from exc
            model._default_manager.filter(pk=pk).update(**{name: PREFIX + token})
            done += 1
    return done
