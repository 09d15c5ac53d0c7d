"""`PythonRowsTable`: the rows it writes are django-tables2's, byte for byte."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import django_tables2 as tables
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone, translation
from django_tables2 import RequestConfig

from benchmarks import page_data
from campaigns import counters, selectors
from campaigns.models import Campaign, Delivery, DeliveryStatus
from campaigns.tables import CampaignTable, DeliveryTable
from partnerhub.table_rows import PythonRowsTable
from tests.campaign_factories import CampaignFactory

pytestmark = pytest.mark.django_db

SMALL = page_data.Scale(campaigns=12, deliveries=60, unsubscribes=5, sends=1, moves=1)


def stock_html(table: tables.Table) -> str:
    """The table as django-tables2's own template writes it."""
    request = RequestFactory().get("/")
    RequestConfig(request, paginate={"per_page": 100}).configure(table)
    return render_to_string("django_tables2/table.html", {"table": table}, request)


def campaigns_of_every_kind() -> None:
    """The benchmark's campaigns (sent, scheduled, draft) plus the other states."""
    page_data.build(SMALL)
    now = timezone.now()
    CampaignFactory(status="failed", status_reason="ProviderBusy: smspartner busy")
    CampaignFactory(status="cancelled", cancelled_at=now, channel="sms")
    CampaignFactory(status="sent", channel="voice", dispatched_at=now)
    CampaignFactory(
        status="scheduled",
        scheduled_at=now + timedelta(hours=2),
        deferred_at_provider=True,
        dispatched_at=now,
        estimated_cost=Decimal("12.5"),
    )


@pytest.mark.parametrize("language", ["fr", "en"])
def test_campaign_rows_are_the_templates(language: str) -> None:
    campaigns_of_every_kind()
    with translation.override(language):
        table = CampaignTable(selectors.campaigns_for_list())
        expected = stock_html(table)
        assert table.tbody() in expected
        assert "<tr class=" in table.tbody()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_delivery_rows_are_the_templates(language: str) -> None:
    built = page_data.build(SMALL)
    campaign = Campaign.objects.get(pk=built.big_campaign)
    deliveries = list(campaign.deliveries.order_by("pk")[:6])
    raw = ["Delivered", "UNDELIV", "bounced", "odd <word>", "", "expired"]
    for delivery, status in zip(deliveries, raw, strict=True):
        delivery.provider_status = status
    deliveries[0].error = "InsufficientCredits: mailpartner no credit"
    deliveries[1].error = "a <b>raw</b> reason"
    deliveries[2].cost = Decimal("0.045")
    deliveries[3].provider_date = None
    deliveries[4].status = DeliveryStatus.FAILED
    Delivery.objects.bulk_update(
        deliveries, ["provider_status", "error", "cost", "provider_date", "status"]
    )
    counters.recount(campaign_id=campaign.pk)
    with translation.override(language):
        table = DeliveryTable(selectors.campaign_deliveries(campaign=campaign))
        table.unit = "EUR"
        assert table.tbody() in stock_html(table)


@pytest.mark.parametrize("empty_text", ["Rien <ici>", None])
def test_an_empty_table_reads_as_the_templates(empty_text: str | None) -> None:
    table = DeliveryTable(Delivery.objects.none(), empty_text=empty_text)
    assert table.tbody() in stock_html(table)


class Localized(PythonRowsTable):
    name = tables.Column(localize=True)


class CallableAttrs(PythonRowsTable):
    name = tables.Column(attrs={"td": {"class": lambda record: "x"}})


@pytest.mark.parametrize("table_class", [Localized, CallableAttrs])
def test_what_it_cannot_write_the_same_is_refused(table_class: Any) -> None:
    table = table_class([{"name": "a"}])
    with pytest.raises(ImproperlyConfigured):
        table.tbody()
