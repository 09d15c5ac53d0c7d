"""Login throttling that a shared proxy address cannot turn into a lock-out.

Failures are counted per (username, client address), and per username across
addresses (a higher limit, against one account guessed from many places). Past the
limit a pair waits, and each further failure doubles the wait
(`LOGIN_LOCKOUT_SECONDS` times 2^n, at most `LOGIN_LOCKOUT_MAX_SECONDS`): a delay,
never a lock of a whole address, so nineteen colleagues mistyping behind one proxy
do not shut the twentieth out.

The client address is REMOTE_ADDR, or, when that is one of `TRUSTED_PROXIES`, the
last X-Forwarded-For hop that is not a trusted proxy (a client cannot forge it: the
proxy appends the address it saw). Counts live in the `login` cache, the database
cache (settings), so every process and node shares them without Redis. A lock-out
is also recorded as a `LoginLockout` row, which admins list and unlock.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest

CACHE_ALIAS = "login"
USER_LIMIT_FACTOR = 4  # failures of one username from every address together


@dataclass(frozen=True)
class Counter:
    """One cache key: whose failures it counts and how many it allows."""

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
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _norm(username: str) -> str:
    return (username or "").strip().lower()


def counters(username: str, address: str) -> list[Counter]:
    """The pair counter and the username-wide one (hashed keys: no PII in keys)."""
    user = _norm(username)
    if not user:
        return []
    limit = _limit()
    found = [
        Counter(f"login:user:{_digest(user)}", user, "", limit * USER_LIMIT_FACTOR)
    ]
    if address:
        pair = f"login:pair:{_digest(user + '|' + address)}"
        found.insert(0, Counter(pair, user, address, limit))
    return found


def locked_for(request: HttpRequest | None, username: str) -> int:
    """Seconds this username must still wait from this client (0: may try now)."""
    cache = caches[CACHE_ALIAS]
    now = time.time()
    waits = [0.0]
    for counter in counters(username, client_address(request)):
        entry = cache.get(counter.key) or {}
        waits.append(float(entry.get("until", 0)) - now)
    return max(0, math.ceil(max(waits)))


def record_failure(request: HttpRequest | None, username: str) -> None:
    """Count a wrong password; past a limit, start (or double) the wait."""
    cache = caches[CACHE_ALIAS]
    now = time.time()
    for counter in counters(username, client_address(request)):
        entry = cache.get(counter.key) or {"failures": 0, "until": 0}
        failures = int(entry["failures"]) + 1
        delay = delay_for(failures, counter.limit)
        cache.set(counter.key, {"failures": failures, "until": now + delay}, _window())
        if delay:
            _record_lockout(counter, failures, now + delay)


def record_success(request: HttpRequest | None, username: str) -> None:
    """A right password clears this client's count and the username-wide one."""
    keys = [c.key for c in counters(username, client_address(request))]
    caches[CACHE_ALIAS].delete_many(keys)


def _record_lockout(counter: Counter, failures: int, until: float) -> None:
    from .models import LoginLockout

    LoginLockout.objects.update_or_create(
        username=counter.username,
        address=counter.address,
        defaults={
            "failures": failures,
            "locked_until": datetime.fromtimestamp(until, tz=UTC),
        },
    )


@transaction.atomic
def unlock(*, lockouts: list) -> int:
    """Lift these lock-outs now (admin action): counts cleared, rows deleted."""
    cache = caches[CACHE_ALIAS]
    for lockout in lockouts:
        for counter in counters(lockout.username, lockout.address):
            if counter.address == lockout.address:
                cache.delete(counter.key)
        lockout.delete()
    return len(lockouts)


def lockout_seconds() -> int:
    """The first wait, for messages that do not know the current one."""
    return _setting("LOGIN_LOCKOUT_SECONDS", 60)
