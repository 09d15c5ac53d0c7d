"""django-q2 tasks of the pec app (thin: they call services)."""

from __future__ import annotations

from . import services
from .models import DispatchStatus


def send_pec(send_id: int) -> str:
    """Send one confirmed PEC (never twice: see services.send_dispatch).

    The acceptance receipt usually follows within seconds, so it is fetched at once
    rather than at the next periodic check.
    """
    send = services.send_dispatch(send_id=send_id)
    if send.status == DispatchStatus.SENT:
        services.send_refresh(send=send)
    return send.status


def refresh_pec_receipts() -> int:
    """Periodic: fetch receipts of the sends whose next check is due, and quotas;
    recover sends whose task was lost."""
    services.sends_recover_stalled()
    services.mailboxes_refresh_stale_quotas()
    return services.sends_refresh_due()
