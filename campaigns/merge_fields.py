"""Merge fields: `#FIRSTNAME#`, `#LASTNAME#` and the audience's imported columns.

One vocabulary for the whole content path: which placeholders a text holds, which
fields an audience offers, each recipient's values (its fallback when empty), and
the rendered text. The providers do the rest differently (providers.md): SMS
Partner takes one text per number (`/bulk-send`), Mail Partner one set of
`variables` per request, Voice Partner one text per request; the dispatch groups
recipients accordingly (`group_key`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connections, router
from django.db.models import Count, F, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext_lazy as _

from .models import Channel, Recipient

if TYPE_CHECKING:
    from .models import Audience, Campaign

PLACEHOLDER = re.compile(r"#([A-Z0-9_]{1,40})#")
PLACEHOLDER_NAME = re.compile(r"[A-Z0-9_]{1,40}")
FIRSTNAME, LASTNAME = "FIRSTNAME", "LASTNAME"
BUILT_IN = {FIRSTNAME: "first_name", LASTNAME: "last_name"}
# Mail Partner's own placeholders (providers.md §4.1): left for the provider.
PROVIDER_PLACEHOLDERS = frozenset({"UNSUBSCRIBE_LINK", "READ_ONLINE"})
# Mail Partner takes at most 8 `variables` per request (providers.md §4.1).
MAX_EMAIL_FIELDS = 8
CONTENT_FIELDS: dict[str, tuple[str, ...]] = {
    Channel.EMAIL: ("subject", "html", "text"),
    Channel.SMS: ("text",),
    Channel.VOICE: ("text",),
}
UNKNOWN_FIELD = _(
    "%(fields)s is not a merge field of this audience. Available: %(available)s."
)
TOO_MANY_EMAIL_FIELDS = _(
    "An email can use at most %(max)s different merge fields (the provider's "
    "limit); this one uses %(count)s."
)


def field_name(column: str) -> str:
    """The placeholder name of an imported column: `code postal` -> CODE_POSTAL."""
    plain = unicodedata.normalize("NFKD", column).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "_", plain.upper()).strip("_")[:40]


def placeholders(text: str, channel: str = Channel.SMS) -> list[str]:
    """The merge fields a text uses, in order, each once (provider ones left out)."""
    found = dict.fromkeys(PLACEHOLDER.findall(text or ""))
    if channel == Channel.EMAIL:
        found = {name: None for name in found if name not in PROVIDER_PLACEHOLDERS}
    return list(found)


def campaign_fields(campaign: Campaign) -> list[str]:
    """Every merge field the campaign's content uses (subject, body, text)."""
    names: dict[str, None] = {}
    for attr in CONTENT_FIELDS[campaign.channel]:
        names.update(
            dict.fromkeys(placeholders(getattr(campaign, attr), Channel.EMAIL))
        )
    if campaign.channel == Channel.VOICE and campaign.voice_audio_token:
        return []  # an audio file is played instead of the text
    return list(names)


def is_personalised(campaign: Campaign) -> bool:
    return bool(campaign_fields(campaign))


def attribute_keys(audience: Audience | int) -> list[str]:
    """Every attribute key seen in the audience, read by the database (JSON)."""
    audience_id = audience if isinstance(audience, int) else audience.pk
    alias = router.db_for_read(Recipient)
    connection = connections[alias]
    table = connection.ops.quote_name(Recipient._meta.db_table)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT DISTINCT jsonb_object_keys(attributes) FROM {table} "  # noqa: S608
            "WHERE audience_id = %s AND jsonb_typeof(attributes) = 'object'"
        )
    else:
        sql = (
            f"SELECT DISTINCT j.key FROM {table} r, json_each(r.attributes) j "  # noqa: S608
            "WHERE r.audience_id = %s AND json_type(r.attributes) = 'object'"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [audience_id])
        return sorted(str(row[0]) for row in cursor.fetchall())


def audience_fields(audience: Audience | int) -> dict[str, str]:
    """Placeholder name -> source (`first_name`, `last_name` or `attr:<key>`)."""
    fields = dict(BUILT_IN)
    for key in attribute_keys(audience):
        name = field_name(key)
        if name and name not in fields:
            fields[name] = f"attr:{key}"
    return fields


def problems(campaign: Campaign) -> list[tuple[str, Any]]:
    """(content field, error message) for unknown merge fields and provider limits."""
    used = campaign_fields(campaign)
    if not campaign.audience_id or not used:
        return []
    # The audience's columns are read (a scan of its attributes) only when needed.
    known = (
        dict(BUILT_IN)
        if all(name in BUILT_IN for name in used)
        else audience_fields(campaign.audience_id)
    )
    found: list[tuple[str, Any]] = []
    for attr in CONTENT_FIELDS[campaign.channel]:
        found_here = placeholders(getattr(campaign, attr), campaign.channel)
        unknown = [name for name in found_here if name not in known]
        if unknown:
            message = UNKNOWN_FIELD % {
                "fields": ", ".join(f"#{n}#" for n in unknown),
                "available": ", ".join(f"#{n}#" for n in known),
            }
            found.append((attr, message))
    if campaign.channel == Channel.EMAIL and len(used) > MAX_EMAIL_FIELDS:
        message = TOO_MANY_EMAIL_FIELDS % {"max": MAX_EMAIL_FIELDS, "count": len(used)}
        found.append(("html", message))
    return found


