"""Login throttling that a shared proxy address cannot turn into a lock-out.

Failures are counted per (username, client address), and per username across
addresses (a higher limit, against one account guessed from many places). Past the
limit a pair waits, and each further failure doubles the wait
(`LOGIN_LOCKOUT_SECONDS` times 2^n, at most `LOGIN_LOCKOUT_MAX_SECONDS`): a delay,
never a lock of a whole address, so nineteen colleagues mistyping behind one proxy
do not shut the twentieth out.

The client address is REMOTE_ADDR, or, when that is one of `TRUSTED_PROXIES`, the
last X-Forwarded-For hop that is not a trusted proxy (a client cannot forge it: the
proxy appends the address it saw). Counts are `LoginFailureCount` rows, so every
process and node shares them without Redis, and each failure is one SQL increment
of its row: failures sent in parallel to several workers all count (a cache's
read-then-write lost most of them, and with them the wait). A lock-out is also
recorded as a `LoginLockout` row, which admins list and unlock.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from .models import LoginFailureCount, LoginLockout

USER_LIMIT_FACTOR = 4  # failures of one username from every address together
SWEEP_BATCH = 1000  # expired counts deleted at most per sweep


@dataclass(frozen=True)
class Counter:
    """One failure count: whose failures it counts and how many it allows."""

    key: str
    username: str
    address: str  # "" for the username-wide counter
    limit: int


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _limit() -> int:
    return _setting("LOGIN_FAILURE_LIMIT", 5)


def _window() -> int:
    """How long failures are remembered after the last one."""
    return _setting("LOGIN_FAILURE_WINDOW_SECONDS", 24 * 3600)


def delay_for(failures: int, limit: int) -> int:
    """The wait after `failures` failures: 0 under the limit, then doubling."""
    if failures < limit:
        return 0
    base = _setting("LOGIN_LOCKOUT_SECONDS", 60)
    ceiling = _setting("LOGIN_LOCKOUT_MAX_SECONDS", 3600)
    return min(ceiling, base * 2 ** min(failures - limit, 20))


def client_address(request: HttpRequest | None) -> str:
    """The client's address, looking through `TRUSTED_PROXIES` only."""
    if request is None:
        return ""
    address = request.META.get("REMOTE_ADDR", "") or ""
    if not _trusted(address):
        return address
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed([h.strip() for h in hops if h.strip()]):
        if not _valid(hop):
            return address  # a garbled header: fall back to the proxy itself
        if not _trusted(hop):
            return hop
        address = hop
    return address


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _trusted(address: str) -> bool:
    if not _valid(address):
        return False
    ip = ipaddress.ip_address(address)
    for network in getattr(settings, "TRUSTED_PROXIES", ()) or ():
        if ip in ipaddress.ip_network(network, strict=False):
            return True
    return False


def _digest(text: str) -> str:
    """Keyed with SECRET_KEY: a copy of the table cannot be matched to usernames
    or addresses by hashing guesses (changing the key forgets the counts)."""
    return salted_hmac("partnerhub.throttle", text, algorithm="sha256").hexdigest()[:40]


def _norm(username: str) -> str:
    return (username or "").strip().lower()


def counters(username: str, address: str) -> list[Counter]:
    """The pair counter and the username-wide one (hashed keys: no PII in keys)."""
    user = _norm(username)
    if not user:
        return []
    limit = _limit()
    found = [Counter(f"user:{_digest(user)}", user, "", limit * USER_LIMIT_FACTOR)]
    if address:
        pair = f"pair:{_digest(user + '|' + address)}"
        found.insert(0, Counter(pair, user, address, limit))
    return found


def locked_for(request: HttpRequest | None, username: str) -> int:
    """Seconds this username must still wait from this client (0: may try now)."""
    now = time.time()
    keys = [counter.key for counter in counters(username, client_address(request))]
    untils = LoginFailureCount.objects.filter(
        key__in=keys, expires_at__gt=_at(now)
    ).values_list("locked_until", flat=True)
    waits = [0.0, *(until.timestamp() - now for until in untils if until)]
    return max(0, math.ceil(max(waits)))


