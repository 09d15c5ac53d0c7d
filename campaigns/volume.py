"""Messages handed to the providers per day and channel, for the home page chart.

Read from the dispatch batches (one row per 500 messages), not the deliveries, so
the home stays one small query however many messages left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import BatchStatus, Channel, DispatchBatch

PARIS = ZoneInfo("Europe/Paris")
DAYS = 30
BAR = 10  # SVG units per day
HEIGHT = 40


@dataclass(frozen=True)
class ChannelVolume:
    channel: str
    label: str
    total: int
    per_day: list[tuple[date, int]]  # oldest first, every day of the period

    @property
    def svg(self) -> SafeString:
        """Bars on a shared scale of this channel's busiest day."""
        top = max((n for _d, n in self.per_day), default=0) or 1
        bars = []
        for i, (day, count) in enumerate(self.per_day):
            height = round(HEIGHT * count / top, 1) if count else 0
            tip = _("%(day)s: %(count)s messages") % {
                "day": date_format(day, "SHORT_DATE_FORMAT"),
                "count": number_format(count, force_grouping=True),
            }
            bars.append((i * BAR + 1, HEIGHT - height, BAR - 2, height, tip))
        return format_html(
            '<svg class="ph-volume-bars" viewBox="0 0 {} {}" preserveAspectRatio="none"'
            ' role="img" aria-label="{}">{}</svg>',
            DAYS * BAR,
            HEIGHT,
            self.summary,
            format_html_join(
                "",
                '<rect x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
                bars,
            ),
        )

    @property
    def summary(self) -> str:
        return ngettext(
            "%(count)s message in %(days)s days",
            "%(count)s messages in %(days)s days",
            self.total,
        ) % {"count": number_format(self.total, force_grouping=True), "days": DAYS}


def daily_volume(days: int = DAYS) -> list[ChannelVolume]:
    """Each channel's messages accepted by the provider, day by day (Paris days)."""
    today = timezone.localtime(timezone.now(), PARIS).date()
    first = today - timedelta(days=days - 1)
    rows = (
        DispatchBatch.objects.filter(
            status=BatchStatus.ACCEPTED,
            sent_at__gte=timezone.now() - timedelta(days=days + 1),
        )
        .annotate(day=TruncDate("sent_at", tzinfo=PARIS))
        .values_list("campaign__channel", "day")
        .annotate(n=Sum("size"))
        .order_by()
    )
    counts: dict[tuple[str, date], int] = {}
    for channel, day, n in rows:
        if day >= first:
            counts[(channel, day)] = counts.get((channel, day), 0) + (n or 0)
    period = [first + timedelta(days=i) for i in range(days)]
    return [
        ChannelVolume(
            value,
            str(label),
            sum(counts.get((value, d), 0) for d in period),
            [(d, counts.get((value, d), 0)) for d in period],
        )
        for value, label in Channel.choices
    ]
