"""Provider accounts: make sure main accounts exist, refresh and record credits."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .models import Provider, ProviderAccount
from .providers import factory

MAIN_NAMES = {
    Provider.MAIL: _("Main Mail Partner account"),
    Provider.SMS: _("Main SMS Partner account"),
    Provider.VOICE: _("Main Voice Partner account"),
}


def accounts_ensure_main() -> list[ProviderAccount]:
    """One main account per messaging provider (their keys come from settings)."""
    accounts = []
    for provider, name in MAIN_NAMES.items():
        account, _created = ProviderAccount.objects.get_or_create(
            provider=provider, parent=None, defaults={"name": str(name)}
        )
        accounts.append(account)
    return accounts


def _read_credits(account: ProviderAccount) -> tuple[Decimal | None, str]:
    """(credits, unit) from `/me`, in the unit campaigns are priced in."""
    if account.provider == Provider.MAIL:
        me = factory.get_mailpartner_client(account).me()
        value = me.credit_mail if me.credit_mail is not None else me.balance
        return (Decimal(value) if value is not None else None), "emails"
    if account.provider == Provider.SMS:
        sms = factory.get_smspartner_client(account).me()
        return sms.balance, sms.currency or "EUR"
    voice = factory.get_voicepartner_client(account).me()
    return voice.credit, voice.currency or "EUR"


def account_refresh_credits(*, account: ProviderAccount) -> ProviderAccount:
    """Ask the provider (no transaction open), then record the value and a snapshot.

    A Mail or SMS sub-account is read from its main account's sub-account list (in
    euros, as the provider lists it), never from its own `/me`, so one account
    keeps one unit. Every reading then goes through the low-credit check.
    """
    from .accounts.services import (
        SUBACCOUNT_PROVIDERS,
        record_balance,
        subaccounts_sync,
    )

    if not account.is_main and account.provider in SUBACCOUNT_PROVIDERS:
        assert account.parent is not None
        subaccounts_sync(parent=account.parent)
        account.refresh_from_db()
        return account
    credits, unit = _read_credits(account)
    record_balance(account, credits, unit)
    return account


def account_refresh_credits_later(*, account_id: int) -> None:
    """Queue a credit refresh of one account (after a send or a cancel), once the
    current transaction commits; the web request never waits for the provider."""
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(
            "partnerhub.tasks.refresh_account_credits",
            account_id,
            task_name=f"refresh-credits-{account_id}",
        )
    )
