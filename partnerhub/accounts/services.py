"""Sub-accounts at Mail Partner and SMS Partner: create, sync, fund, drain, delete.

Every action asks the provider first, with no transaction open, and writes locally
only once the provider accepted, so a refusal leaves nothing behind. Each accepted
action is recorded as a `CreditMove`. Units: sub-account balances and moved credit
are euros (providers.md §2.16); a Mail main account's credits are e-mails.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from partnerhub import formatting
from partnerhub.models import (
    CreditMove,
    CreditSnapshot,
    Provider,
    ProviderAccount,
    SubaccountType,
)
from partnerhub.providers import errors, factory
from partnerhub.providers.ndamedia_subaccounts import Subaccount

from . import alerts
from .errors import (
    AMOUNT_NOT_POSITIVE,
    AMOUNT_TOO_LARGE,
    AMOUNT_TOO_PRECISE,
    BY_CODE,
    INACTIVE,
    MAIL_HAS_NO_DELETE,
    NO_KEY,
    NOT_SUBACCOUNT_PROVIDER,
    PARENT_TOO_POOR,
    SUB_TOO_POOR,
    SubaccountError,
    refusal,
)

logger = logging.getLogger(__name__)

EUR = "EUR"
SUBACCOUNT_PROVIDERS = (Provider.MAIL, Provider.SMS)
MAX_PAGES = 500  # 10,000 sub-accounts: a guard against a provider paging forever
MAX_AMOUNT = Decimal(
    "100000000000"
)  # what a credit field (14 digits, 3 decimals) holds


@dataclass(frozen=True)
class CreatedSubaccount:
    """The new row and its key in clear: shown to the Admin once, never stored so."""

    account: ProviderAccount
    api_key: str


@dataclass(frozen=True)
class SyncResult:
    added: int
    updated: int
    deactivated: int


# --- helpers ---------------------------------------------------------------------
def _client(account: ProviderAccount) -> Any:
    """The Mail or SMS Partner client of `account`; a missing key is a refusal."""
    try:
        if account.provider == Provider.MAIL:
            return factory.get_mailpartner_client(account)
        return factory.get_smspartner_client(account)
    except ValueError:  # no key: a main account's key is missing from the settings
        raise SubaccountError(NO_KEY) from None


def _check_parent(parent: ProviderAccount) -> None:
    if not parent.is_main or parent.provider not in SUBACCOUNT_PROVIDERS:
        raise SubaccountError(NOT_SUBACCOUNT_PROVIDER)


def _check_sub(account: ProviderAccount) -> ProviderAccount:
    """The parent of an active sub-account the provider knows, or a refusal."""
    if account.is_main or account.provider not in SUBACCOUNT_PROVIDERS:
        raise SubaccountError(NOT_SUBACCOUNT_PROVIDER)
    if not account.is_active:
        raise SubaccountError(INACTIVE)
    if not account.provider_token:
        raise SubaccountError(BY_CODE[("credit", 3)], code=3)
    assert account.parent is not None
    return account.parent


def clean_amount(amount: Any) -> Decimal:
    """A positive amount with at most 3 decimals (what the provider stores)."""
    try:
        value = Decimal(str(amount).strip().replace(",", "."))
    except ArithmeticError:
        raise SubaccountError(AMOUNT_NOT_POSITIVE) from None
    if not value.is_finite() or value <= 0:
        raise SubaccountError(AMOUNT_NOT_POSITIVE)
    if value >= MAX_AMOUNT:
        raise SubaccountError(AMOUNT_TOO_LARGE)
    if value != value.quantize(Decimal("0.001")):
        raise SubaccountError(AMOUNT_TOO_PRECISE)
    return value


def money(value: Decimal) -> str:
    """12.5 -> "12,50" in French, "12.50" in English (for sentences)."""
    return formatting.number(value, 2)


def parent_money(parent: ProviderAccount) -> Decimal | None:
    """The main account's balance in euros, asked now (credit moves are euros)."""
    client = _client(parent)
    try:
        balance: Decimal | None = client.me().balance
        return balance
    except errors.ProviderError as exc:
        raise refusal("credit", exc) from exc


def _check_parent_can_give(parent: ProviderAccount, amount: Decimal) -> None:
    balance = parent_money(parent)
    if balance is not None and amount > balance:
        values = {
            "balance": money(balance),
            "unit": formatting.unit_label(EUR),
            "amount": money(amount),
        }
        raise SubaccountError(str(PARENT_TOO_POOR) % values, code=8)


def provider_subaccounts(parent: ProviderAccount) -> Iterator[Subaccount]:
    """Every sub-account at the provider, page after page (20 per page)."""
    client = _client(parent)
    seen = 0
    for page in range(1, MAX_PAGES + 1):
        try:
            batch = client.subaccount_list(page=page)
        except errors.ProviderError as exc:
            raise refusal("list", exc) from exc
        yield from batch.items
        seen += len(batch.items)
        if not batch.items or seen >= batch.total:
            return


