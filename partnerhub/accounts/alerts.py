"""Low-credit alerts: email the Admins once per crossing below an account's threshold.

The account row remembers that the alert went out (`low_credit_alerted`); the flag
is cleared only when a later reading is back at or above the threshold, so an
hourly refresh below the line does not email again. The threshold is in the
account's own unit (e-mails for a Mail main account, euros otherwise).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import override

from partnerhub import formatting, roles
from partnerhub.models import ProviderAccount

logger = logging.getLogger(__name__)


def is_low(account: ProviderAccount) -> bool:
    """Below a set threshold, comparing figures of the same account (same unit)."""
    return (
        account.credits is not None
        and account.low_credit_threshold > 0
        and account.credits < account.low_credit_threshold
    )


def admin_emails() -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    admins = users.filter(Q(is_superuser=True) | Q(groups__name=roles.ADMINS))
    return sorted(set(admins.values_list("email", flat=True)))


def low_credit_check(*, account: ProviderAccount) -> bool:
    """After a new reading: email on a downward crossing, re-arm once back above.

    Returns True when an alert was emailed. The row is locked so two workers
    reading the same balance send one email.
    """
    with transaction.atomic():
        row = ProviderAccount.objects.select_for_update().get(pk=account.pk)
        low = is_low(row)
        if low == row.low_credit_alerted:
            return False
        row.low_credit_alerted = low
        row.save(update_fields=["low_credit_alerted"])
        account.low_credit_alerted = low
    # Outside the lock: a slow SMTP server must not hold the row (on SQLite, the
    # whole database) locked. The flag is already flipped, so it stays one email.
    if low:
        _email(row)
    return low


def _email(account: ProviderAccount) -> None:
    recipients = admin_emails()
    if not recipients:
        logger.warning("Low credit on %s but no Admin has an email address", account)
        return
    unit = formatting.account_unit(account)
    places = 0 if unit == formatting.EMAILS else 2
    with override(settings.LANGUAGE_CODE):
        values = {
            "account": str(account),
            "credits": formatting.number(account.credits, places),
            "threshold": formatting.number(account.low_credit_threshold, places),
            "unit": formatting.unit_label(unit),
        }
        subject = _("PartnerHub: low credit on %(account)s") % values
        body = (
            _(
                "The credit of %(account)s is %(credits)s %(unit)s, below the alert "
                "threshold of %(threshold)s %(unit)s.\n\nAdd credit or lower the "
                "threshold in PartnerHub. You will not be emailed again until the "
                "balance has gone back above the threshold."
            )
            % values
        )
    send_mail(subject, body, None, recipients)
