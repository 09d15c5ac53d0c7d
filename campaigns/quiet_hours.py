"""The providers' quiet hours for marketing SMS and email (providers.md §1).

SMS Partner and Mail Partner do not deliver marketing messages from 20:00 to
08:00 (Paris time), on Sundays or on French public holidays: they queue them
until 08:00 on the next working day. Sources disagree on the evening hour
(20:00 on the current doc, 22:00 in the old one and in the text of error 22);
the earlier one is used, so the warning errs on the side of telling.

The holidays are computed (fixed dates plus the three Easter-based ones), not
taken from a dependency: eleven dates a year do not justify one.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from partnerhub.provider_messages import technical
from partnerhub.providers import errors

PARIS = ZoneInfo("Europe/Paris")
DAY_STARTS = time(8, 0)
EVENING_STARTS = time(20, 0)
QUIET_CHANNELS = frozenset({"sms", "email"})
SUNDAY = 6
FIXED_HOLIDAYS = (
    (1, 1),  # Jour de l'an
    (5, 1),  # Fête du travail
    (5, 8),  # Victoire 1945
    (7, 14),  # Fête nationale
    (8, 15),  # Assomption
    (11, 1),  # Toussaint
    (11, 11),  # Armistice
    (12, 25),  # Noël
)
# Days after Easter Sunday: Easter Monday, Ascension Thursday, Whit Monday.
EASTER_OFFSETS = (1, 39, 50)

QUEUED_SENTENCE = _(
    "A marketing message is not delivered between 20:00 and 08:00, on Sundays or "
    "on public holidays: the provider queues it until the next working day."
)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def french_public_holidays(year: int) -> frozenset[date]:
    """The eleven national public holidays of metropolitan France for `year`."""
    easter = easter_sunday(year)
    fixed = {date(year, month, day) for month, day in FIXED_HOLIDAYS}
    moving = {easter + timedelta(days=n) for n in EASTER_OFFSETS}
    return frozenset(fixed | moving)


def is_quiet(when: datetime) -> bool:
    """True if a marketing message handed over at `when` waits at the provider."""
    local = when.astimezone(PARIS)
    if local.weekday() == SUNDAY or local.date() in french_public_holidays(local.year):
        return True
    return not DAY_STARTS <= local.time() < EVENING_STARTS


def next_delivery(when: datetime) -> datetime:
    """When the provider lets a message queued at `when` go (08:00 of a working day)."""
    local = when.astimezone(PARIS)
    if not is_quiet(local):
        return local
    day = local.date() if local.time() < DAY_STARTS else local.date() + timedelta(1)
    while day.weekday() == SUNDAY or day in french_public_holidays(day.year):
        day += timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, tzinfo=PARIS)


def quiet_hours_warning(*, channel: str, when: datetime) -> str:
    """The review page's warning for a send at `when`, or '' (voice: no rule)."""
    if channel not in QUIET_CHANNELS or not is_quiet(when):
        return ""
    resume = next_delivery(when)
    return str(
        _("%(sentence)s Sent at this time, it would leave on %(date)s at %(time)s.")
        % {
            "sentence": QUEUED_SENTENCE,
            "date": resume.strftime("%d/%m/%Y"),
            "time": resume.strftime("%H:%M"),
        }
    )


# Codes 22/23: SMS Partner refuses a marketing send *scheduled* for a quiet time
# (one handed over during them is queued, not refused).
REFUSED_SENTENCE = _(
    "The provider refuses a marketing message scheduled between 20:00 and 08:00, "
    "on a Sunday or on a public holiday: choose a working day between 08:00 and "
    "20:00."
)
DEFERRED_IN_QUIET_HOURS = _(
    "SMS Partner refuses a marketing SMS handed over for a time between 20:00 and "
    "08:00, on a Sunday or on a public holiday. Choose a working day between 08:00 "
    "and 20:00, or let PartnerHub send it at the time (the provider then holds it "
    "until the next working day)."
)


def refuses_deferred(*, channel: str, when: datetime) -> bool:
    """True if the provider would refuse a send handed over now for `when`:
    SMS Partner's codes 22/23 (Mail Partner queues it instead)."""
    return channel == "sms" and is_quiet(when)


def describe_refusal(exc: Exception) -> str:
    """What to store for a provider refusal: codes 22/23 become the rule's
    sentence; anything else its typed technical text, which the pages explain
    in the reader's language (`partnerhub.provider_messages.explain`)."""
    if isinstance(exc, errors.QuietHours):
        return str(REFUSED_SENTENCE)
    return technical(exc)
