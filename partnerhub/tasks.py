"""django-q2 tasks for provider accounts."""

from __future__ import annotations

import logging

from .accounts.services import credits_refresh_all

logger = logging.getLogger(__name__)


def refresh_all_credits() -> int:
    """Hourly: every active main account (`/me`) and its sub-accounts (the list)."""
    report = credits_refresh_all()
    for failure in report.failed:
        logger.warning("Credits not refreshed: %s", failure)
    return report.refreshed
