"""Shared bits of the PEC pages: permissions, quota gauge, state badges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest

from partnerhub.pages import page_context

from ..models import PecMailbox

view_permission = permission_required("pec.view_pecmailbox", raise_exception=True)
send_permission = permission_required("pec.add_pecsend", raise_exception=True)

STATE_TONES = {
    "submitted": "muted",
    "accepted": "info",
    "delivered": "ok",
    "partially_delivered": "warning",
    "not_delivered": "danger",
    "not_accepted": "danger",
    "delayed": "warning",
}
STATUS_TONES = {
    "draft": "muted",
    "queued": "muted",
    "submitting": "warning",
    "sent": "ok",
    "failed": "danger",
    "unknown": "danger",
}
KIND_TONES = {
    "accettazione": "ok",
    "avvenuta-consegna": "ok",
    "non-accettazione": "danger",
    "errore-consegna": "danger",
    "preavviso-errore-consegna": "warning",
    "rilevazione-virus": "danger",
    "anomalia": "warning",
    "posta-certificata": "info",
}


@dataclass(frozen=True)
class Gauge:
    """Quota bar: percentage, tone (amber ≥ 80 %, red ≥ 95 %) and raw figures."""

    percent: float
    tone: str
    usage: float
    limit: float
    unit: str


def gauge(mailbox: PecMailbox) -> Gauge | None:
    ratio = mailbox.quota_ratio
    if ratio is None:
        return None
    tone = "danger" if ratio >= 0.95 else "warning" if ratio >= 0.8 else "ok"
    return Gauge(
        percent=round(ratio * 100, 1),
        tone=tone,
        usage=mailbox.quota_usage or 0.0,
        limit=mailbox.quota_limit or 0.0,
        unit=settings.PEC_QUOTA_UNIT,
    )


def pec_context(request: HttpRequest, *, title: str, **extra: Any) -> dict[str, Any]:
    """The page context; no admin sidebar for a user with no admin app to list."""
    values = page_context(request, title=title, **extra)
    values["is_nav_sidebar_enabled"] = bool(values.get("available_apps"))
    return values
