"""django-q2 tasks for provider accounts."""

from __future__ import annotations

import logging

from .accounts.services import credits_refresh_all
from .models import ProviderAccount
from .providers.errors import ProviderError
from .services import account_refresh_credits

logger = logging.getLogger(__name__)


def refresh_all_credits() -> int:
    """Hourly: every active main account (`/me`) and its sub-accounts (the list)."""
    report = credits_refresh_all()
    for failure in report.failed:
        logger.warning("Credits not refreshed: %s", failure)
    return report.refreshed


def refresh_account_credits(account_id: int) -> str:
    """After a send, a cancel or a credit move: read that account's balance again."""
    account = ProviderAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return f"account {account_id}: gone or inactive"
    try:
        account = account_refresh_credits(account=account)
    except (ProviderError, ValueError) as exc:
        logger.warning("Credits of %s not refreshed: %s", account, exc)
        return f"{account}: not refreshed ({exc})"
    return f"{account}: {account.credits} {account.credits_unit}"
