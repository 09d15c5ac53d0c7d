"""Login throttling: a few wrong passwords lock that username and that address out.

Counting happens in the cache (Redis when `REDIS_URL` is set, so every web node
shares the counts; process memory otherwise). Both the username and the client
address are counted, so guessing many passwords for one user and trying one
password on many users are both slowed down. A successful login clears the
username's count.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def _limit() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", 5))


def lockout_seconds() -> int:
    return int(getattr(settings, "LOGIN_LOCKOUT_SECONDS", 300))


def _keys(request: HttpRequest | None, username: str) -> list[str]:
    """Cache keys for the username and the client address (hashed: no PII in Redis)."""
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        keys.append(f"login-fail:user:{digest}")
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    if address:
        keys.append(f"login-fail:addr:{address}")
    return keys


def is_locked(request: HttpRequest | None, username: str) -> bool:
    """True when the username or the address failed `LOGIN_FAILURE_LIMIT` times."""
    address_limit = _limit() * 4  # an office behind one NAT shares an address
    for key in _keys(request, username):
        limit = address_limit if key.startswith("login-fail:addr:") else _limit()
        if cache.get(key, 0) >= limit:
            return True
    return False


def record_failure(request: HttpRequest | None, username: str) -> None:
    for key in _keys(request, username):
        cache.add(key, 0, lockout_seconds())
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, lockout_seconds())


def record_success(request: HttpRequest | None, username: str) -> None:
    cache.delete_many(_keys(None, username))
