"""No provider key, token or password reaches a log line, even at DEBUG (issue #17.1).

A fresh interpreter loads the real settings with `LOG_LEVEL=DEBUG`, calls the
providers through sandbox faults (connection resets, 500s) so urllib3 retries and
warns, posts a malformed body to the STOP webhook, and its whole output is searched
for every configured secret.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from partnerhub.logmask import MASK, SecretMaskingFilter

ROOT = Path(__file__).resolve().parent.parent
SUB_ACCOUNT_KEY = "subaccount-Key-7f3b9c1d"
WEBHOOK_TOKEN = "hook-Token-5e8a2b7c9d"
SCRIPT = f"""
import logging, types, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from partnerhub.providers import errors, factory

sub = types.SimpleNamespace(api_key={SUB_ACCOUNT_KEY!r})
calls = [
    lambda: factory.get_mailpartner_client().unsubscribe_list(),
    lambda: factory.get_mailpartner_client(sub).me(),
    lambda: factory.get_smspartner_client().me(),
    lambda: factory.get_smspartner_client().stop_list(),
    lambda: factory.get_voicepartner_client().me(),
    lambda: factory.get_voicepartner_client(sub).audios(),
]
for call in calls:
    try:
        call()
    except errors.ProviderError as exc:
        logging.getLogger("partnerhub.test").warning("provider error: %s", exc)
setup_test_environment()
Client().post("/unsubscribes/hooks/sms/{WEBHOOK_TOKEN}/", "{{", "application/json")
logging.getLogger("partnerhub.test").error("done")
"""


def test_no_configured_secret_in_debug_logs_through_faults(sandbox) -> None:
    sandbox.set_faults(
        [
            {"provider": "mail", "fault": "reset", "count": 5},
            {"provider": "voice", "fault": "reset", "count": 3},
            {"provider": "sms", "fault": "http_500", "count": 2},
        ]
    )
    secrets = {
        "MAILPARTNER_API_KEY": sandbox.mail_api_key,
        "SMSPARTNER_API_KEY": sandbox.sms_api_key,
        "VOICEPARTNER_API_KEY": sandbox.voice_api_key,
        "PECMASSIVA_TOKEN": sandbox.pec_token,
        "SMS_REPLY_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "SECRET_KEY": "s3cret-Key-" + "q7W!" * 10,
        "FIELD_ENCRYPTION_KEY": "r0Wp5m0VJkB7hQq9yN3v8cX2zL6tD1aE4sF0gH5jK8w=",
    }
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_KEY", "_TOKEN"))}
    env |= secrets | {
        "DJANGO_SETTINGS_MODULE": "partnerhub.settings",
        "LOG_LEVEL": "DEBUG",
        "DEBUG": "1",
        "MAILPARTNER_API_URL": sandbox.mail_url,
        "SMSPARTNER_API_URL": sandbox.sms_url,
        "VOICEPARTNER_API_URL": sandbox.voice_url,
        "PECMASSIVA_API_URL": sandbox.pec_url,
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = out.stdout + out.stderr
    assert out.returncode == 0, output
    assert "Retrying" in output  # the faults did reach urllib3's retry warning
    assert "done" in output
    for name, secret in {**secrets, "sub-account key": SUB_ACCOUNT_KEY}.items():
        assert secret not in output, f"{name} appears in the logs:\n{output}"
    assert "urllib3.connectionpool DEBUG" not in output  # quiet below WARNING


def _masked(message: str, *args: object) -> str:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, message, args, None)
    SecretMaskingFilter().filter(record)
    return record.getMessage()


def test_the_filter_masks_key_shapes_it_was_not_told_about() -> None:
    text = _masked(
        "GET %s; %s; %s",
        "/v1/me?apiKey=abc123&_format=json",
        "headers {'Authorization': 'Bearer tok-999'}",
        "password=hunter2 /voicepartner/v1/me/voicekey42",
    )
    for secret in ("abc123", "tok-999", "hunter2", "voicekey42"):
        assert secret not in text
    assert f"apiKey={MASK}&_format=json" in text


def test_the_filter_masks_the_webhook_token_path() -> None:
    text = _masked('"POST /unsubscribes/hooks/sms/%s/ HTTP/1.1" 400', "anytoken")
    assert "anytoken" not in text
    assert f"/unsubscribes/hooks/sms/{MASK}/" in text


def test_the_filter_masks_exception_text() -> None:
    try:
        raise ValueError("failed https://x/v1/me?apiKey=exc-secret-1")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info()
        )
    SecretMaskingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "exc-secret-1" not in formatted
    assert "ValueError" in formatted
