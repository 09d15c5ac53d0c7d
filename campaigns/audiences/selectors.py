"""Reads for the audience pages: lists, recipients with their suppression flag,
import progress, export rows and error reports."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)

from campaigns.models import Audience, ImportStatus, Recipient, RecipientImport
from partnerhub import search as partnerhub_search
from partnerhub.csvio import CsvError, CsvSource
from partnerhub.csvio.columns import FIELDS
from partnerhub.csvio.pipeline import judge_rows, make_plan
from partnerhub.paging import COUNT_CAP, capped_count
from unsubscribes.models import Unsubscribe
from unsubscribes.selectors import unsubscribed_addresses

from . import report, storage

EXPORT_HEADER = list(FIELDS)  # email, phone, first_name, last_name: re-importable


# Audience sizes are counted at most once a minute: counting a million-recipient
# audience on every page view costs more than the page itself, and a size a
# minute old is what a user watching an import sees anyway (the import page has
# the live figures).
SIZES_TTL = 60


def audience_sizes() -> dict[int, int]:
    """Recipients per audience id, one GROUP BY, cached for `SIZES_TTL` seconds."""
    sizes = cache.get("audience-sizes")
    if sizes is None:
        rows = Recipient.objects.order_by().values("audience").annotate(n=Count("pk"))
        sizes = {row["audience"]: row["n"] for row in rows}
        cache.set("audience-sizes", sizes, SIZES_TTL)
    return sizes


def forget_audience_sizes(audience_id: int) -> None:
    """After an import: the next page view counts again."""
    cache.delete_many(["audience-sizes", f"audience-unsubscribed-{audience_id}"])


def audience_size(*, audience: Audience) -> int:
    return audience_sizes().get(audience.pk, 0)


def audiences_with_counts() -> list[Audience]:
    """The audiences, each with its `recipient_count` (from `audience_sizes`)."""
    sizes = audience_sizes()
    audiences = list(Audience.objects.all())
    for audience in audiences:
        audience.recipient_count = sizes.get(audience.pk, 0)  # type: ignore[attr-defined]
    return audiences


def _suppressed(channel: str, field: str) -> Exists:
    return Exists(
        Unsubscribe.objects.active().filter(channel=channel, address=OuterRef(field))
    )


def audience_recipients(
    *, audience: Audience, search: str = "", flags: bool = True
) -> QuerySet[Recipient]:
    """Recipients with `email_unsubscribed` / `phone_unsubscribed` flags.

    The flags are computed (Exists on the active suppression list) rather than
    stored: the list changes on its own (syncs, STOP replies), a column would go
    stale, and dispatch checks the list at send time anyway. A page of a big
    audience asks for `flags=False` and then `flag_unsubscribed` on its rows:
    PostgreSQL plans the EXISTS for the whole audience (a hash of the entire
    unsubscribe list, 45 ms for 100,000) even when 50 rows are shown.
    """
    qs = Recipient.objects.filter(audience=audience).order_by("id")
    search = search.strip()
    if search and (not partnerhub_search.anywhere() or "@" in search[1:]):
        qs = _search_by_prefix(qs, search)
    elif search:  # PostgreSQL: every field has a trigram index
        qs = _search_anywhere(qs, search)
    if not flags:
        return qs
    return qs.annotate(
        email_unsubscribed=_suppressed("email", "email"),
        phone_unsubscribed=_suppressed("sms", "phone"),
    )


def _search_anywhere(qs: QuerySet[Recipient], search: str) -> QuerySet[Recipient]:
    """PostgreSQL: the text anywhere in the e-mail, phone or names (trigram GIN
    indexes), in id order.

    With `ORDER BY id LIMIT 50` the planner, guessing a few hundred matches,
    walks the whole primary key hoping to meet 50 of them early: 1.1 s on a
    million recipients for a search matching one. So when the matches are few
    (counted up to `COUNT_CAP`, a bounded read the paginator makes anyway) the
    order is given as `id + 0`, which no index serves: the trigram bitmap is read
    and its few rows sorted (46 ms). When they are many, the walk is the fast
    plan and is left alone.
    """
    found = qs.filter(recipient_matches(search))
    if capped_count(found) > COUNT_CAP:
        return found
    by_id = ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())
    return found.order_by(by_id.asc())


def recipient_matches(search: str) -> Q:
    """PostgreSQL: recipients with the text anywhere in their e-mail, phone or
    names, each served by its trigram index."""
    return (
        partnerhub_search.matches("email", search.lower())
        | partnerhub_search.matches("phone", typed_phone(search))
        | Q(first_name__icontains=search)
        | Q(last_name__icontains=search)
    )


def _search_by_prefix(qs: QuerySet[Recipient], search: str) -> QuerySet[Recipient]:
    """The phone (a number typed) or the e-mail beginning with the text, in that
    field's order: a range on the audience's unique index, which yields the first
    50 matches without reading or sorting the others. Always on SQLite (no
    trigram index); on PostgreSQL when an address is typed (`@` after its first
    character): its trigrams are common to most addresses (`exe`, `.fr`), so the
    GIN index reads a large part of the table (377 ms for one exact address),
    where the unique index answers in one probe."""
    phone = typed_phone(search)
    if phone.lstrip("+").isdigit():
        field, text = "phone", phone
    else:
        field, text = "email", search.lower()
    found = qs.filter(partnerhub_search.matches(field, text)).exclude(**{field: ""})
    return found.order_by(field, "id")


def typed_phone(search: str) -> str:
    """A number as stored (E.164) from how French staff type it: `06 12` is
    `+33612`."""
    phone = search.replace(" ", "").replace(".", "")
    if phone.startswith("0") and phone[1:].isdigit():
        return "+33" + phone[1:]
    return phone


def flag_unsubscribed(recipients: Sequence[Recipient]) -> None:
    """Set the two flags on a page of recipients: two indexed lookups."""
    emails = unsubscribed_addresses(
        channel="email", addresses=(r.email for r in recipients)
    )
    phones = unsubscribed_addresses(
        channel="sms", addresses=(r.phone for r in recipients)
    )
    for recipient in recipients:
        recipient.email_unsubscribed = recipient.email in emails  # type: ignore[attr-defined]
        recipient.phone_unsubscribed = recipient.phone in phones  # type: ignore[attr-defined]


def audience_unsubscribed_count(*, audience: Audience) -> int:
    """Recipients of the audience with at least one suppressed address (cached
    like the sizes: it reads the whole audience)."""
    key = f"audience-unsubscribed-{audience.pk}"
    found = cache.get(key)
    if found is None:
        found = (
            Recipient.objects.filter(audience=audience)
            .filter(_suppressed("email", "email") | _suppressed("sms", "phone"))
            .count()
        )
        cache.set(key, found, SIZES_TTL)
    return found


def audience_export_rows(*, audience: Audience) -> tuple[list[str], Iterator[list]]:
    """(header, rows) of an audience export: the four fields, then attributes.

    Attribute names are collected in a first pass so every row has every column.
    """
    recipients = Recipient.objects.filter(audience=audience).order_by("id")
    names: dict[str, None] = {}
    for attributes in recipients.values_list("attributes", flat=True).iterator(
        chunk_size=5000
    ):
        names.update(dict.fromkeys(attributes or {}))
    extra = sorted(names)

    def rows() -> Iterator[list]:
        fields = ("email", "phone", "first_name", "last_name", "attributes")
        for *values, attributes in recipients.values_list(*fields).iterator(
            chunk_size=5000
        ):
            attributes = attributes or {}
            yield [*values, *(attributes.get(name, "") for name in extra)]

    return [*EXPORT_HEADER, *extra], rows()


@dataclass(frozen=True)
class ImportProgress:
    status: str
    status_label: str
    phase: str
    percent: int
    finished: bool
    counts: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_label": self.status_label,
            "phase": self.phase,
            "percent": self.percent,
            "finished": self.finished,
            "counts": self.counts,
        }


COUNT_FIELDS = (
    "rows_read",
    "created",
    "updated",
    "duplicates",
    "invalid",
    "warnings",
    "unsubscribed",
)


def import_progress(*, recipient_import: RecipientImport) -> ImportProgress:
    """Where an import stands: parsing is 0-95 %, the merge the last 5 %."""
    imp = recipient_import
    if imp.is_finished:
        percent = 100
    elif imp.status == ImportStatus.RUNNING and imp.phase == "merging":
        percent = 95
    elif imp.status == ImportStatus.RUNNING and imp.file_size:
        percent = int(95 * min(imp.bytes_read / imp.file_size, 1))
    else:
        percent = 0
    return ImportProgress(
        status=imp.status,
        status_label=str(imp.get_status_display()),
        phase=imp.phase,
        percent=percent,
        finished=imp.is_finished,
        counts={name: getattr(imp, name) for name in COUNT_FIELDS},
    )


def import_errors(*, recipient_import: RecipientImport) -> Iterator[storage.Problem]:
    """Every rejected row and every row imported with a warning, in file order."""
    return storage.read_error_report(storage.error_report_path(recipient_import.pk))


INLINE_PROBLEMS = 20


@dataclass(frozen=True)
class ImportReport:
    """An import's outcome; `rows_read` is exactly the sum of the four outcomes."""

    rows_read: int
    created: int
    updated: int
    duplicates: int
    rejected: int
    warnings: int
    unsubscribed: int
    empty_lines: int
    problems: list[storage.Problem]

    @property
    def adds_up(self) -> bool:
        outcomes = self.created + self.updated + self.duplicates + self.rejected
        return self.rows_read == outcomes

    @property
    def more_problems(self) -> int:
        """Problems in the download beyond those shown on the page."""
        return max(0, self.rejected + self.warnings - len(self.problems))


