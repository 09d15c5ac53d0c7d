"""Following campaigns: the list, the campaign page, its progress and CSV export.

Views stay thin: reads come from `campaigns.selectors`, tables and filters from
`campaigns.tables` / `campaigns.filters`. Every view needs
`campaigns.view_campaign` and answers 403 without it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import permission_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from partnerhub import formatting
from partnerhub.pages import PageMixin, csv_batches_download, delimiter_from
from partnerhub.paging import KnownCountPaginator

from .. import selectors
from ..filters import CampaignFilter, DeliveryFilter
from ..models import Campaign, CampaignStatus, Channel, Delivery, DeliveryStatus
from ..tables import DELIVERY_BADGES, CampaignTable, DeliveryTable
from .compose import NEW_TITLES

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

VIEW_PERMISSION = "campaigns.view_campaign"


def page_url(name: str, *args: Any, query: str = "") -> str:
    """The URL of a page, with its query string."""
    url = reverse(name, args=args)
    return f"{url}?{query}" if query else url


class CampaignListView(
    PermissionRequiredMixin, PageMixin, SingleTableMixin, FilterView
):
    permission_required = VIEW_PERMISSION
    raise_exception = True
    title = _("Campaigns")
    table_class = CampaignTable
    filterset_class = CampaignFilter
    template_name = "campaigns/list.html"

    def get_queryset(self) -> QuerySet[Campaign]:
        return selectors.campaigns_for_list()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        can_add = self.request.user.has_perm("campaigns.add_campaign")
        new_links = [  # worded as on the home page ("New voice campaign")
            (
                str(NEW_TITLES[value]),
                page_url("campaigns:create", query=f"channel={value}"),
            )
            for value in Channel.values
        ]
        context["new_links"] = [(lab, url) for lab, url in new_links if url and can_add]
        context["has_campaigns"] = Campaign.objects.exists()
        context["is_filtered"] = any(
            v for k, v in self.request.GET.items() if k not in ("page", "sort")
        )
        return context


class CampaignDetailView(
    PermissionRequiredMixin, PageMixin, SingleTableMixin, FilterView
):
    """The campaign page; its deliveries table is the view's filtered list."""

    permission_required = VIEW_PERMISSION
    raise_exception = True
    table_class = DeliveryTable
    filterset_class = DeliveryFilter
    template_name = "campaigns/detail.html"

    def get_campaign(self) -> Campaign:
        if not hasattr(self, "campaign"):
            self.campaign = get_object_or_404(
                Campaign.objects.select_related("audience", "account", "created_by"),
                pk=self.kwargs["pk"],
            )
        return self.campaign

    def get_title(self) -> str:
        return self.get_campaign().name

    def get_progress(self) -> selectors.Progress:
        if not hasattr(self, "progress"):
            self.progress = selectors.campaign_progress(campaign=self.get_campaign())
        return self.progress

    def get_queryset(self) -> QuerySet[Delivery]:
        return selectors.campaign_deliveries(campaign=self.get_campaign())

    def get_filterset_kwargs(self, filterset_class: Any) -> dict[str, Any]:
        kwargs = super().get_filterset_kwargs(filterset_class)
        return {**kwargs, "campaign": self.get_campaign()}

    def get_table(self, **kwargs: Any) -> DeliveryTable:
        table = super().get_table(**kwargs)
        table.unit = formatting.account_unit(self.get_campaign().account)
        return table

    def get_table_pagination(self, table: DeliveryTable) -> dict[str, Any]:
        """The count comes from the campaign's counters unless a search is on
        (then it is counted up to `COUNT_CAP`); in id order, pages past the
        middle are read from the end."""
        paginate = super().get_table_pagination(table)
        filters = self.filterset.form.cleaned_data if self.filterset.is_valid() else {}
        count = None
        if not filters.get("q"):
            progress = self.get_progress()
            status = filters.get("status")
            count = progress.counts.get(status, 0) if status else progress.total
        in_id_order = not self.request.GET.get(table.prefixed_order_by_field)
        paginate.update(
            paginator_class=KnownCountPaginator,
            count=count,
            queryset=self.object_list if in_id_order else None,
        )
        return paginate

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        campaign = self.get_campaign()
        progress = self.get_progress()
        state = progress.state
        actual_cost = selectors.campaign_actual_cost(campaign=campaign)
        context.update(
            campaign=campaign,
            progress=progress,
            state=state,
            status_badge=state.badge if state else "",
            show_detail=self.request.user.has_perm("partnerhub.change_provideraccount"),
            delivery_badges=DELIVERY_BADGES,
            status_rows=status_rows(progress),
            cost=cost_facts(campaign, actual_cost, billed=bool(state and state.billed)),
            timeline=timeline(campaign),
            actions=actions(self.request, campaign),
            is_filtered=any(
                v for k, v in self.request.GET.items() if k not in ("page", "sort")
            ),
        )
        return context


