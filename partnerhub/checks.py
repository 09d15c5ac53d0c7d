"""Deploy checks: `manage.py check --deploy` fails on demo defaults (issue #17.2).

Production must not run on the sandbox, on `demo-` keys, on the public demo webhook
token, or without its own FIELD_ENCRYPTION_KEY. These are errors, not warnings, so a
deploy script running `check --deploy` stops.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

DEMO_PREFIX = "demo-"
DEMO_WEBHOOK_TOKEN = "demo-sms-reply-token"  # noqa: S105 - the public demo value
MIN_WEBHOOK_TOKEN = 24
PROVIDERS = {
    "MAILPARTNER_API_URL": "MAILPARTNER_API_KEY",
    "SMSPARTNER_API_URL": "SMSPARTNER_API_KEY",
    "VOICEPARTNER_API_URL": "VOICEPARTNER_API_KEY",
    "PECMASSIVA_API_URL": "PECMASSIVA_TOKEN",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}  # noqa: S104


@register(Tags.security, deploy=True)
def production_secrets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Errors for an empty encryption key and a demo webhook token."""
    found: list[CheckMessage] = []
    if not getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        found.append(
            Error(
                "FIELD_ENCRYPTION_KEY is empty.",
                hint='Generate one with `python -c "from cryptography.fernet import '
                'Fernet; print(Fernet.generate_key().decode())"` and keep it safe: '
                "stored provider keys cannot be read without it.",
                id="partnerhub.E001",
            )
        )
    token = getattr(settings, "SMS_REPLY_WEBHOOK_TOKEN", "") or ""
    if token.startswith(DEMO_PREFIX):
        found.append(
            Error(
                "SMS_REPLY_WEBHOOK_TOKEN is the public demo token.",
                hint="Set a long random value (or empty to turn the webhook off).",
                id="partnerhub.E004",
            )
        )
    elif token and len(token) < MIN_WEBHOOK_TOKEN:
        found.append(
            Warning(
                f"SMS_REPLY_WEBHOOK_TOKEN is shorter than {MIN_WEBHOOK_TOKEN} "
                "characters.",
                hint="Anyone who guesses it can post STOP replies.",
                id="partnerhub.W001",
            )
        )
    return found


@register(Tags.security, deploy=True)
def production_providers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Errors for provider URLs on the sandbox and `demo-` keys."""
    found: list[CheckMessage] = []
    for url_name, key_name in PROVIDERS.items():
        url = str(getattr(settings, url_name, ""))
        if _is_sandbox(url):
            found.append(
                Error(
                    f"{url_name} points at the provider sandbox ({url}).",
                    hint="Set the provider's real API URL.",
                    id="partnerhub.E002",
                )
            )
        if str(getattr(settings, key_name, "")).startswith(DEMO_PREFIX):
            found.append(
                Error(
                    f"{key_name} is a sandbox demo key.",
                    hint="Set the provider account's real key.",
                    id="partnerhub.E003",
                )
            )
    if getattr(settings, "PARTNERHUB_SANDBOX", False):
        found.append(
            Error(
                "PARTNERHUB_SANDBOX is on.",
                hint="Set PARTNERHUB_SANDBOX=0 in production.",
                id="partnerhub.E005",
            )
        )
    return found


def _is_sandbox(url: str) -> bool:
    parts = urlsplit(url)
    sandbox = f"{settings.SANDBOX_HOST}:{settings.SANDBOX_PORT}"
    return parts.netloc == sandbox or (parts.hostname or "") in LOOPBACK
