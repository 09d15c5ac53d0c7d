"""django-q2 tasks: thin wrappers around the sync service (safe to run twice)."""

from __future__ import annotations

from .sync import unsubscribes_sync_all


def sync_unsubscribes() -> str:
    """Periodic: two-way sync of every channel; a provider fault waits for next run."""
    results = unsubscribes_sync_all()
    return "; ".join(
        f"{r.channel}: pulled={r.pulled} pushed={r.pushed} deleted={r.deleted} "
        f"conflicts={r.conflicts} error={r.error or '-'}"
        + (" (already running)" if r.skipped else "")
        for r in results
    )