def cost_facts(
    campaign: Campaign, actual: Decimal | None, *, billed: bool
) -> dict[str, str]:
    """Estimated and billed cost in the account's unit, and why they differ."""
    unit = formatting.account_unit(campaign.account)
    facts = {
        "estimated": formatting.money(campaign.estimated_cost, unit),
        "actual": formatting.money(actual if billed else None, unit),
        "difference": "",
    }
    if billed and actual is not None and campaign.estimated_cost is not None:
        gap = actual - campaign.estimated_cost
        if gap.quantize(formatting.CENT):
            words = _("%(amount)s more than estimated") if gap > 0 else None
            words = words or _("%(amount)s less than estimated")
            facts["difference"] = words % {"amount": formatting.money(abs(gap), unit)}
    return facts


# Statuses a voice campaign never reaches: Voice Partner reports no call results.
NO_VOICE_RESULT = (
    DeliveryStatus.DELIVERED,
    DeliveryStatus.NOT_DELIVERED,
    DeliveryStatus.UNKNOWN,
)


def status_rows(progress: selectors.Progress) -> list[dict[str, Any]]:
    """One row per delivery status for the counters table (0s too, but not the
    results a voice campaign can never have)."""
    voice = bool(progress.state and progress.state.rate_note)
    hidden = NO_VOICE_RESULT if voice else ()
    return [
        {
            "status": status.value,
            "label": status.label,
            "count": progress.counts.get(status, 0),
            "percent": selectors.percent(
                progress.counts.get(status, 0), progress.total
            ),
            "badge": DELIVERY_BADGES.get(status, ""),
        }
        for status in DeliveryStatus
        if status not in hidden or progress.counts.get(status, 0)
    ]


def timeline(campaign: Campaign) -> list[tuple[Any, Any]]:
    """The campaign's dates that are set and its audit entries (who did what), in
    order (shown in Paris time). A date an entry already tells is not repeated."""
    from partnerhub.audit import Action, entries_for

    entries = list(entries_for(campaign))
    told = {entry.action for entry in entries}
    steps: list[tuple[str | StrPromise, datetime | None]] = [
        *dispatch_steps(campaign),
        (_("Settled"), campaign.settled_at),
    ]
    if not told & {Action.CAMPAIGN_CREATED, Action.CAMPAIGN_DUPLICATED}:
        steps.append((_("Created"), campaign.created_at))
    if Action.CAMPAIGN_CANCELLED not in told:
        steps.append((_("Cancelled"), campaign.cancelled_at))
    steps += [(audit_label(entry), entry.at) for entry in entries]
    return sorted(((label, when) for label, when in steps if when), key=lambda s: s[1])


def dispatch_steps(campaign: Campaign) -> list[tuple[Any, datetime | None]]:
    """The dispatch's dates named after what happened: a deferred campaign was
    handed to the provider, then left at its time; a failed one stopped."""
    deferred = campaign.deferred_at_provider and campaign.dispatched_at
    if campaign.status == CampaignStatus.FAILED:
        ended = _("Dispatch stopped (failed)")
    elif deferred:
        ended = pgettext_lazy("campaign state", "Handed to the provider")
    else:
        ended = _("Dispatched")
    scheduled = _("Scheduled for")
    if campaign.status == CampaignStatus.CANCELLED:
        scheduled = _("Was scheduled for")
    elif deferred:
        scheduled = _("Departure from the provider")
    return [
        (scheduled, campaign.scheduled_at),
        (_("Dispatch started"), campaign.dispatch_started_at),
        (ended, campaign.dispatched_at),
    ]


def audit_label(entry: Any) -> str:
    return str(
        _("%(action)s by %(who)s")
        % {"action": entry.get_action_display(), "who": entry.who}
    )


def actions(request: HttpRequest, campaign: Campaign) -> list[dict[str, Any]]:
    """Buttons by status; links to compose pages that do not exist yet are left out."""
    user = request.user
    wanted: list[tuple[Any, str, str]] = []
    if campaign.status == CampaignStatus.DRAFT and user.has_perm(
        "campaigns.change_campaign"
    ):
        wanted += [
            (_("Edit"), "campaigns:edit", "ph-button-secondary"),
            (_("Review and send"), "campaigns:review", ""),
        ]
    if campaign.status == CampaignStatus.SCHEDULED and user.has_perm(
        "campaigns.change_campaign"
    ):
        wanted.append((_("Cancel campaign"), "campaigns:cancel", "ph-button-danger"))
    found = [(label, page_url(name, campaign.pk), css) for label, name, css in wanted]
    return [
        {"label": label, "url": url, "css": css} for label, url, css in found if url
    ]


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def campaign_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled every ~2 s by the campaign page while the campaign may still move."""
    campaign = get_object_or_404(Campaign, pk=pk)
    progress = selectors.campaign_progress(campaign=campaign)
    data = progress.as_json()
    data["status_badge"] = progress.state.badge if progress.state else ""
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permission_required(VIEW_PERMISSION, raise_exception=True)
def campaign_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The campaign's deliveries as streamed CSV (`?delimiter=comma|tab|semicolon`)."""
    campaign = get_object_or_404(Campaign, pk=pk)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    delimiter = delimiter_from(request)
    batches = selectors.delivery_export_batches(
        campaign_id=campaign.pk, decimal_comma=delimiter == ";"
    )
    return csv_batches_download(
        batches,
        header=selectors.export_header(campaign=campaign),
        filename=f"campaign-{campaign.pk}-deliveries-{stamp}.csv",
        delimiter=delimiter,
    )
