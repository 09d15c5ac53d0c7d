"""The demo's first "Sync now" against a fresh sandbox finds both sides agreeing:
nothing pulled, pushed or in conflict (it read "73 pushed · 73 conflicts")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from partnerhub import demo_data
from partnerhub.accounts import demo
from partnerhub.sandbox.server import build_server
from partnerhub.sandbox.state import SandboxConfig
from unsubscribes.demo import share_with_providers
from unsubscribes.models import Channel, Unsubscribe
from unsubscribes.sync import unsubscribes_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_sandbox(settings: Any) -> Iterator[Any]:
    """A fresh sandbox as `manage.py demo` starts it (with the demo sub-accounts)."""
    settings.DEBUG = True  # the demo's derived key encrypts the sub-accounts' keys
    config = SandboxConfig(subaccounts=demo.sandbox_presets())
    server = build_server("127.0.0.1", 0, config)
    server.start_in_thread()
    settings.MAILPARTNER_API_URL = f"{server.url}/mailpartner/v1"
    settings.SMSPARTNER_API_URL = f"{server.url}/smspartner/v1"
    settings.MAILPARTNER_API_KEY = config.mail_api_key
    settings.SMSPARTNER_API_KEY = config.sms_api_key
    yield server
    server.shutdown()


def test_first_sync_after_demo_start_changes_nothing(demo_sandbox: Any) -> None:
    demo_data.ensure_demo_logins()
    demo_data.ensure_demo_data()
    synced = Unsubscribe.objects.filter(synced_at__isnull=False).count()

    assert share_with_providers() == synced > 0

    for channel in Channel.values:
        result = unsubscribes_sync(channel=channel)
        assert result.ok, result.error
        assert (result.pulled, result.pushed, result.conflicts) == (0, 0, 0)
    assert share_with_providers() == 0  # a second start adds nothing twice
