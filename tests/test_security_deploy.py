"""Production refuses the demo defaults (issue #17.2).

`check --deploy` fails (errors, not warnings) on an empty FIELD_ENCRYPTION_KEY, sandbox
URLs, `demo-` keys and the demo webhook token; DEBUG is off by default; the proxy
header is trusted only with BEHIND_PROXY; `demo` refuses to run with DEBUG off; stored
secrets survive a key rotation with `reencrypt_secrets`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from partnerhub import fields
from partnerhub.models import Provider, ProviderAccount
from tests.test_settings import PRODUCTION_PROVIDERS

ROOT = Path(__file__).resolve().parent.parent
SECRET = "k3y-" + "x9Qz!" * 12
PROBE = (
    "import json, django; from django.conf import settings as s; django.setup();"
    "print(json.dumps({'debug': s.DEBUG,"
    " 'proxy': getattr(s, 'SECURE_PROXY_SSL_HEADER', None)}))"
)


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """`argv` in a fresh interpreter with only these PartnerHub variables set."""
    dropped = ("DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not k.endswith(("_KEY", "_TOKEN", "_API_URL"))
    }
    clean |= {"DJANGO_SETTINGS_MODULE": "partnerhub.settings", **env}
    return subprocess.run(
        [sys.executable, *argv],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def check_deploy(**env: str) -> str:
    base = {"DEBUG": "0", "SECRET_KEY": SECRET, "ALLOWED_HOSTS": "ph.example.fr"}
    out = run(["manage.py", "check", "--deploy"], **(base | env))
    return f"rc={out.returncode}\n{out.stdout}{out.stderr}"


def test_debug_is_off_by_default() -> None:
    out = run(["-c", PROBE], SECRET_KEY=SECRET)
    assert out.returncode == 0, out.stderr
    assert '"debug": false' in out.stdout


def test_check_deploy_fails_on_the_demo_defaults() -> None:
    report = check_deploy()
    assert report.startswith("rc=1"), report
    for code in ("partnerhub.E001", "partnerhub.E002", "partnerhub.E003"):
        assert code in report, report
    assert "FIELD_ENCRYPTION_KEY is empty" in report
    assert "MAILPARTNER_API_URL points at the provider sandbox" in report
    assert "VOICEPARTNER_API_KEY is a sandbox demo key" in report


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("FIELD_ENCRYPTION_KEY", "", "partnerhub.E001"),
        ("SMSPARTNER_API_URL", "http://127.0.0.1:8099/sms/v1", "partnerhub.E002"),
        ("PECMASSIVA_TOKEN", "demo-pecmassiva-token", "partnerhub.E003"),
        ("SMS_REPLY_WEBHOOK_TOKEN", "demo-sms-reply-token", "partnerhub.E004"),
    ],
)
def test_each_demo_default_alone_fails_check_deploy(name, value, code) -> None:
    report = check_deploy(**(PRODUCTION_PROVIDERS | {name: value}))
    assert report.startswith("rc=1"), report
    assert code in report


def test_the_proxy_header_is_trusted_only_behind_a_proxy() -> None:
    alone = run(["-c", PROBE], DEBUG="0", SECRET_KEY=SECRET)
    behind = run(["-c", PROBE], DEBUG="0", SECRET_KEY=SECRET, BEHIND_PROXY="1")
    assert '"proxy": null' in alone.stdout, alone.stderr
    assert '"proxy": ["HTTP_X_FORWARDED_PROTO", "https"]' in behind.stdout


def test_demo_refuses_to_run_with_debug_off(tmp_path) -> None:
    db = tmp_path / "prod.sqlite3"
    out = run(
        ["manage.py", "demo", "--setup-only"],
        DEBUG="0",
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite:///{db}",
        **PRODUCTION_PROVIDERS,
    )
    assert out.returncode != 0
    assert "only with DEBUG=1" in out.stderr
    assert not db.exists() or db.stat().st_size == 0  # nothing was migrated


def test_no_silent_key_derivation_when_debug_is_off(settings) -> None:
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY must be set"):
        fields.fernet()


def _raw_key_column(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encrypted_api_key FROM partnerhub_provideraccount WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_key_rotation_keeps_secrets_readable_and_reencrypts(settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    main = ProviderAccount.objects.create(provider=Provider.MAIL, name="Main")
    sub = ProviderAccount.objects.create(
        provider=Provider.MAIL, name="Shop", parent=main, encrypted_api_key="sub-key-1"
    )
    settings.FIELD_ENCRYPTION_KEY = new
    settings.FIELD_ENCRYPTION_OLD_KEYS = [old]
    assert ProviderAccount.objects.get(pk=sub.pk).encrypted_api_key == "sub-key-1"

    call_command("reencrypt_secrets", stdout=open(os.devnull, "w"))  # noqa: SIM115

    token = _raw_key_column(sub.pk).removeprefix(fields.PREFIX)
    assert Fernet(new.encode()).decrypt(token.encode()) == b"sub-key-1"
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    assert ProviderAccount.objects.get(pk=sub.pk).encrypted_api_key == "sub-key-1"
