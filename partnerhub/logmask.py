"""A logging filter that masks secrets in every record, whoever logged it.

Provider keys travel in query strings (`?apiKey=`), in Voice Partner's URL path and
in `Authorization` headers; the STOP webhook's token is a path segment. Our clients
redact what they log, but third-party loggers do not: urllib3's `Retrying (...)`
warning prints the full path with the key. So the filter sits on every handler
(settings.LOGGING, plus `install_everywhere` for handlers other libraries add) and
rewrites each record's message and exception text: by shape (`apiKey=…`,
`password=…`, `Authorization: …`, key-bearing Voice paths, the webhook path) and by
value (every key, token and password configured in settings).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words

# name=value / "name": "value" for secret-looking names (query strings, JSON, repr).
_BY_NAME = re.compile(
    r"""(?ix)
    ( ["']? \b (?:apiKey|api_key|token|tokenSubaccount|password|passwd|x-password
               |secret|authorization) ["']? \s* [=:] \s* ["']?
      (?:(?:Bearer|Basic|Token)\s+)? )
    [^&\s"',;)}\]]+
    """
)
# Voice Partner puts the key in the path: /me/KEY, /audios/KEY, /campaign/cancel/KEY.
_KEY_IN_PATH = re.compile(r"(/(?:me|audios|campaign/cancel)/)[^/?#\s\"']+")
# The STOP webhook's secret is the path segment after /hooks/sms/.
_WEBHOOK_PATH = re.compile(r"(/hooks/sms/)[^/?#\s\"']+")

SECRET_SETTINGS = (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "FIELD_ENCRYPTION_OLD_KEYS",
    "MAILPARTNER_API_KEY",
    "SMSPARTNER_API_KEY",
    "VOICEPARTNER_API_KEY",
    "PECMASSIVA_TOKEN",
    "SMS_REPLY_WEBHOOK_TOKEN",
    "EMAIL_HOST_PASSWORD",
)


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with secret shapes and the given secret values replaced by `***`."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _BY_NAME.sub(lambda m: m.group(1) + MASK, text)
    text = _KEY_IN_PATH.sub(lambda m: m.group(1) + MASK, text)
    return _WEBHOOK_PATH.sub(lambda m: m.group(1) + MASK, text)


def configured_secrets() -> list[str]:
    """Every secret value in settings (and its URL-quoted form), longest first."""
    try:
        from django.conf import settings

        values = [_as_list(getattr(settings, name, "")) for name in SECRET_SETTINGS]
        values.append([_url_password(getattr(settings, "REDIS_URL", ""))])
        values.append([db.get("PASSWORD", "") for db in settings.DATABASES.values()])
    except Exception:  # settings not configured yet: shapes still apply
        return []
    found = {str(v) for group in values for v in group if v}
    found |= {quote(v, safe="") for v in found}
    return sorted(
        (v for v in found if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True
    )


def _as_list(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)] if value else []


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or "" if url else ""
    except ValueError:
        return ""


class SecretMaskingFilter(logging.Filter):
    """Rewrites a record's message and traceback text with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_secrets_masked", False):
            return True
        secrets = configured_secrets()
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler
            return True
        record.msg, record.args = mask(message, secrets), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = mask(record.stack_info, secrets)
        record._secrets_masked = True
        return True


def install_everywhere() -> None:
    """Add the filter to every handler already attached to any logger.

    django-q, gunicorn and Django's own defaults bring handlers that
    settings.LOGGING does not name; each of them gets the filter too.
    """
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, SecretMaskingFilter) for f in handler.filters):
                handler.addFilter(SecretMaskingFilter())