def record_failure(request: HttpRequest | None, username: str) -> None:
    """Count a wrong password; past a limit, start (or double) the wait.

    The sweep of expired counts runs after the count's commit, in a transaction
    of its own, and only when a new count starts (when the table grows).
    """
    now = time.time()
    if _count_failures(counters(username, client_address(request)), now):
        _sweep(now)


@transaction.atomic
def _count_failures(found: list[Counter], now: float) -> bool:
    """Count one failure on each counter; True if a counter's row was created.

    Each row stays locked from its increment to the commit, so the wait set is
    the one for the count this failure made. The pair comes before the
    username-wide counter in every transaction here, so two never deadlock.
    """
    created = False
    for counter in found:
        failures, new = _increment(counter.key, now)
        created = created or new
        delay = delay_for(failures, counter.limit)
        if delay:
            LoginFailureCount.objects.filter(key=counter.key).update(
                locked_until=_at(now + delay)
            )
            _record_lockout(counter, failures, now + delay)
    return created


def _increment(key: str, now: float) -> tuple[int, bool]:
    """(failures after this one, row created) in SQL, never read-modify-write.

    An expired count starts again at one. Two first failures may both find no
    row: the unique key lets one insert, and the other then increments.
    """
    rows = LoginFailureCount.objects.filter(key=key)
    live = Q(expires_at__gt=_at(now))
    expires_at = _at(now + _window())
    if rows.update(
        failures=Case(When(live, then=F("failures") + 1), default=Value(1)),
        locked_until=Case(When(live, then=F("locked_until")), default=None),
        expires_at=expires_at,
    ):
        return rows.values_list("failures", flat=True).get(), False
    try:
        with transaction.atomic():
            LoginFailureCount.objects.create(key=key, failures=1, expires_at=expires_at)
    except IntegrityError:
        return _increment(key, now)
    return 1, True


def _sweep(now: float) -> None:
    """Delete expired counts, skipping rows a failure being counted holds.

    Skipping locked rows (PostgreSQL) means the sweep never waits for a count,
    so it cannot deadlock with one; SQLite runs one writer at a time anyway.
    """
    with transaction.atomic():
        expired = LoginFailureCount.objects.filter(expires_at__lte=_at(now))
        batch = expired.select_for_update(skip_locked=True).values("key")
        LoginFailureCount.objects.filter(key__in=batch[:SWEEP_BATCH]).delete()


def record_success(request: HttpRequest | None, username: str) -> None:
    """A right password clears this client's count and the username-wide one.

    One row per statement: a statement never holds one row while waiting for
    the other, which a failure being counted may hold.
    """
    for counter in counters(username, client_address(request)):
        LoginFailureCount.objects.filter(key=counter.key).delete()


def _record_lockout(counter: Counter, failures: int, until: float) -> None:
    LoginLockout.objects.update_or_create(
        username=counter.username,
        address=counter.address,
        defaults={"failures": failures, "locked_until": _at(until)},
    )


@transaction.atomic
def unlock(*, lockouts: list[LoginLockout]) -> int:
    """Lift these lock-outs now (admin action): counts cleared, rows deleted.

    Pairs first, then usernames: the order failures lock the same rows in.
    """
    for lockout in sorted(lockouts, key=lambda lockout: not lockout.address):
        for counter in counters(lockout.username, lockout.address):
            if counter.address == lockout.address:
                LoginFailureCount.objects.filter(key=counter.key).delete()
        lockout.delete()
    return len(lockouts)


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def lockout_seconds() -> int:
    """The first wait, for messages that do not know the current one."""
    return _setting("LOGIN_LOCKOUT_SECONDS", 60)
