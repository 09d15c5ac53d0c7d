"""Reads about campaigns that need care (counts on big audiences, claimable work)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from partnerhub import formatting
from partnerhub.csvio.export import FORMULA_STARTS, CellCache
from partnerhub.formatting import csv_number
from partnerhub.provider_messages import delivery_problem, status_label
from partnerhub.streamed_reads import (
    datetime_text,
    fetched_chunks,
    moment_reader,
    streamed_read,
)
from unsubscribes.models import Unsubscribe

from . import counters
from .models import (
    FINAL_DELIVERY_STATUSES,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    Recipient,
)
from .states import CampaignState, Figures, campaign_state


def campaign_audience_counts(*, campaign: Campaign) -> tuple[int, int]:
    """(recipients reachable on the channel, of which unsubscribed), two queries."""
    field = campaign.address_field
    reachable = campaign.audience.recipients.exclude(**{field: ""})
    blocked = Unsubscribe.objects.active().filter(
        channel=campaign.suppression_channel, address=OuterRef(field)
    )
    return reachable.count(), reachable.filter(Exists(blocked)).count()


def campaign_sendable_recipients(*, campaign: Campaign) -> QuerySet[Recipient]:
    """Recipients reachable on the channel and not unsubscribed (as the snapshot)."""
    field = campaign.address_field
    blocked = Unsubscribe.objects.active().filter(
        channel=campaign.suppression_channel, address=OuterRef(field)
    )
    return campaign.audience.recipients.exclude(**{field: ""}).exclude(Exists(blocked))


def due_campaign_ids(limit: int = 50) -> list[int]:
    """Scheduled campaigns that are due, oldest first.

    A plain read, no lock: several schedulers may list the same campaign, and the
    claim's compare-and-set (`dispatch.claim`) lets exactly one of them send it.
    """
    now = timezone.now()
    due = Campaign.objects.filter(
        status=CampaignStatus.SCHEDULED,
        dispatched_at__isnull=True,
        scheduled_at__lte=now,
    ).order_by("scheduled_at")
    return list(due.values_list("pk", flat=True)[:limit])


def abandoned_campaign_ids(limit: int = 50) -> list[int]:
    """Campaigns left `sending` by a worker whose lease ran out (it died)."""
    return list(
        Campaign.objects.filter(
            status=CampaignStatus.SENDING, lease_until__lt=timezone.now()
        )
        .order_by("lease_until")
        .values_list("pk", flat=True)[:limit]
    )


def recent_campaign_ids_to_refresh() -> list[int]:
    """Unsettled campaigns dispatched recently (past 48 h they get one last pass that
    settles what the provider never finalised as `unknown`)."""
    from .services import STATUS_REFRESH_WINDOW

    since = timezone.now() - STATUS_REFRESH_WINDOW * 2
    return list(
        Campaign.objects.filter(dispatched_at__gte=since, settled_at__isnull=True)
        .exclude(status__in=[CampaignStatus.CANCELLED, CampaignStatus.SENDING])
        .values_list("pk", flat=True)
    )


def batches_still_open(*, campaign: Campaign) -> set[int]:
    """The ids of the batches with a delivery whose status may still change, in
    one read of the `(campaign, status, id)` index (a query per batch cost 2-5 ms
    each: 4-10 s at a million deliveries)."""
    still_open = [s for s in DeliveryStatus.values if s not in FINAL_DELIVERY_STATUSES]
    rows = Delivery.objects.filter(campaign=campaign, status__in=still_open)
    batch_ids = rows.exclude(batch=None).order_by().values_list("batch_id", flat=True)
    return set(batch_ids.distinct())


# --- campaign pages (list, campaign page, exports) ---------------------------

# Deliveries that reached the provider: what "delivered %" is measured against.
HANDED_OVER = (
    DeliveryStatus.ACCEPTED,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.NOT_DELIVERED,
    DeliveryStatus.UNKNOWN,
)
# A campaign in these states may still change: its page keeps polling.
LIVE_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING)


def campaigns_for_list() -> QuerySet[Campaign]:
    """Campaigns with their audience and delivery figures, in one query per page.

    Delivery figures come from the stored counters (`CampaignCounts`, one row per
    campaign joined), never from the deliveries: a page of campaigns costs the
    same with a million deliveries as with ten. Only a campaign not yet
    snapshotted (draft, scheduled) shows its audience's size, from the sizes
    counted at most once a minute (`audience_sizes`), as a CASE on the audience:
    still sortable in SQL, and no COUNT over a million recipients per view.
    """
    from .audiences.selectors import audience_sizes

    sizes = audience_sizes()
    audience_size = Case(
        *(When(audience_id=pk, then=Value(n)) for pk, n in sizes.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    total = _counters_sum(DeliveryStatus.values)
    handed = _counters_sum(HANDED_OVER)
    return (
        Campaign.objects.select_related("audience", "account")
        .annotate(
            delivery_count=Coalesce(total, 0),
            handed_count=Coalesce(handed, 0),
            delivered_count=Coalesce(F("counts__delivered"), 0),
            cancelled_count=Coalesce(F("counts__cancelled"), 0),
            actual_cost=F("counts__cost"),
            when=Coalesce("dispatched_at", "scheduled_at", "created_at"),
        )
        .annotate(
            recipients=Case(
                When(snapshot_done=True, then=F("delivery_count")),
                default=audience_size,
            ),
            delivered_rate=Case(
                When(handed_count=0, then=Value(None)),
                default=F("delivered_count") * 100.0 / F("handed_count"),
                output_field=FloatField(),
            ),
        )
    )


def _counters_sum(statuses: Sequence[str]) -> Any:
    """counts.a + counts.b + ... over the joined `CampaignCounts` row."""
    first, *rest = (F(f"counts__{status}") for status in statuses)
    return sum(rest, first)


@dataclass(frozen=True)
class Progress:
    """Where a campaign stands, for the progress bar, counters and chart."""

    campaign_status: str
    status_label: str
    status_reason: str
    counts: dict[str, int]
    total: int
    live: bool
    state: CampaignState | None = None

    @property
    def dispatched(self) -> int:
        """Deliveries the dispatcher is done with (handed over, skipped or refused)."""
        return self.total - self.counts.get(DeliveryStatus.PENDING, 0)

    @property
    def settled(self) -> int:
        return sum(self.counts.get(s, 0) for s in FINAL_DELIVERY_STATUSES)

    @property
    def handed_over(self) -> int:
        return sum(self.counts.get(s, 0) for s in HANDED_OVER)

    @property
    def percent_dispatched(self) -> float:
        return percent(self.dispatched, self.total)

    @property
    def percent_settled(self) -> float:
        return percent(self.settled, self.total)

    def funnel(self) -> list[tuple[str, Any, int, float]]:
        """(key, label, count, percent of recipients) for each funnel step; no
        "delivered" step for a voice campaign (the provider reports no result)."""
        delivered = self.counts.get(DeliveryStatus.DELIVERED, 0)
        steps = [
            ("recipients", _("Recipients"), self.total),
            ("handed_over", _("Handed to the provider"), self.handed_over),
        ]
        if not (self.state and self.state.rate_note and not delivered):
            steps.append(("delivered", _("Delivered"), delivered))
        return [(k, label, n, percent(n, self.total)) for k, label, n in steps]

    def as_json(self) -> dict[str, Any]:
        state = self.state
        return {
            "state": {
                "key": state.key,
                "label": state.label,
                "summary": state.summary,
                "advice": state.advice,
                "progress": state.progress,
                "percent_left": state.percent_left,
                "rate": state.rate,
                "rate_note": state.rate_note,
            }
            if state
            else None,
            "campaign_status": self.campaign_status,
            "status_label": str(self.status_label),
            "status_reason": self.status_reason,
            "counts": {s.value: self.counts.get(s, 0) for s in DeliveryStatus},
            "total": self.total,
            "dispatched": self.dispatched,
            "settled": self.settled,
            "percent_dispatched": self.percent_dispatched,
            "percent_settled": self.percent_settled,
            "funnel": [
                {"key": k, "count": n, "percent": p} for k, _l, n, p in self.funnel()
            ],
            "live": self.live,
        }


def percent(part: int, whole: int) -> float:
    return round(part * 100 / whole, 1) if whole else 0.0


def campaign_progress(*, campaign: Campaign) -> Progress:
    """Delivery counts by status, read from the stored counters (one row)."""
    counts = counters.current(campaign).by_status()
    live = campaign.status in LIVE_STATUSES or (
        campaign.status == CampaignStatus.SENT and campaign.settled_at is None
    )
    state = campaign_state(campaign, Figures.from_counts(counts))
    return Progress(
        campaign_status=campaign.status,
        status_label=state.label,
        status_reason=state.summary if state.key == "failed" else "",
        counts=counts,
        total=sum(counts.values()),
        live=live,
        state=state,
    )


def campaign_actual_cost(*, campaign: Campaign) -> Decimal | None:
    """What the provider charged so far (the stored sum of the deliveries' costs)."""
    return counters.current(campaign).cost


def campaign_deliveries(*, campaign: Campaign) -> QuerySet[Delivery]:
    """The campaign page's deliveries table: nothing joined, the table is flat."""
    return campaign.deliveries.order_by("pk")


EXPORT_FIELDS = (
    "address",
    "recipient__first_name",
    "recipient__last_name",
    "status",
    "provider_status",
    "cost",
    datetime_text("provider_date"),  # parsed by `moment_reader`
    "error",
    "provider_message_id",
)
# Rows per database fetch, and per `writerows` (a chunk of about 220 KB of CSV).
EXPORT_CHUNK = 2000
EXPORT_HEADER = (
    _("Address"),
    _("First name"),
    _("Last name"),
    _("Status"),
    _("Provider status"),
    _("Cost"),
    _("Provider date"),
    _("Error"),
    _("Provider message id"),
)


def delivery_export_rows(
    *, campaign_id: int, decimal_comma: bool = True, chunk_size: int = EXPORT_CHUNK
) -> Iterator[tuple[str, ...]]:
    """The deliveries CSV's rows one by one (see `delivery_export_batches`);
    closing it closes the read (on PostgreSQL, its transaction)."""
    batches = delivery_export_batches(
        campaign_id=campaign_id, decimal_comma=decimal_comma, chunk_size=chunk_size
    )
    with contextlib.closing(batches):
        for batch in batches:
            yield from batch


def delivery_export_batches(
    *, campaign_id: int, decimal_comma: bool = True, chunk_size: int = EXPORT_CHUNK
) -> Generator[list[tuple[str, ...]]]:
    """The rows in the caller's language, though a streamed response reads them
    after the view returned (when the request's language may be gone), a list
    per database fetch, every cell safe CSV text (for `iter_csv_batches`)."""
    language = translation.get_language()

    def batches() -> Generator[list[tuple[str, ...]]]:
        with translation.override(language):
            yield from _delivery_batches(campaign_id, decimal_comma, chunk_size)

    return batches()


def _delivery_batches(
    campaign_id: int, decimal_comma: bool, chunk_size: int
) -> Iterator[list[tuple[str, ...]]]:
    """Rows of the deliveries CSV, streamed: memory stays flat for millions of rows.

    Rows come as the driver fetched them (`fetched_chunks`: no model, no
    per-value conversion, dates as text) and one list comprehension per fetch
    makes the cells, no function call per cell: the 1,000,000-row benchmark
    went from 14 s to 4 s on SQLite. Cells of few distinct values (statuses,
    costs, errors, dates) are formatted and neutralised once per value
    (`CellCache`); the free texts (address, names, message id) are checked for
    a formula start inline.
    """
    rows = (
        Delivery.objects.filter(campaign_id=campaign_id)
        .order_by("pk")
        .values_list(*EXPORT_FIELDS)
    )
    starts = FORMULA_STARTS
    with streamed_read():  # PostgreSQL: the first row at once, no stored result
        converters, chunks = fetched_chunks(rows, chunk_size=chunk_size)
        status, raw_status, cost, date, problem = _export_cells(
            converters, decimal_comma
        )
        for chunk in chunks:
            yield [
                (
                    "'" + address if address.startswith(starts) else address,
                    ("'" + first if first.startswith(starts) else first)
                    if first
                    else "",
                    ("'" + last if last.startswith(starts) else last) if last else "",
                    status[state],
                    raw_status[raw],
                    cost[amount],
                    date[at],
                    problem[raw, error],
                    "'" + text if text.startswith(starts) else text,
                )
                for address, first, last, state, raw, amount, at, error, text in chunk
            ]


def _export_cells(
    converters: Sequence[Callable[[Any], Any]], decimal_comma: bool
) -> tuple[CellCache, ...]:
    """The cached cells of the export's coded columns, in `EXPORT_FIELDS` order:
    status, provider status, cost, provider date, problem (by provider status
    and error). Words are the pages' words (provider statuses translated,
    errors explained); costs are numbers a spreadsheet reads (a decimal comma
    for French Excel, a dot otherwise); dates are ISO in the project's zone."""
    labels = {status.value: str(status.label) for status in DeliveryStatus}
    zone = timezone.get_default_timezone()
    to_cost, moment = converters[5], moment_reader()

    def when(text: str | None) -> str:
        return moment(text).astimezone(zone).isoformat() if text else ""

    return (
        CellCache(lambda state: labels.get(state, state)),
        CellCache(status_label),
        CellCache(
            lambda value: csv_number(to_cost(value), decimal_comma=decimal_comma)
        ),
        CellCache(when),
        CellCache(lambda key: delivery_problem(*key)),
    )


def export_header(*, campaign: Campaign) -> tuple[str, ...]:
    """`EXPORT_HEADER` with the cost's unit ("Cost (€)"), as the pages show it."""
    unit = formatting.unit_label(formatting.account_unit(campaign.account))
    cost = _("%(label)s (%(unit)s)") % {"label": _("Cost"), "unit": unit}
    return tuple(cost if label == _("Cost") else str(label) for label in EXPORT_HEADER)
