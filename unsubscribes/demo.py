"""The demo's suppression list, put on the provider lists of a fresh sandbox.

The sandbox keeps its lists in memory and starts empty, while the demo history
marks its unsubscribes as synced with the providers. Without this, the first
sync would push every one of them again and count each as a conflict ("73
pushed · 73 conflicts"). `manage.py demo` calls `on_sandbox_start()` once the
sandbox listens and before the worker's first sync; it uses the same list calls
as the sync, and each row keeps the id the provider gave it.
"""

from __future__ import annotations

import logging

from partnerhub.providers import errors

from .models import Channel, Unsubscribe
from .providers import ProviderList, provider_list

logger = logging.getLogger(__name__)


def share_with_providers() -> int:
    """Add every synced, active address to its provider list; how many were added."""
    added = 0
    for channel in Channel.values:
        try:
            added += _share(channel, provider_list(channel))
        except errors.ProviderError as exc:  # the demo still starts; sync reports it
            logger.warning("Demo lists not shared with %s: %s", channel, exc)
    return added


def on_sandbox_start() -> None:
    share_with_providers()


def _share(channel: str, provider: ProviderList) -> int:
    remote = provider.entries()
    synced = (
        Unsubscribe.objects.active()
        .filter(channel=channel, provider_error="", synced_at__isnull=False)
        .values_list("pk", "address")
    )
    added = 0
    for pk, address in synced.order_by("pk"):
        entry = remote.get(address)
        if entry is not None:
            entry_id = entry.id
        else:
            try:
                entry_id = provider.add(address)
            except errors.AlreadyExists:
                continue  # listed under another spelling: the sync links it
            added += 1
        Unsubscribe.objects.filter(pk=pk).update(provider_id=entry_id)
    return added
