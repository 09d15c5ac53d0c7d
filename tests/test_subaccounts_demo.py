"""Demo: a few sub-accounts, two weeks of snapshots, the same ones at the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from partnerhub.accounts import demo, services
from partnerhub.models import CreditMove, CreditSnapshot, ProviderAccount
from partnerhub.sandbox.server import build_server
from partnerhub.sandbox.state import SandboxConfig

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_sandbox(settings: Any) -> Iterator[Any]:
    config = SandboxConfig(subaccounts=demo.sandbox_presets())
    server = build_server("127.0.0.1", 0, config)
    server.start_in_thread()
    settings.MAILPARTNER_API_URL = f"{server.url}/mailpartner/v1"
    settings.SMSPARTNER_API_URL = f"{server.url}/smspartner/v1"
    settings.MAILPARTNER_API_KEY = config.mail_api_key
    settings.SMSPARTNER_API_KEY = config.sms_api_key
    yield server
    server.shutdown()


def test_seed_is_idempotent_and_charts_have_two_weeks() -> None:
    demo.seed()
    demo.seed()
    subs = ProviderAccount.objects.filter(parent__isnull=False)
    assert subs.count() == len(demo.DEMO_SUBACCOUNTS)
    assert all(s.can_call_provider and s.api_key_last4 for s in subs)
    oldest = CreditSnapshot.objects.order_by("taken_at").first()
    assert oldest is not None
    assert timezone.now() - oldest.taken_at >= timedelta(days=13)
    assert CreditMove.objects.count() == 2 * len(demo.DEMO_SUBACCOUNTS)


def test_demo_subaccounts_exist_at_the_demo_sandbox(demo_sandbox: Any) -> None:
    demo.seed()
    for main in ProviderAccount.objects.filter(
        parent=None, provider__in=["mail", "sms"]
    ):
        result = services.subaccounts_sync(parent=main)
        assert result.added == 0 and result.deactivated == 0
    lyon = ProviderAccount.objects.get(provider_token="demo-sms-lyon")
    services.subaccount_credit_add(account=lyon, amount="1", actor=None)
    lyon.refresh_from_db()
    assert str(lyon.credits) == "185.350"
