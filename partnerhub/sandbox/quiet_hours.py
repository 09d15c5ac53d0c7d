"""Quiet hours of marketing SMS and e-mail, as SMS and Mail Partner apply them.

What providers.md says, and what the sandbox makes of it:

- CONFIRMED (§1 "Quiet hours", current doc): marketing SMS and mail are not sent
  from 20:00 to 08:00 on weekdays, on Sundays or on public holidays; they are
  queued until 08:00 on the next working day. Support can lift the rule for an
  account (`help@smspartner.fr`).
- CONFIRMED (§2.20): SMS send codes 22 "marketing: time must be 8h-22h" and 23
  "marketing: no Sundays/holidays". Mail Partner has no such codes (its 22 and 23
  are "recipient list required" and "reply email required").
- Conflict (§7 item 9): the old doc and the text of error 22 end the day at 22:00,
  the current doc at 20:00. The sandbox keeps the current 20:00 for both the queue
  and the refusal (one rule, the one `campaigns/quiet_hours.py` warns about),
  and answers code 22 with its documented "8h-22h" wording.
- INFERRED: which sends are "marketing". The API has no such parameter (`isStopSms`
  is only "auto on marketing accounts"), so it is a property of the account: every
  SMS and e-mail of an account with the rule on is marketing. The sandbox's
  accounts have it on (`SandboxConfig.quiet_hours`); a new sub-account takes its
  parent's setting; the control endpoint `/_sandbox/quiet-hours` plays support.
- INFERRED: a send handed over during quiet hours is accepted with the usual answer
  and its statuses wait (`Waiting` / `Pending`) until the release, then settle as
  any other send; an SMS *scheduled* for a quiet time is refused with 22 (hour) or
  23 (Sunday or holiday, checked first), since those codes exist for it; a mail
  scheduled then has no code to be refused with and is queued instead.
- "Public holidays" are read as the eleven national holidays of metropolitan
  France, in Paris time (INFERRED: the docs do not list them).

This is the sandbox's own copy of the rule (the product's is
`campaigns/quiet_hours.py`): the sandbox stands for the provider and imports no
product module, so a bug in one cannot hide the same bug in the other.
"""

from __future__ import annotations

import functools
import threading
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .state import Account

PARIS = ZoneInfo("Europe/Paris")
DAY_STARTS = time(8, 0)
EVENING_STARTS = time(20, 0)  # §7 item 9: 22:00 in the old doc and in error 22
SUNDAY = 6
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
EASTER_OFFSETS = (1, 39, 50)  # Easter Monday, Ascension, Whit Monday

Reason = Literal["day", "hour"]


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    h = (19 * a + b - d - (8 * b + 13) // 25 + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@functools.lru_cache(maxsize=32)
def public_holidays(year: int) -> frozenset[date]:
    """France's eleven national public holidays in `year` (cached: asked per send)."""
    easter = easter_sunday(year)
    moving = {easter + timedelta(days=n) for n in EASTER_OFFSETS}
    return frozenset({date(year, m, d) for m, d in FIXED_HOLIDAYS} | moving)


def closed_day(day: date) -> bool:
    """A Sunday or a public holiday: no marketing message all day."""
    return day.weekday() == SUNDAY or day in public_holidays(day.year)


def quiet_reason(at: float) -> Reason | None:
    """Why a marketing message may not leave at unix time `at`: "day", "hour", None."""
    local = datetime.fromtimestamp(at, tz=PARIS)
    if closed_day(local.date()):
        return "day"
    if not DAY_STARTS <= local.time() < EVENING_STARTS:
        return "hour"
    return None


def release_time(at: float) -> float:
    """When a marketing message handed over at `at` leaves: `at` itself outside
    quiet hours, else 08:00 (Paris) on the next working day."""
    if quiet_reason(at) is None:
        return at
    local = datetime.fromtimestamp(at, tz=PARIS)
    day = local.date() if local.time() < DAY_STARTS else local.date() + timedelta(1)
    while closed_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, tzinfo=PARIS).timestamp()


class QuietHoursSwitch:
    """The per-account switch of the Mail and SMS emulators (support's lever).

    Read by the server's `/_sandbox/quiet-hours` control endpoint.
    """

    accounts: dict[str, Account]
    _lock: threading.RLock

    def quiet_hours(
        self, *, enabled: bool | None = None, api_key: str | None = None
    ) -> dict[str, bool]:
        """Switch the rule for the account `api_key` (every account without it);
        returns each account's setting by username."""
        with self._lock:
            if api_key is not None and api_key not in self.accounts:
                raise ValueError("no account has this apiKey")
            chosen = (
                [self.accounts[api_key]] if api_key else list(self.accounts.values())
            )
            if enabled is not None:
                for account in chosen:
                    account.quiet_hours = enabled
            return {a.username: a.quiet_hours for a in self.accounts.values()}


def leaves_at(account: Account, at: float) -> float:
    """When a send of `account` due at `at` leaves the provider."""
    return release_time(at) if account.quiet_hours else at
