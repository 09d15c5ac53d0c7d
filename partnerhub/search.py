"""Search in lists of a million rows, backed by an index on every database.

PostgreSQL finds the text anywhere in a field: `LIKE '%…%'` on the field as
stored (lower-case e-mails, E.164 phones), served by a `pg_trgm` GIN index
(created by the migrations only there). SQLite has no such index: a `LIKE` with
a leading `%` reads every row, so there a search finds fields *beginning* with the
text, as a range on the field's B-tree index (`field >= text AND field < text +
U+10FFFF`), which is what the search box's help says (`help_text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_AFTER_EVERY_PREFIXED = "\U0010ffff"  # sorts after any text that starts the same


def anywhere() -> bool:
    """True when a search finds the text anywhere (trigram index), not only at
    the start of the field."""
    return connection.vendor == "postgresql"


def matches(field: str, text: str) -> Q:
    """Rows whose `field` contains (PostgreSQL) or starts with (SQLite) `text`,
    compared as stored (case-sensitive: pass it normalised as the field is)."""
    if anywhere():
        return Q(**{f"{field}__contains": text})
    return begins_with(field, text)


def begins_with(field: str, text: str) -> Q:
    """Rows whose `field` begins with `text`, as a range its B-tree index serves.

    Exact in code-point order (SQLite, PostgreSQL's `C` collations); under a
    linguistic collation add `__startswith` to drop what the range lets in."""
    return Q(**{f"{field}__gte": text, f"{field}__lt": text + _AFTER_EVERY_PREFIXED})


def help_text(anywhere_in: StrOrPromise | None = None) -> str:
    """What the search box finds on this database; `anywhere_in` names the
    fields searched on PostgreSQL (the address by default)."""
    if anywhere():
        fields = anywhere_in or _("the address")
        return str(
            _("Finds what you type anywhere in %(fields)s.") % {"fields": fields}
        )
    return str(
        _("Finds the addresses that begin with what you type (client12, 06 12…).")
    )
