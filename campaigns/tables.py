"""django-tables2 tables of the campaign pages (campaign list, deliveries)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

import django_tables2 as tables
from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from partnerhub import formatting
from partnerhub.provider_messages import delivery_problem, status_label
from partnerhub.table_rows import PythonRowsTable

from .models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from .states import CampaignState, Figures, campaign_state

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _Costed(TypedDict):
    """What `selectors.campaigns_for_list` annotates on each campaign."""

    actual_cost: Decimal | None
    delivery_count: int
    handed_count: int
    delivered_count: int
    cancelled_count: int


def list_state(record: Any) -> CampaignState:
    """The campaign's words from the list's annotations, computed once per row."""
    state = record.__dict__.get("_campaign_state")
    if state is None:
        figures = Figures(
            total=record.delivery_count,
            left=record.handed_count,
            delivered=record.delivered_count,
            cancelled=record.cancelled_count,
        )
        state = record.__dict__["_campaign_state"] = campaign_state(record, figures)
    return state


CAMPAIGN_BADGES: dict[str, str] = {
    CampaignStatus.DRAFT: "ph-badge-muted",
    CampaignStatus.SCHEDULED: "",
    CampaignStatus.SENDING: "ph-badge-warning",
    CampaignStatus.SENT: "ph-badge-ok",
    CampaignStatus.CANCELLED: "ph-badge-muted",
    CampaignStatus.FAILED: "ph-badge-danger",
}
DELIVERY_BADGES: dict[str, str] = {
    DeliveryStatus.PENDING: "ph-badge-muted",
    DeliveryStatus.ACCEPTED: "",
    DeliveryStatus.DELIVERED: "ph-badge-ok",
    DeliveryStatus.NOT_DELIVERED: "ph-badge-danger",
    DeliveryStatus.SUPPRESSED: "ph-badge-muted",
    DeliveryStatus.FAILED: "ph-badge-danger",
    DeliveryStatus.CANCELLED: "ph-badge-muted",
    DeliveryStatus.UNKNOWN: "ph-badge-warning",
}
TABLE_ATTRS = {"class": "ph-table", "thead": {"class": "ph-table-head"}}


def badge(label: Any, css: str, *, status: str = "") -> SafeString:
    """A status pill; `data-status` lets the page script restyle it live."""
    return format_html(
        '<span class="ph-badge {}" data-status="{}">{}</span>', css, status, label
    )


def local_datetime(value: Any) -> str:
    """Shown in the project's zone (Europe/Paris), whatever the server's."""
    if not value:
        return "—"
    return formatting.datetime_text(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def labels(table: tables.Table, choices: type[models.TextChoices]) -> dict[str, str]:
    """Status labels translated once per table (`get_status_display` per row builds
    the choices dict and translates again: a third of a 50-row page's time)."""
    cache: dict[type, dict[str, str]] = table.__dict__.setdefault("_labels", {})
    if choices not in cache:
        cache[choices] = {c.value: str(c.label) for c in choices}
    return cache[choices]


class CampaignTable(PythonRowsTable):
    name = tables.Column(
        verbose_name=_("Campaign"),
        linkify=("campaigns:detail", {"pk": tables.A("pk")}),
    )
    channel = tables.Column(verbose_name=_("Channel"))
    status = tables.Column(verbose_name=_("Status"))
    audience = tables.Column(verbose_name=_("Audience"), order_by=("audience__name",))
    when = tables.Column(verbose_name=_("Date"), empty_values=())
    recipients = tables.Column(
        verbose_name=_("Recipients"), attrs={"td": {"class": "ph-num"}}
    )
    delivered_rate = tables.Column(
        verbose_name=_("Delivered"), empty_values=(), attrs={"td": {"class": "ph-num"}}
    )
    actual_cost = tables.Column(
        verbose_name=_("Cost"), empty_values=(), attrs={"td": {"class": "ph-num"}}
    )

    class Meta:
        model = Campaign
        fields = ()
        sequence = (
            "name",
            "channel",
            "status",
            "audience",
            "when",
            "recipients",
            "delivered_rate",
            "actual_cost",
        )
        order_by = ("-when",)
        attrs = TABLE_ATTRS
        empty_text = _("No campaign matches these filters.")
        template_name = "campaigns/_table.html"
        per_page = 25

    def render_status(self, record: Campaign) -> SafeString:
        state = list_state(record)
        return format_html(
            '<span class="ph-badge {}" data-status="{}" title="{}">{}</span>',
            state.badge,
            record.status,
            state.summary,
            state.label,
        )

    def render_when(self, record: Campaign) -> SafeString:
        state = list_state(record)
        return format_html(
            '<span class="ph-when-label">{}</span> {}',
            state.when_label,
            local_datetime(state.when),
        )

    def render_recipients(self, value: int) -> str:
        return formatting.count(value)

    def render_delivered_rate(self, record: Campaign) -> SafeString:
        state = list_state(record)
        if state.rate_note:
            return format_html(
                '<span title="{}">{}</span>', state.rate_note, state.rate
            )
        return format_html("{}", state.rate)

    def render_actual_cost(self, record: WithAnnotations[Campaign, _Costed]) -> str:
        unit = formatting.account_unit(record.account)
        state = list_state(record)
        if state.key in ("cancelled", "failed") and not state.billed:
            return formatting.EMPTY  # nothing left, nothing billed
        if record.actual_cost is None and record.estimated_cost is not None:
            estimate = formatting.money(record.estimated_cost, unit)
            return str(_("≈ %(cost)s (estimate)") % {"cost": estimate})
        return formatting.money(record.actual_cost, unit)


class DeliveryTable(PythonRowsTable):
    address = tables.Column(verbose_name=_("Address"))
    status = tables.Column(verbose_name=_("Status"))
    provider_status = tables.Column(verbose_name=_("Provider status"))
    cost = tables.Column(verbose_name=_("Cost"), attrs={"td": {"class": "ph-num"}})
    provider_date = tables.Column(verbose_name=_("Provider date"))
    error = tables.Column(
        verbose_name=_("Error"),
        empty_values=(),
        attrs={"td": {"class": "ph-error-cell"}},
    )

    class Meta:
        model = Delivery
        fields = ()
        sequence = (
            "address",
            "status",
            "provider_status",
            "cost",
            "provider_date",
            "error",
        )
        attrs = TABLE_ATTRS
        empty_text = _("No delivery matches these filters.")
        template_name = "campaigns/_table.html"
        per_page = 50

    def render_status(self, record: Delivery) -> SafeString:
        css = DELIVERY_BADGES.get(record.status, "")
        label = labels(self, DeliveryStatus).get(record.status, record.status)
        return badge(label, css, status=record.status)

    unit = "EUR"  # the paying account's (set by the campaign page)

    def render_provider_status(self, value: str) -> str:
        return status_label(value)

    def render_cost(self, value: Decimal | None) -> str:
        return formatting.unit_price(value, self.unit) if value else "—"

    def render_error(self, record: Delivery) -> SafeString:
        problem = delivery_problem(record.provider_status, record.error)
        return format_html('<span class="ph-error-text">{}</span>', problem)

    def render_provider_date(self, value: Any) -> str:
        return local_datetime(value)
