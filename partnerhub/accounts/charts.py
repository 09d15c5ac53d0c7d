"""Credit history charts as hand-written SVG (no JavaScript, no CDN).

The server draws the balance line from the snapshots and marks the credit moves;
the same figures go into an accessible table beside the chart, so nothing is
conveyed by the picture alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from partnerhub import formatting
from partnerhub.models import CreditMove, CreditSnapshot, ProviderAccount
from partnerhub.templatetags.credits import account_unit, unit_label

RANGES = (7, 30, 90)
MAX_POINTS = 360  # enough for a 640-unit-wide line
COMPACT_POINTS = 60
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class DayRow:
    """One line of the accessible table: the last balance of a day and its moves."""

    day: datetime
    balance: Decimal | None
    moves: list[CreditMove]


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    rows: list[DayRow]
    days: int
    points: int


def clean_days(raw: object) -> int:
    try:
        days = int(str(raw))
    except ValueError:
        return DEFAULT_DAYS
    return days if days in RANGES else DEFAULT_DAYS


def moves_for(account: ProviderAccount) -> QuerySet[CreditMove]:
    """Moves that changed this account: its own, or its sub-accounts' for a main."""
    where = Q(account=account) | Q(account__parent=account)
    return CreditMove.objects.filter(where).select_related("account", "actor")


def balance_chart(
    account: ProviderAccount,
    *,
    days: int = DEFAULT_DAYS,
    width: int = 640,
    height: int = 220,
    compact: bool = False,
) -> Chart:
    now = timezone.now()
    start = now - timedelta(days=days)
    snaps = list(
        CreditSnapshot.objects.filter(account=account, taken_at__gte=start)
        .order_by("taken_at")
        .values_list("taken_at", "credits")
    )
    moves = list(moves_for(account).filter(created_at__gte=start))
    line = _thin(snaps, COMPACT_POINTS if compact else MAX_POINTS)
    svg = _svg(account, line, moves, start, now, width, height, compact)
    rows = [] if compact else _rows(snaps, moves)
    return Chart(svg=svg, rows=rows, days=days, points=len(snaps))


def _thin(
    snaps: list[tuple[datetime, Decimal]], limit: int
) -> list[tuple[datetime, Decimal]]:
    """At most about `limit` points (hourly readings over 90 days are 2,000+):
    the lowest and highest of each slice, so dips and top-ups stay visible."""
    if len(snaps) <= limit:
        return snaps
    size = -(-len(snaps) * 2 // limit)  # ceil: two points kept per slice
    kept: list[tuple[datetime, Decimal]] = []
    for i in range(0, len(snaps), size):
        part = snaps[i : i + size]
        low, high = min(part, key=lambda p: p[1]), max(part, key=lambda p: p[1])
        kept.extend(sorted({low, high}, key=lambda p: p[0]))
    if kept[-1] != snaps[-1]:
        kept.append(snaps[-1])
    return kept


def _rows(
    snaps: list[tuple[datetime, Decimal]], moves: list[CreditMove]
) -> list[DayRow]:
    zone = timezone.get_current_timezone()
    last: dict[date, tuple[datetime, Decimal]] = {}
    for taken_at, credits in snaps:
        last[taken_at.astimezone(zone).date()] = (taken_at, credits)
    by_day: dict[date, list[CreditMove]] = {}
    for move in moves:
        by_day.setdefault(move.created_at.astimezone(zone).date(), []).append(move)
    days = sorted(set(last) | set(by_day), reverse=True)
    return [
        DayRow(
            day=last[d][0] if d in last else by_day[d][0].created_at,
            balance=last[d][1] if d in last else None,
            moves=by_day.get(d, []),
        )
        for d in days
    ]


def _svg(
    account: ProviderAccount,
    snaps: list[tuple[datetime, Decimal]],
    moves: list[CreditMove],
    start: datetime,
    end: datetime,
    width: int,
    height: int,
    compact: bool,
) -> SafeString:
    unit = unit_label(account_unit(account))
    title = _("Credit of %(account)s over %(days)s days, in %(unit)s") % {
        "account": account.name,
        "days": (end - start).days,
        "unit": unit,
    }
    if not snaps:
        return format_html(
            '<p class="ac-chart-empty">{}</p>',
            _("No balance recorded in this period yet."),
        )
    left, right, top, bottom = (4, 4, 6, 6) if compact else (70, 12, 12, 28)
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for _, v in snaps]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return left + plot_w * (at - start).total_seconds() / span

    def y(value: float) -> float:
        return top + plot_h * (1 - (value - low) / (high - low))

    points = " ".join(f"{x(at):.1f},{y(float(v)):.1f}" for at, v in snaps)
    parts = [
        format_html(
            '<svg class="ac-chart{}" viewBox="0 0 {} {}" role="img" '
            'aria-label="{}"{}><title>{}</title>',
            " ac-chart-compact" if compact else "",
            width,
            height,
            title,
            mark_safe(' preserveAspectRatio="none"') if compact else "",
            title,
        )
    ]
    if not compact:
        parts.append(_axes(left, top, plot_w, plot_h, low, high, start, end))
    parts.append(_move_marks(moves, x, top, plot_h, compact))
    parts.append(
        format_html('<polyline class="ac-line" points="{}" />', points),
    )
    last_at, last_value = snaps[-1]
    parts.append(
        format_html(
            '<circle class="ac-last" cx="{}" cy="{}" r="3" />',
            _n(x(last_at)),
            _n(y(float(last_value))),
        )
    )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - parts are escaped above


def _axes(
    left: int,
    top: int,
    plot_w: int,
    plot_h: int,
    low: float,
    high: float,
    start: datetime,
    end: datetime,
) -> SafeString:
    bottom = top + plot_h
    labels = (
        (top + 4, formatting.count(high)),
        (bottom, formatting.count(low)),
    )
    return format_html(
        '<g class="ac-axes"><line x1="{l}" y1="{t}" x2="{l}" y2="{b}" />'
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" />{labels}'
        '<text x="{l}" y="{below}" text-anchor="start">{first}</text>'
        '<text x="{r}" y="{below}" text-anchor="end">{last}</text></g>',
        l=left,
        t=top,
        b=bottom,
        r=left + plot_w,
        below=bottom + 18,
        labels=format_html_join(
            "",
            '<text x="{}" y="{}" text-anchor="end">{}</text>',
            ((left - 6, at, text) for at, text in labels),
        ),
        first=date_format(timezone.localtime(start), "SHORT_DATE_FORMAT"),
        last=date_format(timezone.localtime(end), "SHORT_DATE_FORMAT"),
    )


def _move_marks(
    moves: list[CreditMove], x: object, top: int, plot_h: int, compact: bool
) -> SafeString:
    """A dashed vertical line per move, its kind and amount in a tooltip."""
    assert callable(x)
    return format_html_join(
        "",
        '<g class="ac-move ac-move-{}"><title>{}</title>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" />'
        '<circle cx="{}" cy="{}" r="{}" /></g>',
        (
            (
                move.kind,
                f"{move.get_kind_display()} · {move.account.name} · "
                f"{formatting.money(move.amount, move.unit)} · "
                + _when(move.created_at),
                _n(x(move.created_at)),
                top,
                _n(x(move.created_at)),
                top + plot_h,
                _n(x(move.created_at)),
                top + 4,
                2 if compact else 4,
            )
            for move in moves
        ),
    )


def _when(at: datetime) -> str:
    return date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")


def _n(value: float) -> str:
    """Coordinates with one decimal (format_html escapes numbers to strings)."""
    return f"{value:.1f}"
