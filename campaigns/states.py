"""The one vocabulary of campaign states: the words every page and file shows.

The campaign list, the campaign page and its live progress, the timeline, the
home widgets and the CSV export all ask `campaign_state()` what to call a
campaign, so a campaign never reads "Programmée" on one page and "Envoyée" on
another. The stored status alone is not enough: a scheduled campaign whose
time has come is being sent; one handed to the provider ahead of time has left
PartnerHub but not the provider; a cancelled one may have been cancelled at the
provider after leaving. Progress counts only messages that actually left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from partnerhub import formatting
from partnerhub.provider_messages import explain

from .models import Campaign, CampaignStatus, Channel, DeliveryStatus

# Deliveries that left PartnerHub for the provider (what progress counts).
LEFT = (
    DeliveryStatus.ACCEPTED,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.NOT_DELIVERED,
    DeliveryStatus.UNKNOWN,
)
BADGES = {
    "draft": "ph-badge-muted",
    "scheduled": "",
    "deferred": "",
    "sending": "ph-badge-warning",
    "sent": "ph-badge-ok",
    "cancelled": "ph-badge-muted",
    "failed": "ph-badge-danger",
}


@dataclass(frozen=True)
class Figures:
    """The few counts the words depend on."""

    total: int = 0
    left: int = 0
    delivered: int = 0
    cancelled: int = 0

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> Figures:
        return cls(
            total=sum(counts.values()),
            left=sum(counts.get(s, 0) for s in LEFT),
            delivered=counts.get(DeliveryStatus.DELIVERED, 0),
            cancelled=counts.get(DeliveryStatus.CANCELLED, 0),
        )


@dataclass(frozen=True)
class CampaignState:
    """How to say where a campaign stands, in the active language."""

    key: str
    label: str  # the badge: "Envoi en cours", "Confiée au fournisseur"
    summary: str  # the sentence: "Confiée au fournisseur — départ le 02/12 à 00:30"
    advice: str  # what to do (a failed campaign)
    detail: str  # the technical reason, for admins
    progress: str  # "42 messages partis sur 44"
    percent_left: float
    rate: str  # delivered rate: "95,2 %", "en attente", "—"
    rate_note: str
    when_label: str
    when: datetime | None
    billed: bool  # something left, so the provider's cost means something

    @property
    def badge(self) -> str:
        return BADGES.get(self.key, "")


def campaign_state(
    campaign: Campaign, figures: Figures, *, now: datetime | None = None
) -> CampaignState:
    """The words for `campaign` given its delivery `figures`."""
    now = now or timezone.now()
    key = _key(campaign, now)
    label, summary, advice, detail = _words(campaign, figures, key)
    when_label, when = _when(campaign, key)
    rate, note = _rate(campaign, figures, key)
    return CampaignState(
        key=key,
        label=label,
        summary=summary,
        advice=advice,
        detail=detail,
        progress=_progress(campaign, figures, key),
        # handed over for later has not left yet: the bar stays empty until then
        percent_left=0.0 if key == "deferred" else _share(figures.left, figures.total),
        rate=rate,
        rate_note=note,
        when_label=when_label,
        when=when,
        billed=figures.left > 0,
    )


def _key(campaign: Campaign, now: datetime) -> str:
    status = campaign.status
    if status == CampaignStatus.SCHEDULED:
        if campaign.deferred_at_provider and campaign.dispatched_at:
            return "deferred"
        due = campaign.scheduled_at is None or campaign.scheduled_at <= now
        return "sending" if due or campaign.dispatch_started_at else "scheduled"
    return str(status)


def departure(when: datetime | None) -> dict[str, str]:
    """{'date': '02/12', 'time': '00:30'} in Paris time."""
    if when is None:
        return {"date": "—", "time": "—"}
    local = timezone.localtime(when)
    return {
        "date": formatting.datetime_text(local, "d/m"),
        "time": formatting.datetime_text(local, "H:i"),
    }


def _words(campaign: Campaign, figures: Figures, key: str) -> tuple[str, str, str, str]:
    """(label, summary, advice, technical detail)."""
    if key == "draft":
        return _("Draft"), _("Draft: nothing has been sent."), "", ""
    if key == "scheduled":
        leaves = departure(campaign.scheduled_at)
        said = _("Scheduled — leaves on %(date)s at %(time)s") % leaves
        return _("Scheduled"), said, "", ""
    if key == "deferred":
        leaves = departure(campaign.scheduled_at)
        said = _("Handed to the provider — leaves on %(date)s at %(time)s") % leaves
        return pgettext("campaign state", "Handed to the provider"), said, "", ""
    if key == "sending":
        sending = pgettext("campaign state", "Sending")
        return sending, sending, "", ""
    if key == "cancelled":
        return _("Cancelled"), _cancelled_summary(figures), "", ""
    if key == "failed":
        return _failed_words(campaign, figures)
    left = departure(_when(campaign, key)[1])
    return _("Sent"), _("Sent — left on %(date)s at %(time)s") % left, "", ""


def _cancelled_summary(figures: Figures) -> str:
    if figures.left:
        return ngettext(
            "Cancelled — %(left)s message had already left, %(cancelled)s "
            "cancelled at the provider",
            "Cancelled — %(left)s messages had already left, %(cancelled)s "
            "cancelled at the provider",
            figures.left,
        ) % {"left": formatting.count(figures.left), "cancelled": figures.cancelled}
    if figures.cancelled:
        return ngettext(
            "Cancelled at the provider — no message sent (%(count)s cancelled)",
            "Cancelled at the provider — no message sent (%(count)s cancelled)",
            figures.cancelled,
        ) % {"count": formatting.count(figures.cancelled)}
    return _("Cancelled — no message sent")


def _failed_words(campaign: Campaign, figures: Figures) -> tuple[str, str, str, str]:
    told = explain(campaign.status_reason)
    summary = _("Failed") + (" — " + told.sentence if told.sentence else "")
    advice = told.advice or _("Duplicate the campaign to try again.")
    if figures.left:
        advice = (
            ngettext(
                "%(count)s message had left before the failure.",
                "%(count)s messages had left before the failure.",
                figures.left,
            )
            % {"count": formatting.count(figures.left)}
            + " "
            + advice
        )
    return _("Failed"), summary, advice, told.detail


def _progress(campaign: Campaign, figures: Figures, key: str) -> str:
    if key == "deferred":
        return ngettext(
            "%(count)s message handed to the provider, leaving on %(date)s at %(time)s",
            "%(count)s messages handed to the provider, leaving on %(date)s at "
            "%(time)s",
            figures.left,
        ) % {
            "count": formatting.count(figures.left),
            **departure(campaign.scheduled_at),
        }
    return ngettext(
        "%(left)s message sent out of %(total)s",
        "%(left)s messages sent out of %(total)s",
        figures.left,
    ) % {
        "left": formatting.count(figures.left),
        "total": formatting.count(figures.total),
    }


def _rate(campaign: Campaign, figures: Figures, key: str) -> tuple[str, str]:
    """The delivered rate as words: never a 0 % that only means "not known yet"."""
    if campaign.channel == Channel.VOICE:
        return formatting.EMPTY, _("Voice Partner does not report call results.")
    if not figures.left or key in ("deferred", "draft", "scheduled"):
        return formatting.EMPTY, ""
    if campaign.settled_at is None and not figures.delivered:
        return _("pending"), _("The provider has not reported deliveries yet.")
    return formatting.percent(_share(figures.delivered, figures.left)), ""


def _when(campaign: Campaign, key: str) -> tuple[str, datetime | None]:
    """The one date a list row shows, named after what happened then."""
    if key in ("scheduled", "deferred"):
        return _("Leaves"), campaign.scheduled_at
    if key == "sending":
        return _("Started"), campaign.dispatch_started_at or campaign.scheduled_at
    if key == "sent":
        left = campaign.scheduled_at if campaign.deferred_at_provider else None
        return _("Sent"), left or campaign.dispatched_at
    if key == "cancelled":
        return _("Cancelled"), campaign.cancelled_at or campaign.created_at
    if key == "failed":
        return _("Failed"), campaign.dispatched_at or campaign.created_at
    return _("Created"), campaign.created_at


def _share(part: int, whole: int) -> float:
    return round(part * 100 / whole, 1) if whole else 0.0