def render(text: str, values: Mapping[str, str]) -> str:
    """The text with each known placeholder replaced; others are left as they are."""
    if not values or "#" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class Plan:
    """How one campaign's recipients are personalised: used fields, their sources."""

    fields: tuple[str, ...]
    sources: tuple[str, ...]  # the `audience_fields` source of each field
    fallbacks: tuple[str, ...]

    @property
    def lookups(self) -> tuple[str, ...]:
        """`values_list` names of the sources, relative to a Recipient."""
        return tuple(_lookup(s) for s in self.sources)

    def values(self, raw: Sequence[Any]) -> dict[str, str]:
        """The recipient's values for the fields, each fallback when empty."""
        return {
            name: _text(value) or fallback
            for name, value, fallback in zip(
                self.fields, raw, self.fallbacks, strict=True
            )
        }

    def annotations(self, prefix: str = "") -> dict[str, Any]:
        """One `mf_<i>` text expression per field, for grouping in the database."""
        return {
            f"mf_{i}": _expression(source, prefix)
            for i, source in enumerate(self.sources)
        }


def plan_for(campaign: Campaign) -> Plan | None:
    """None for a campaign without merge fields: it keeps the plain path."""
    used = campaign_fields(campaign)
    if not used:
        return None
    known = (
        audience_fields(campaign.audience_id)
        if any(n not in BUILT_IN for n in used)
        else dict(BUILT_IN)
    )
    fallbacks = campaign.merge_fallbacks or {}
    return Plan(
        fields=tuple(used),
        sources=tuple(known.get(n, f"attr:{n.lower()}") for n in used),
        fallbacks=tuple(str(fallbacks.get(n, "")) for n in used),
    )


def _lookup(source: str) -> str:
    return f"attributes__{source[5:]}" if source.startswith("attr:") else source


def _expression(source: str, prefix: str) -> Any:
    if source.startswith("attr:"):  # one key, whatever characters it holds
        return KeyTextTransform(source[5:], f"{prefix}attributes")
    return F(f"{prefix}{source}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def sample_recipients(campaign: Campaign, *, limit: int = 20) -> QuerySet[Recipient]:
    """Recipients to preview with: the first ones reachable on the channel."""
    field = campaign.address_field
    return campaign.audience.recipients.exclude(**{field: ""}).order_by("id")[:limit]


def recipient_values(campaign: Campaign, recipient: Recipient | None) -> dict[str, str]:
    """A recipient's values for the campaign's fields ({} if it has none)."""
    plan = plan_for(campaign)
    if plan is None:
        return {}
    if recipient is None:
        return dict(zip(plan.fields, plan.fallbacks, strict=True))
    raw = [_source_value(recipient, s) for s in plan.sources]
    return plan.values(raw)


def _source_value(recipient: Recipient, source: str) -> Any:
    if source.startswith("attr:"):
        attributes = (
            recipient.attributes if isinstance(recipient.attributes, dict) else {}
        )
        return attributes.get(source[5:])
    return getattr(recipient, source)


def empty_counts(campaign: Campaign, recipients: QuerySet[Recipient]) -> dict[str, int]:
    """How many of these recipients have no value for each field (fallback used)."""
    plan = plan_for(campaign)
    if plan is None:
        return {}
    names = plan.annotations()
    blanks = {
        f"empty_{name}": Count(
            "id", filter=Q(**{f"{name}__isnull": True}) | Q(**{name: ""})
        )
        for name in names
    }
    found = recipients.annotate(**names).aggregate(**blanks)
    return {
        field: found[f"empty_{name}"] or 0
        for field, name in zip(plan.fields, names, strict=True)
    }


def grouped_values(
    plan: Plan, recipients: QuerySet[Recipient]
) -> Iterable[tuple[dict[str, str], int]]:
    """(values, how many recipients) per distinct set of values, grouped by SQL."""
    names = plan.annotations()
    rows = (
        recipients.order_by()
        .annotate(**names)
        .values(*names)
        .annotate(n=Count("id"))
        .values_list(*names, "n")
    )
    for row in rows:
        yield plan.values(row[:-1]), row[-1]


@dataclass(frozen=True)
class Sample:
    """A recipient to preview with, and its raw value for every field."""

    id: int
    label: str
    values: dict[str, str]


@dataclass(frozen=True)
class AudienceSummary:
    """What the composer offers for an audience: fields, empties, samples."""

    fields: list[str]
    empty: dict[str, int]  # recipients reachable on the channel with no value
    samples: list[Sample]
    total: int = 0  # recipients reachable on the channel

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "fields": self.fields,
            "empty": self.empty,
            "samples": [
                {"id": s.id, "label": s.label, "values": s.values} for s in self.samples
            ],
        }


def audience_summary(
    audience: Audience, channel: str, *, samples: int = 20
) -> AudienceSummary:
    """Every field of the audience with its empty count, and the first recipients.

    Three queries whatever the audience's size: the attribute keys, one
    aggregate counting the empty values of every field, the sample rows.
    """
    fields = audience_fields(audience)
    plan = Plan(tuple(fields), tuple(fields.values()), ("",) * len(fields))
    address = "email" if channel == Channel.EMAIL else "phone"
    reachable = audience.recipients.exclude(**{address: ""})
    names = plan.annotations()
    blanks = {
        f"empty_{name}": Count(
            "id", filter=Q(**{f"{name}__isnull": True}) | Q(**{name: ""})
        )
        for name in names
    }
    found = reachable.annotate(**names).aggregate(total=Count("id"), **blanks)
    empty = {
        field: found[f"empty_{name}"] or 0
        for field, name in zip(plan.fields, names, strict=True)
    }
    rows = reachable.order_by("id").annotate(**names)[:samples]
    picked = [
        Sample(pk, _sample_label(first, last, addr), plan.values(raw))
        for pk, first, last, addr, *raw in rows.values_list(
            "id", "first_name", "last_name", address, *names
        )
    ]
    return AudienceSummary(list(fields), empty, picked, found["total"] or 0)


def _sample_label(first: str, last: str, address: str) -> str:
    name = f"{first} {last}".strip()
    return f"{name} <{address}>" if name else address
