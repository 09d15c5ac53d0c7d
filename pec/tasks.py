"""django-q2 tasks of the pec app (thin: they call services)."""

from __future__ import annotations

from . import services


def send_pec(send_id: int) -> str:
    """Send one confirmed PEC (never twice: see services.send_dispatch)."""
    return services.send_dispatch(send_id=send_id).status


def refresh_pec_receipts() -> int:
    """Periodic: fetch receipts of the sends whose next check is due."""
    return services.sends_refresh_due()