def record_balance(
    account: ProviderAccount, credits: Decimal | None, unit: str
) -> None:
    """Store a balance just read from the provider, with a snapshot and alert check."""
    now = timezone.now()
    with transaction.atomic():
        ProviderAccount.objects.filter(pk=account.pk).update(
            credits=credits, credits_unit=unit, credits_checked_at=now
        )
        if credits is not None:
            CreditSnapshot.objects.create(
                account=account, taken_at=now, credits=credits
            )
    account.credits, account.credits_unit, account.credits_checked_at = (
        credits,
        unit,
        now,
    )
    alerts.low_credit_check(account=account)


def _refresh_parent(parent: ProviderAccount) -> None:
    """Right after a move: the main account's balance from `/me` (never fatal)."""
    from partnerhub.services import account_refresh_credits

    try:
        account_refresh_credits(account=parent)
    except errors.ProviderError as exc:
        logger.warning("Credits of %s not refreshed after a move: %s", parent, exc)


# --- create ------------------------------------------------------------------------
def subaccount_create(
    *,
    parent: ProviderAccount,
    account_type: str,
    actor: Any,
    name: str = "",
    email: str = "",
    is_buyer: bool | None = None,
    title: str = "",
    firstname: str = "",
    lastname: str = "",
    initial_credit: Decimal | None = None,
    low_credit_threshold: Decimal = Decimal("0"),
) -> CreatedSubaccount:
    """Create the sub-account at the provider, then store it with its key encrypted."""
    _check_parent(parent)
    if account_type not in SubaccountType.values:
        raise SubaccountError(BY_CODE[("create", 5)], code=5)
    if account_type == SubaccountType.ADVANCED and not email:
        raise SubaccountError(BY_CODE[("create", 6)], code=6)
    if account_type == SubaccountType.ADVANCED and is_buyer is None:
        raise SubaccountError(BY_CODE[("create", 3)], code=3)
    if initial_credit is not None:
        initial_credit = clean_amount(initial_credit)
        _check_parent_can_give(parent, initial_credit)
    try:
        created = _client(parent).subaccount_create(
            account_type=account_type,
            email=email or None,
            is_buyer=is_buyer if account_type == SubaccountType.ADVANCED else None,
            credit_to_attribute=initial_credit,
            title=title or None,
            firstname=firstname or None,
            lastname=lastname or None,
        )
    except errors.ProviderError as exc:
        raise refusal("create", exc) from exc
    remote = next(
        (s for s in provider_subaccounts(parent) if s.token == created.token), None
    )
    api_key = remote.api_key if remote else ""
    balance = remote.balance if remote and remote.balance is not None else None
    with transaction.atomic():
        account = ProviderAccount.objects.create(
            provider=parent.provider,
            parent=parent,
            name=name or created.email,
            email=created.email,
            provider_token=created.token,
            encrypted_api_key=api_key,
            api_key_last4=api_key[-4:],
            subaccount_type=account_type,
            # Without a key it cannot pay for anything: kept, but never offered.
            is_active=bool(api_key),
            low_credit_threshold=low_credit_threshold,
        )
        CreditMove.objects.create(
            account=account,
            kind=CreditMove.Kind.CREATE,
            amount=initial_credit or Decimal("0"),
            unit=EUR,
            actor=actor,
            subaccount_balance=balance,
            provider_answer=_answer(created.token, balance=balance),
        )
    record_balance(account, balance if balance is not None else initial_credit, EUR)
    _refresh_parent(parent)
    return CreatedSubaccount(account=account, api_key=api_key)


def _answer(
    token: str = "",
    *,
    parent: Decimal | None = None,
    balance: Decimal | None = None,
    text: str = "",
) -> str:
    """The provider's answer in one line, for the record (never a key)."""
    parts = ["code 200"]
    if token:
        parts.append(f"token {token}")
    if parent is not None:
        parts.append(f"main {parent} {EUR}")
    if balance is not None:
        parts.append(f"sub-account {balance} {EUR}")
    if text:
        parts.append(text)
    return " · ".join(parts)[:300]


# --- sync --------------------------------------------------------------------------
def subaccounts_sync(*, parent: ProviderAccount) -> SyncResult:
    """Mirror the provider's list: add new ones, update balances, retire the gone."""
    _check_parent(parent)
    remote = {s.token: s for s in provider_subaccounts(parent) if s.token}
    local = {a.provider_token: a for a in parent.subaccounts.all()}
    added = updated = 0
    for token, sub in remote.items():
        account = local.get(token)
        if account is None:
            account = _add_found(parent, sub)
            added += 1
        else:
            _update_found(account, sub)
            updated += 1
        if sub.balance is not None:
            record_balance(account, sub.balance, EUR)
    gone = [
        a.pk
        for a in parent.subaccounts.filter(is_active=True)
        if a.provider_token not in remote
    ]
    ProviderAccount.objects.filter(pk__in=gone).update(is_active=False)
    return SyncResult(added=added, updated=updated, deactivated=len(gone))


