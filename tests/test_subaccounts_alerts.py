"""Low-credit alerts: one email per crossing below the threshold, re-armed above it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from partnerhub.accounts import alerts
from partnerhub.accounts.services import record_balance
from partnerhub.models import ProviderAccount
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(db: None) -> ProviderAccount:
    UserFactory(username="boss", groups=["Admins"])
    UserFactory(username="marketer", groups=["Marketing"])
    main = ProviderAccount.objects.create(provider="sms", name="Main")
    return ProviderAccount.objects.create(
        provider="sms",
        name="Lyon",
        parent=main,
        low_credit_threshold=Decimal("10"),
    )


def test_emailed_exactly_once_per_crossing(account: ProviderAccount) -> None:
    for value in ("50", "9", "8", "7.5", "12", "11", "3", "2"):
        record_balance(account, Decimal(value), "EUR")
    assert len(mail.outbox) == 2  # 50→9 crosses down, 12→3 crosses down again
    first = mail.outbox[0]
    assert first.to == ["boss@example.fr"]  # Admins only, not Marketing
    assert "Lyon" in first.subject and "9" in first.body and "€" in first.body
    account.refresh_from_db()
    assert account.low_credit_alerted


def test_no_threshold_means_no_alert(account: ProviderAccount) -> None:
    ProviderAccount.objects.filter(pk=account.pk).update(low_credit_threshold=0)
    account.refresh_from_db()
    record_balance(account, Decimal("0"), "EUR")
    assert not mail.outbox and not alerts.is_low(account)


def test_hourly_refresh_below_sends_nothing_more(
    account: ProviderAccount, sandbox_settings: Any
) -> None:
    record_balance(account, Decimal("1"), "EUR")
    assert alerts.low_credit_check(account=account) is False
    assert len(mail.outbox) == 1
