"""Demo sub-accounts and five weeks of credit history, so the charts are not empty.

The same sub-accounts (tokens, keys, balances) are handed to the sandbox by
`manage.py partner_sandbox` when it runs with the demo keys, so a sync or a credit
move on them works at the sandbox exactly as on a real provider.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from partnerhub.models import CreditMove, CreditSnapshot, ProviderAccount
from partnerhub.services import accounts_ensure_main

HISTORY_DAYS = 35  # the campaign history (campaigns/demo) spans five weeks too
STEP_HOURS = 6
DEMO_SUBACCOUNTS: tuple[dict[str, Any], ...] = (
    {
        "provider": "sms",
        "name": "Agence Lyon",
        "email": "lyon@agences.partnerhub.test",
        "token": "demo-sms-lyon",
        "api_key": "demo-smspartner-sub-lyon-7Q2c",
        "credit": "184.350",
        "threshold": "50",
        "type": "simple",
    },
    {
        "provider": "sms",
        "name": "Agence Marseille",
        "email": "marseille@agences.partnerhub.test",
        "token": "demo-sms-marseille",
        "api_key": "demo-smspartner-sub-marseille-9Kd4",
        "credit": "32.100",
        "threshold": "40",
        "type": "advanced",
    },
    {
        "provider": "mail",
        "name": "Boutique Paris",
        "email": "paris@boutiques.partnerhub.test",
        "token": "demo-mail-paris",
        "api_key": "demo-mailpartner-sub-paris-3Xw8",
        "credit": "95.000",
        "threshold": "20",
        "type": "simple",
    },
)
# Where each main account's history ends: what the sandbox starts with.
MAIN_END = {
    "mail": Decimal("1000000"),
    "sms": Decimal("50000"),
    "voice": Decimal("5000"),
}
MAIN_UNIT = {"mail": "emails", "sms": "EUR", "voice": "EUR"}


def sandbox_presets() -> list[dict[str, Any]]:
    """What `partner_sandbox` gives the sandbox (`SandboxConfig.subaccounts`)."""
    keys = ("provider", "email", "token", "api_key", "credit", "type")
    return [{k: sub[k] for k in keys} for sub in DEMO_SUBACCOUNTS]


@transaction.atomic
def seed() -> None:
    """Idempotent: accounts are matched by token; history is added only once."""
    mains = {a.provider: a for a in accounts_ensure_main()}
    admin = get_user_model().objects.filter(username="admin").first()
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for main in mains.values():
        if not main.snapshots.exists():
            _history(main, MAIN_END[main.provider], MAIN_UNIT[main.provider], now)
    for spec in DEMO_SUBACCOUNTS:
        if ProviderAccount.objects.filter(provider_token=spec["token"]).exists():
            continue
        sub = ProviderAccount.objects.create(
            provider=spec["provider"],
            parent=mains[spec["provider"]],
            name=spec["name"],
            email=spec["email"],
            provider_token=spec["token"],
            encrypted_api_key=spec["api_key"],
            api_key_last4=spec["api_key"][-4:],
            subaccount_type=spec["type"],
            low_credit_threshold=Decimal(spec["threshold"]),
        )
        _history(sub, Decimal(spec["credit"]), "EUR", now)
        _moves(sub, Decimal(spec["credit"]), admin, now)


def _history(account: ProviderAccount, end: Decimal, unit: str, now: Any) -> None:
    """A balance slowly spent by campaigns, topped up once, ending at `end`."""
    steps = HISTORY_DAYS * 24 // STEP_HOURS
    rows = []
    for i in range(steps + 1):
        left = steps - i  # steps before now
        spent = Decimal(left) * end * Decimal("0.004")
        wave = Decimal(str(round(math.sin(i / 5) * float(end) * 0.01, 3)))
        topped = end * Decimal("0.3") if left > steps // 2 else Decimal(0)
        value = max(end + spent + wave - topped, Decimal(0)).quantize(Decimal("0.001"))
        if left == 0:
            value = end
        rows.append(
            CreditSnapshot(
                account=account,
                taken_at=now - timedelta(hours=STEP_HOURS * left),
                credits=value,
            )
        )
    CreditSnapshot.objects.bulk_create(rows)
    ProviderAccount.objects.filter(pk=account.pk).update(
        credits=end, credits_unit=unit, credits_checked_at=now
    )


def _moves(sub: ProviderAccount, end: Decimal, admin: Any, now: Any) -> None:
    """Its creation five weeks ago and a top-up half-way, as the audit shows them."""
    created = CreditMove.objects.create(
        account=sub,
        kind=CreditMove.Kind.CREATE,
        amount=Decimal("100"),
        actor=admin,
        provider_answer=f"code 200 · token {sub.provider_token} (demo)",
    )
    added = CreditMove.objects.create(
        account=sub,
        kind=CreditMove.Kind.ADD,
        amount=(end * Decimal("0.3")).quantize(Decimal("0.01")),
        actor=admin,
        provider_answer="code 200 (demo)",
    )
    CreditMove.objects.filter(pk=created.pk).update(
        created_at=now - timedelta(days=HISTORY_DAYS, hours=-1)
    )
    CreditMove.objects.filter(pk=added.pk).update(
        created_at=now - timedelta(days=HISTORY_DAYS // 2)
    )
