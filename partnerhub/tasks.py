"""django-q2 tasks for provider accounts."""

from __future__ import annotations

import logging

from .clients.errors import ProviderError
from .models import Provider, ProviderAccount
from .services import account_refresh_credits

logger = logging.getLogger(__name__)


def refresh_all_credits() -> int:
    """Hourly: refresh the credits of every active messaging account."""
    refreshed = 0
    accounts = ProviderAccount.objects.filter(is_active=True).exclude(
        provider=Provider.PEC
    )
    for account in accounts:
        try:
            account_refresh_credits(account=account)
        except ProviderError as exc:
            logger.warning("Credits of %s not refreshed: %s", account, exc)
            continue
        refreshed += 1
    return refreshed