def _add_found(parent: ProviderAccount, sub: Subaccount) -> ProviderAccount:
    """A sub-account made elsewhere (provider's UI, Excel import): now known here."""
    return ProviderAccount.objects.create(
        provider=parent.provider,
        parent=parent,
        name=sub.email or sub.token,
        email=sub.email,
        provider_token=sub.token,
        encrypted_api_key=sub.api_key,
        api_key_last4=sub.api_key[-4:],
        subaccount_type=sub.type if sub.type in SubaccountType.values else "",
        is_active=bool(sub.api_key),
    )


def _update_found(account: ProviderAccount, sub: Subaccount) -> None:
    changed: dict[str, bool | str] = {
        "is_active": bool(sub.api_key or account.encrypted_api_key)
    }
    if sub.api_key and sub.api_key != account.encrypted_api_key:
        changed.update(encrypted_api_key=sub.api_key, api_key_last4=sub.api_key[-4:])
    if sub.email:
        changed["email"] = sub.email
    for field, value in changed.items():
        setattr(account, field, value)
    account.save(update_fields=list(changed))


# --- credit moves ----------------------------------------------------------------
def subaccount_credit_add(
    *, account: ProviderAccount, amount: Any, actor: Any
) -> CreditMove:
    """Move `amount` euros from the main account to the sub-account."""
    parent = _check_sub(account)
    amount = clean_amount(amount)
    _check_parent_can_give(parent, amount)
    return _move(account, parent, amount, actor, add=True)


def subaccount_credit_remove(
    *, account: ProviderAccount, amount: Any, actor: Any
) -> CreditMove:
    """Move `amount` euros from the sub-account back to the main account."""
    parent = _check_sub(account)
    amount = clean_amount(amount)
    if account.credits is not None and amount > account.credits:
        raise SubaccountError(
            str(SUB_TOO_POOR)
            % {
                "balance": money(account.credits),
                "unit": formatting.unit_label(EUR),
                "amount": money(amount),
            },
            code=8,
        )
    return _move(account, parent, amount, actor, add=False)


def _move(
    account: ProviderAccount,
    parent: ProviderAccount,
    amount: Decimal,
    actor: Any,
    *,
    add: bool,
) -> CreditMove:
    client = _client(parent)
    call = client.subaccount_credit_add if add else client.subaccount_credit_remove
    try:
        transfer = call(token=account.provider_token, credit=amount)
    except errors.ProviderError as exc:
        raise refusal("credit", exc) from exc
    move = CreditMove.objects.create(
        account=account,
        kind=CreditMove.Kind.ADD if add else CreditMove.Kind.REMOVE,
        amount=amount,
        unit=EUR,
        actor=actor,
        parent_balance=transfer.credit,
        subaccount_balance=transfer.subaccount_credit,
        provider_answer=_answer(
            parent=transfer.credit, balance=transfer.subaccount_credit
        ),
    )
    if transfer.subaccount_credit is not None:
        record_balance(account, transfer.subaccount_credit, EUR)
    _refresh_parent(parent)
    return move


# --- delete ------------------------------------------------------------------------
def subaccount_can_delete(account: ProviderAccount) -> bool:
    """Only SMS Partner documents a delete (`subaccount/remove`)."""
    return account.provider == Provider.SMS


def subaccount_delete(*, account: ProviderAccount, actor: Any) -> CreditMove:
    """Delete at the provider; its remaining credit goes back to the main account."""
    parent = _check_sub(account)
    if not subaccount_can_delete(account):
        raise SubaccountError(MAIL_HAS_NO_DELETE)
    returned = account.credits or Decimal("0")
    try:
        _client(parent).subaccount_remove(token=account.provider_token)
    except errors.ProviderError as exc:
        raise refusal("remove", exc) from exc
    with transaction.atomic():
        account.is_active = False
        account.encrypted_api_key = ""
        account.save(update_fields=["is_active", "encrypted_api_key"])
        move = CreditMove.objects.create(
            account=account,
            kind=CreditMove.Kind.DELETE,
            amount=returned,
            unit=EUR,
            actor=actor,
            subaccount_balance=Decimal("0"),
            provider_answer=_answer(text=f"{returned} {EUR} back to the main account"),
        )
    record_balance(account, Decimal("0"), EUR)
    _refresh_parent(parent)
    return move


# --- refresh -------------------------------------------------------------------------
@dataclass(frozen=True)
class RefreshReport:
    refreshed: int
    failed: list[str]


def credits_refresh_all() -> RefreshReport:
    """Every active main account from `/me`, and its sub-accounts from the list."""
    from partnerhub.services import account_refresh_credits

    refreshed, failed = 0, []
    mains = ProviderAccount.objects.filter(is_active=True, parent=None).exclude(
        provider=Provider.PEC
    )
    for main in mains:
        try:
            account_refresh_credits(account=main)
            refreshed += 1
            if main.provider in SUBACCOUNT_PROVIDERS and main.subaccounts.exists():
                refreshed += subaccounts_sync(parent=main).updated
        except (errors.ProviderError, SubaccountError, ValueError) as exc:
            logger.warning("Credits of %s not refreshed: %s", main, exc)
            failed.append(f"{main}: {exc}")
    return RefreshReport(refreshed=refreshed, failed=failed)
