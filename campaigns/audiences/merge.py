"""Merge validated rows into an audience: new rows staged, duplicates matched.

While the file is parsed, `Merger.split` sends each row whose addresses were
never seen (in the audience or earlier in the file) to the staging table, and
keeps the others (the duplicates, and ~1 % false positives of the filter) for
matching. The merge transaction then inserts the staged rows in one statement
(`staging`) and matches the kept rows batch by batch, in file order. A kept
row never shares an address with a later staged row (the later row would have
been kept too), so inserting the staged rows first gives the same result as
merging the file line by line.

A row joins the recipient that already has its email (normalised), else the
one that has its phone (E.164); otherwise it creates one. Earlier batches are
already written (in the same transaction), so duplicates across the whole file
and against the audience are found by the same lookups. A joined row fills an
address the recipient lacked (if no other recipient holds it) and, in update
mode, overwrites names and attributes with its non-empty values; in skip mode
the first values win. Writes are raw `executemany` calls: the ORM's per-object
cost would dominate a million-row import.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

from campaigns.models import ImportMode, Recipient
from partnerhub.csvio.export import FORMULA_STARTS
from unsubscribes.models import Unsubscribe
from unsubscribes.selectors import unsubscribed_addresses

from .storage import SpoolRow

if TYPE_CHECKING:
    from .staging import Staging

# Stay under SQLite's bound-parameter limit.
_LOOKUP_CHUNK = 900


class KeyFilter:
    """A Bloom filter of the addresses already in the audience or in this import.

    Nearly every row of a big import is new: asking the database about each
    one would cost more than inserting it. A key not in the filter is certainly
    new; only the rest (real duplicates, ~1 % false positives) is looked up. Two
    bits per key from Python's 64-bit string hash; 16 bits per expected key.
    """

    def __init__(self, expected_keys: int) -> None:
        self.size = max(1 << 20, 16 * expected_keys)
        self.bits = bytearray(self.size // 8 + 1)

    def add(self, key: str) -> None:
        h = hash(key) & 0xFFFFFFFFFFFFFFFF
        a, b = h % self.size, (h >> 32) % self.size
        self.bits[a >> 3] |= 1 << (a & 7)
        self.bits[b >> 3] |= 1 << (b & 7)

    def __contains__(self, key: str) -> bool:
        h = hash(key) & 0xFFFFFFFFFFFFFFFF
        a, b = h % self.size, (h >> 32) % self.size
        bits = self.bits
        return bool(bits[a >> 3] & (1 << (a & 7)) and bits[b >> 3] & (1 << (b & 7)))


@dataclass
class Counts:
    """What the merge did with the valid rows, each row counted once.

    `matched` counts rows that joined a recipient already in the audience or
    created earlier in this file. Each existing recipient the file changed is
    one "updated" row (the first that changed it); every other matched row is
    a duplicate. Hence valid rows = created + updated + duplicates.
    `unsubscribed` is not a row outcome: it counts the created or matched
    recipients whose address is on the suppression list, at most once each.
    """

    created: int = 0
    matched: int = 0
    unsubscribed: int = 0
    updated_ids: set[int] = field(default_factory=set)

    @property
    def updated(self) -> int:
        return len(self.updated_ids)

    @property
    def duplicates(self) -> int:
        return self.matched - self.updated


@dataclass(slots=True)
class _Target:
    """A recipient being built or changed by this batch."""

    id: int | None
    email: str
    phone: str
    first_name: str
    last_name: str
    attributes: dict[str, str]
    dirty: bool = False


def unescape(value: str) -> str:
    """Undo the export's formula defusing (`'=x` → `=x`), so exports re-import."""
    if value[:1] == "'" and value[1:2] and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


class Merger:
    """Merges one import into one audience.

    `first_new_id` (set when the merge transaction starts) splits recipients
    that were there before from those this import created.
    """

    def __init__(self, *, audience_id: int, mode: str, expected_keys: int) -> None:
        self.audience_id = audience_id
        self.update = mode == ImportMode.UPDATE
        self.first_new_id = 0
        self.counts = Counts()
        self.by_email: dict[str, _Target] = {}
        self.by_phone: dict[str, _Target] = {}
        self.known = KeyFilter(expected_keys)
        # Existing recipients matched so far: each is checked against the
        # suppression list once, however many batches repeat it.
        self.seen_old: set[int] = set()
        # An empty suppression list for a channel spares a query per batch.
        self.suppressing = {
            channel: Unsubscribe.objects.active().filter(channel=channel).exists()
            for channel in ("email", "sms")
        }
        self.primed_at: datetime | None = None
        self.primed_last_id = 0

    def prime(self) -> None:
        """Put the audience's current addresses in the filter (one streamed read).

        It runs before the parse, outside the merge transaction: what changes
        in the audience meanwhile is found again by `take_late_duplicates`.
        """
        table = connection.ops.quote_name(Recipient._meta.db_table)
        add = self.known.add
        self.primed_at = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, email, phone FROM {table} WHERE audience_id = %s",  # noqa: S608
                [self.audience_id],
            )
            last = 0
            while found := cursor.fetchmany(5000):
                for pk, email, phone in found:
                    last = max(last, pk)
                    if email:
                        add(email)
                    if phone:
                        add(phone)
        self.primed_last_id = last

    def split(self, rows: Sequence[SpoolRow]) -> tuple[list[SpoolRow], list[SpoolRow]]:
        """(rows whose addresses were never seen: to stage, rows to match)."""
        fresh, rest, _emails, _phones = self._split(rows)
        if self.suppressing["email"] or self.suppressing["sms"]:
            self.counts.unsubscribed += self._unsubscribed_among(
                [_Target(None, r[1] or "", r[2] or "", "", "", {}) for r in fresh]
            )
        return fresh, rest

    def take_late_duplicates(self, staging: Staging) -> list[SpoolRow]:
        """Staged rows whose address reached the audience after `prime`.

        Someone added or edited a recipient while the file was parsed: the
        rows that now duplicate it leave the staging table, to be matched
        (before the kept rows: no kept row precedes them sharing an address).
        Called inside the merge transaction; usually one indexed query, empty.
        """
        table = connection.ops.quote_name(Recipient._meta.db_table)
        # A margin for edits saved just before the prime but committed after.
        since = (self.primed_at or timezone.now()) - timedelta(minutes=5)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT email, phone FROM {table} WHERE audience_id = %s "  # noqa: S608
                "AND (id > %s OR updated_at >= %s)",
                [
                    self.audience_id,
                    self.primed_last_id,
                    connection.ops.adapt_datetimefield_value(since),
                ],
            )
            changed = cursor.fetchall()
        emails = {email for email, _phone in changed if email}
        phones = {phone for _email, phone in changed if phone}
        late = staging.take(emails, phones)
        # Counted as new when staged; `merge` counts them again as it matches.
        self.counts.unsubscribed -= self._unsubscribed_among(
            [_Target(None, r[1] or "", r[2] or "", "", "", {}) for r in late]
        )
        return late

    def insert_staged(self, staging: Staging) -> None:
        """The staged rows become recipients (one statement, email order)."""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        self.counts.created += staging.insert_into_audience(self.audience_id, now)

    def merge(self, rows: Sequence[SpoolRow]) -> None:
        """Match one batch of kept rows (file order) against the audience."""
        emails = [row[1] for row in rows if row[1]]
        phones = [row[2] for row in rows if row[2]]
        self._load(emails, phones)
        self._match_rest(rows)

    def _match_rest(self, rest: Sequence[SpoolRow]) -> None:
        """Rows with an address seen before: join their recipient or create one."""
        created: list[_Target] = []
        touched: list[_Target] = []
        for _line, email, phone, first, last, attributes in rest:
            target = self._match(email or "", phone or "")
            values = (unescape(first), unescape(last), _unescape_all(attributes))
            if not target:
                created.append(self._create(email or "", phone or "", *values))
                continue
            self.counts.matched += 1
            old_id = target.id if (target.id or 0) < self.first_new_id else None
            if old_id is not None and old_id not in self.seen_old:
                self.seen_old.add(old_id)
                touched.append(target)
            self._join(target, email or "", phone or "", *values)
        self.counts.created += len(created)
        self.counts.unsubscribed += self._unsubscribed_among([*created, *touched])
        self._write(created)

    def _split(
        self, rows: Sequence[SpoolRow]
    ) -> tuple[list[SpoolRow], list[SpoolRow], list[str], list[str]]:
        """(rows with unseen addresses, other rows, addresses to look up).

        The filter's test-and-set is inlined (one hash per address): this loop
        runs once per row of the file. Emails and phones share the filter
        unprefixed: no email (it has an `@`) equals an E.164 phone.
        """
        bits, size = self.known.bits, self.known.size
        fresh: list[SpoolRow] = []
        rest: list[SpoolRow] = []
        emails: list[str] = []
        phones: list[str] = []
        for row in rows:
            email, phone = row[1], row[2]
            seen = False
            if email:
                h = hash(email) & 0xFFFFFFFFFFFFFFFF
                a, b = h % size, (h >> 32) % size
                ma, mb = 1 << (a & 7), 1 << (b & 7)
                if bits[a >> 3] & ma and bits[b >> 3] & mb:
                    seen = True
                    emails.append(email)
                else:
                    bits[a >> 3] |= ma
                    bits[b >> 3] |= mb
            if phone:
                h = hash(phone) & 0xFFFFFFFFFFFFFFFF
                a, b = h % size, (h >> 32) % size
                ma, mb = 1 << (a & 7), 1 << (b & 7)
                if bits[a >> 3] & ma and bits[b >> 3] & mb:
                    seen = True
                    phones.append(phone)
                else:
                    bits[a >> 3] |= ma
                    bits[b >> 3] |= mb
            (rest if seen else fresh).append(row)
        return fresh, rest, emails, phones

    def _match(self, email: str, phone: str) -> _Target | None:
        """The recipient with this email, else the one with this phone.

        A phone match whose recipient has another email is no match: the row
        becomes a recipient of its own (without the phone) rather than losing
        its email address.
        """
        if email and (target := self.by_email.get(email)):
            return target
        target = self.by_phone.get(phone) if phone else None
        if target and email and target.email:
            return None
        return target

    def _load(self, emails: list[str], phones: list[str]) -> None:
        """Fetch the audience's recipients holding any of these addresses."""
        self.by_email, self.by_phone = {}, {}
        for name, values in (("email", emails), ("phone", phones)):
            values = list(dict.fromkeys(values))
            for start in range(0, len(values), _LOOKUP_CHUNK):
                for row in _lookup(
                    self.audience_id, name, values[start : start + _LOOKUP_CHUNK]
                ):
                    self._remember(_Target(*row))

    def _remember(self, target: _Target) -> None:
        """Index a target by its addresses (an already indexed one is kept)."""
        if target.email:
            target = self.by_email.setdefault(target.email, target)
        if target.phone:
            self.by_phone.setdefault(target.phone, target)

    def _create(
        self, email: str, phone: str, first: str, last: str, attributes: dict
    ) -> _Target:
        if phone and phone in self.by_phone:
            phone = ""  # held by another recipient (whose email differs)
        target = _Target(None, email, phone, first, last, dict(attributes))
        self._remember(target)
        return target

    def _join(
        self,
        target: _Target,
        email: str,
        phone: str,
        first: str,
        last: str,
        attributes: dict[str, str],
    ) -> None:
        """Fold a duplicate row into its recipient, per the mode."""
        if email and not target.email and email not in self.by_email:
            target.email, target.dirty = email, True
            self.by_email[email] = target
        if phone and not target.phone and phone not in self.by_phone:
            target.phone, target.dirty = phone, True
            self.by_phone[phone] = target
        if self.update:
            self._overwrite(target, first, last, attributes)

    def _overwrite(
        self, target: _Target, first: str, last: str, attributes: dict[str, str]
    ) -> None:
        """Non-empty file values replace the recipient's (update mode)."""
        if first and first != target.first_name:
            target.first_name, target.dirty = first, True
        if last and last != target.last_name:
            target.last_name, target.dirty = last, True
        extra = {key: value for key, value in attributes.items() if value}
        if any(target.attributes.get(key) != value for key, value in extra.items()):
            target.attributes = {**target.attributes, **extra}
            target.dirty = True

    def _unsubscribed_among(self, targets: list[_Target]) -> int:
        """How many of these recipients have their email or phone suppressed."""
        if not targets or not (self.suppressing["email"] or self.suppressing["sms"]):
            return 0
        emails: set[str] | frozenset[str] = frozenset()
        phones: set[str] | frozenset[str] = frozenset()
        if self.suppressing["email"]:
            emails = unsubscribed_addresses(
                channel="email", addresses=(t.email for t in targets)
            )
        if self.suppressing["sms"]:
            phones = unsubscribed_addresses(
                channel="sms", addresses=(t.phone for t in targets)
            )
        if not (emails or phones):
            return 0
        return sum(1 for t in targets if t.email in emails or t.phone in phones)

    def _write(self, created: list[_Target]) -> None:
        """Insert the new recipients and update the changed existing ones."""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        changed = {
            id(t): t
            for t in (*self.by_email.values(), *self.by_phone.values())
            if t.dirty and t.id is not None
        }.values()
        for target in changed:
            if target.id is not None and target.id < self.first_new_id:  # see above
                self.counts.updated_ids.add(target.id)
        _insert(self.audience_id, created)
        _update(changed, now)


def _lookup(audience_id: int, name: str, values: list[str]) -> list[tuple]:
    """Recipients of the audience whose `name` (email or phone) is in `values`.

    Raw SQL: building a queryset per chunk cost more than running it. The
    `NOT (x = '')` term lets SQLite use the partial unique index.
    """
    table = connection.ops.quote_name(Recipient._meta.db_table)
    marks = ", ".join(["%s"] * len(values))
    sql = (
        "SELECT id, email, phone, first_name, last_name, attributes "  # noqa: S608
        f"FROM {table} WHERE audience_id = %s AND {name} IN ({marks}) "
        f"AND NOT ({name} = '')"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [audience_id, *values])
        found = cursor.fetchall()
    return [
        (*row[:5], json.loads(row[5]) if isinstance(row[5], str) else row[5] or {})
        for row in found
    ]


def _unescape_all(attributes: dict[str, str]) -> dict[str, str]:
    if not attributes:
        return attributes
    return {key: unescape(value) for key, value in attributes.items()}


def _json_placeholder() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def _insert(audience_id: int, targets: list[_Target]) -> None:
    values = [
        (t.email, t.phone, t.first_name, t.last_name, t.attributes) for t in targets
    ]
    _execute_insert(_params(audience_id, values))


def _params(
    audience_id: int, values: list[tuple[str, str, str, str, dict[str, str]]]
) -> list[tuple]:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    dumps = json.dumps
    return [
        (
            audience_id,
            email,
            phone,
            first[:100],
            last[:100],
            dumps(attributes) if attributes else "{}",
            now,
            now,
        )
        for email, phone, first, last, attributes in values
    ]


def _execute_insert(params: list[tuple]) -> None:
    """One executemany: raw SQL, as the ORM's per-object cost would dominate."""
    if not params:
        return
    table = connection.ops.quote_name(Recipient._meta.db_table)
    sql = (
        f"INSERT INTO {table} (audience_id, email, phone, first_name, last_name, "  # noqa: S608
        f"attributes, created_at, updated_at) VALUES "
        f"(%s, %s, %s, %s, %s, {_json_placeholder()}, %s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _update(targets: Iterable[_Target], now: Any) -> None:
    params = [
        (
            t.email,
            t.phone,
            t.first_name[:100],
            t.last_name[:100],
            json.dumps(t.attributes),
            now,
            t.id,
        )
        for t in targets
    ]
    if not params:
        return
    table = connection.ops.quote_name(Recipient._meta.db_table)
    sql = (
        f"UPDATE {table} SET email = %s, phone = %s, first_name = %s, "  # noqa: S608
        f"last_name = %s, attributes = {_json_placeholder()}, updated_at = %s "
        "WHERE id = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
