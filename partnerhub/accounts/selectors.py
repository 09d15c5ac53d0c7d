"""Reads for the account pages: accounts grouped by main account, filtered moves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from partnerhub.models import MAIN_KEY_SETTINGS, CreditMove, Provider, ProviderAccount

from . import alerts


@dataclass(frozen=True)
class MainGroup:
    main: ProviderAccount
    subaccounts: list[ProviderAccount]
    has_subaccounts: bool  # the provider offers them (Mail, SMS)


def account_groups(*, include_inactive: bool = False) -> list[MainGroup]:
    """Each main account with its sub-accounts, Mail then SMS then Voice."""
    accounts = ProviderAccount.objects.exclude(provider=Provider.PEC).order_by("name")
    if not include_inactive:
        accounts = accounts.filter(is_active=True)
    subs: dict[int, list[ProviderAccount]] = {}
    mains = []
    for account in accounts:
        if account.parent_id is None:
            mains.append(account)
        else:
            subs.setdefault(account.parent_id, []).append(account)
    order: list[str] = [Provider.MAIL, Provider.SMS, Provider.VOICE]
    mains.sort(key=lambda a: order.index(a.provider) if a.provider in order else 9)
    return [
        MainGroup(
            main=m,
            subaccounts=subs.get(m.pk, []),
            has_subaccounts=m.provider in (Provider.MAIL, Provider.SMS),
        )
        for m in mains
    ]


def low_accounts() -> list[ProviderAccount]:
    """Active accounts below their own threshold (each in its own unit)."""
    rows = ProviderAccount.objects.filter(is_active=True, low_credit_threshold__gt=0)
    return [a for a in rows.select_related("parent") if alerts.is_low(a)]


def moves_filtered(data: dict[str, Any]) -> QuerySet[CreditMove]:
    """Credit moves matching a cleaned `MoveFilterForm`."""
    moves = CreditMove.objects.select_related("account", "account__parent", "actor")
    if data.get("account"):
        moves = moves.filter(account=data["account"])
    if data.get("kind"):
        moves = moves.filter(kind=data["kind"])
    if data.get("actor"):
        moves = moves.filter(actor=data["actor"])
    if data.get("since"):
        moves = moves.filter(created_at__date__gte=data["since"])
    if data.get("until"):
        moves = moves.filter(created_at__date__lte=data["until"])
    return moves


def moves_for_list(data: dict[str, Any]) -> QuerySet[CreditMove]:
    """A page of `moves_filtered`, the accounts read in a second query: joined,
    SQLite may start from the accounts and sort every move for each page."""
    moves = moves_filtered(data).select_related(None).select_related("actor")
    return moves.prefetch_related("account__parent")


def payable_accounts(provider: str) -> QuerySet[ProviderAccount]:
    """Accounts that can pay for a campaign: active and able to call the provider.

    A sub-account without a stored key, or a main account whose key is missing
    from the environment, would only fail at dispatch: it is never offered.
    """
    accounts = ProviderAccount.objects.filter(provider=provider, is_active=True)
    accounts = accounts.exclude(parent__isnull=False, encrypted_api_key="")
    key_setting = MAIN_KEY_SETTINGS.get(provider, ("", ""))[0]
    if not getattr(settings, key_setting, ""):
        accounts = accounts.exclude(parent__isnull=True)
    return accounts