def import_report(*, recipient_import: RecipientImport) -> ImportReport:
    """The result page's figures and its first `INLINE_PROBLEMS` problems."""
    imp = recipient_import
    return ImportReport(
        rows_read=imp.rows_read,
        created=imp.created,
        updated=imp.updated,
        duplicates=imp.duplicates,
        rejected=imp.invalid,
        warnings=imp.warnings,
        unsubscribed=imp.unsubscribed,
        empty_lines=imp.empty_lines,
        problems=list(islice(import_errors(recipient_import=imp), INLINE_PROBLEMS)),
    )


@dataclass(frozen=True)
class PreviewRow:
    """A row of the preview table, with what the import will do with it."""

    line: int
    cells: list[str]
    problem: storage.Problem | None

    @property
    def rejected(self) -> bool:
        return self.problem is not None and not self.problem.warning

    @property
    def reason(self) -> Any:
        return report.reason(self.problem) if self.problem else ""


def import_preview_rows(
    source: CsvSource, mapping: dict[int, str], limit: int
) -> list[PreviewRow]:
    """The first rows, each judged as the import will judge it with `mapping`.

    A mapping the import would refuse (no address column…) judges nothing:
    the form says what to fix.
    """
    records = source.preview_records(limit)
    try:
        judged = judge_rows(make_plan(source, mapping, "any"), records)
    except CsvError:
        judged = {}
    width = source.width
    rows = []
    for line, cells, _code in records:
        found = judged.get(line)
        problem = None
        if found is not None:
            error, warned = found
            outcome = storage.WARNED if warned else storage.REJECTED
            problem = storage.Problem(line, error.code, error.raw, outcome)
        rows.append(PreviewRow(line, (cells + [""] * width)[:width], problem))
    return rows


def audience_imports(*, audience: Audience, limit: int = 10) -> QuerySet:
    return RecipientImport.objects.filter(audience=audience)[:limit]
