"""Settings come from the environment: database, broker, production mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings as s; django.setup();"
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'],"
    " 'name': str(s.DATABASES['default']['NAME']), 'q': {k: str(v) for k, v in"
    " s.Q_CLUSTER.items()}, 'debug': s.DEBUG, 'tz': s.TIME_ZONE,"
    " 'lang': s.LANGUAGE_CODE, 'mail': s.MAILPARTNER_API_URL}))"
)


# What production sets besides DEBUG/SECRET_KEY/ALLOWED_HOSTS (check --deploy, #17).
PRODUCTION_PROVIDERS = {
    "FIELD_ENCRYPTION_KEY": "r0Wp5m0VJkB7hQq9yN3v8cX2zL6tD1aE4sF0gH5jK8w=",
    "MAILPARTNER_API_URL": "https://api.mailpartner.fr/v1",
    "MAILPARTNER_API_KEY": "live-mail-0123456789",
    "SMSPARTNER_API_URL": "https://api.smspartner.fr/v1",
    "SMSPARTNER_API_KEY": "live-sms-0123456789",
    "VOICEPARTNER_API_URL": "https://api.voicepartner.fr/v1",
    "VOICEPARTNER_API_KEY": "live-voice-0123456789",
    "PECMASSIVA_API_URL": "https://ws.pecmassiva.com",
    "PECMASSIVA_TOKEN": "live-pec-0123456789",
    "SMS_REPLY_WEBHOOK_TOKEN": "Zq8-" + "w3Rt" * 8,
}


def settings_with(**env: str) -> dict:
    """Load the settings in a fresh interpreter with exactly these variables set."""
    names = ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    clean = {k: v for k, v in os.environ.items() if k not in names}
    # The development defaults unless the test says otherwise (production is DEBUG=0).
    clean |= {"DJANGO_SETTINGS_MODULE": "partnerhub.settings", "DEBUG": "1", **env}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_defaults_are_sqlite_orm_broker_and_sandbox_urls() -> None:
    loaded = settings_with()
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"].endswith("var/partnerhub.sqlite3")
    assert loaded["q"]["orm"] == "default"
    assert "redis" not in loaded["q"]
    assert loaded["mail"].startswith("http://127.0.0.1:")
    assert (loaded["tz"], loaded["lang"]) == ("Europe/Paris", "fr")


def test_database_url_switches_to_postgresql() -> None:
    loaded = settings_with(DATABASE_URL="postgres://u@db.example:5432/phub")
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "phub"


def test_redis_url_switches_the_task_broker() -> None:
    loaded = settings_with(REDIS_URL="redis://127.0.0.1:6379/3")
    assert loaded["q"]["redis"] == "redis://127.0.0.1:6379/3"
    assert "orm" not in loaded["q"]


def test_task_retry_exceeds_timeout_and_attempts_are_bounded() -> None:
    q = settings_with()["q"]
    assert int(q["retry"]) > int(q["timeout"])
    assert int(q["max_attempts"]) > 0
    assert q["catch_up"] == "False"


def test_production_refuses_to_start_without_secret_key() -> None:
    clean = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    clean |= {"DJANGO_SETTINGS_MODULE": "partnerhub.settings", "DEBUG": "0"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_production_settings_pass_check_deploy_without_warning() -> None:
    dev_only = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dev_only}
    env |= {
        "DEBUG": "0",
        "SECRET_KEY": "k3y-" + "x9Qz!" * 12,
        "ALLOWED_HOSTS": "partnerhub.example.fr",
        **PRODUCTION_PROVIDERS,
    }
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="runs in the Redis pass")
def test_tasks_travel_through_the_configured_redis_broker() -> None:
    from django_q.brokers import get_broker
    from django_q.brokers.redis_broker import Redis

    broker = get_broker("partnerhub-test-broker")
    assert isinstance(broker, Redis)
    broker.purge_queue()
    broker.enqueue("payload")
    task = broker.dequeue()
    assert task and task[0][1] == b"payload"
    broker.acknowledge(task[0][0])
