"""Staging of an import's new recipients in the database, before the merge.

Rows whose addresses the audience and the file have never seen (most of a big
import) are written to a staging table while the file is still being parsed,
then copied into the recipients by ONE `INSERT … SELECT … ORDER BY email`
inside the merge transaction. The copy runs in the database, not row by row
from Python, and the email order makes the email index grow at its right edge:
on SQLite a million rows take about a quarter of the time of batched inserts,
and the write lock is held that much less. Staging writes touch no table
anyone else reads, so they hold no lock on the recipients.

- SQLite: a private on-disk database attached with `ATTACH ''` (deleted by
  SQLite on detach; no journal). Inside a transaction (tests) a TEMP table is
  used instead, as `ATTACH` is refused there.
- PostgreSQL: a TEMP table filled with `COPY` (psycopg's `cursor.copy`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

from campaigns.models import Recipient

from .merge import unescape
from .storage import SpoolRow

StagedRow = tuple[int, str, str, str, str, str]  # line, email, phone, names, JSON
_COLUMNS = "line, email, phone, first_name, last_name, attributes"


class Staging:
    """The staging table of one import (base: portable `executemany`)."""

    table = "import_staging_rows"
    json_type = "text"

    def __init__(self) -> None:
        self.count = 0

    def open(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(
                f"CREATE TEMP TABLE {self.table} (line integer, email text, "
                f"phone text, first_name text, last_name text, "
                f"attributes {self.json_type})"
            )

    def add(self, rows: Sequence[StagedRow]) -> None:
        """Append rows (outside any transaction: they lock nothing shared)."""
        if rows:
            self._write(rows)
            self.count += len(rows)

    def _write(self, rows: Sequence[StagedRow]) -> None:
        marks = ", ".join(["%s"] * 6)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.table} ({_COLUMNS}) VALUES ({marks})",  # noqa: S608
                rows,
            )

    def take(self, emails: set[str], phones: set[str]) -> list[SpoolRow]:
        """Remove and return the staged rows holding any of these addresses,
        in file order (they became duplicates after they were staged)."""
        if not (emails or phones) or not self.count:
            return []
        where = f"email IN ({self._set()}) OR phone IN ({self._set()})"
        params = [self._set_param(emails), self._set_param(phones)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {self.table} WHERE {where} ORDER BY line",  # noqa: S608
                params,
            )
            found = cursor.fetchall()
            cursor.execute(f"DELETE FROM {self.table} WHERE {where}", params)  # noqa: S608
        self.count -= len(found)
        return [(*row[:5], _attributes(row[5])) for row in found]

    def _set(self) -> str:
        return "SELECT value FROM json_each(%s)"

    def _set_param(self, values: set[str]) -> Any:
        return json.dumps(sorted(values))

    def insert_into_audience(self, audience_id: int, now: Any) -> int:
        """Copy every staged row into the audience, in email order; how many."""
        if not self.count:
            return 0
        target = connection.ops.quote_name(Recipient._meta.db_table)
        cast = "::jsonb" if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {target} (audience_id, email, phone, first_name, "  # noqa: S608
                "last_name, attributes, created_at, updated_at) "
                f"SELECT %s, email, phone, first_name, last_name, attributes{cast}, "
                f"%s, %s FROM {self.table} ORDER BY email",
                [audience_id, now, now],
            )
            return self.count

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")


class SqliteStaging(Staging):
    """A private on-disk database, fresh for each import (see the module doc).

    A fresh file, not a reused TEMP table: SQLite reuses a dropped table's
    freed pages so slowly that a second million-row import on the same
    connection took ten times as long.
    """

    def __init__(self) -> None:
        super().__init__()
        self.attached = False

    def open(self) -> None:
        if connection.in_atomic_block:
            self.table = "temp.import_staging_rows"
            super().open()
            return
        with connection.cursor() as cursor:
            cursor.execute("ATTACH DATABASE '' AS import_staging")
            self.attached = True
            cursor.execute("PRAGMA import_staging.journal_mode = OFF")
            cursor.execute("PRAGMA import_staging.synchronous = OFF")
            cursor.execute(
                "CREATE TABLE import_staging.rows (line integer, email text, "
                "phone text, first_name text, last_name text, attributes text)"
            )
        self.table = "import_staging.rows"

    def close(self) -> None:
        if not self.attached:
            super().close()
            return
        with connection.cursor() as cursor:
            cursor.execute("DETACH DATABASE import_staging")
        self.attached = False


class PostgresStaging(Staging):
    """A TEMP table loaded with `COPY`: one stream per batch, no statement per row."""

    table = "pg_temp.import_staging_rows"
    json_type = "jsonb"

    def _write(self, rows: Sequence[StagedRow]) -> None:
        with connection.cursor() as cursor:
            sql = f"COPY {self.table} ({_COLUMNS}) FROM STDIN"
            with cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)

    def _set(self) -> str:
        return "SELECT unnest(%s::text[])"

    def _set_param(self, values: set[str]) -> Any:
        return sorted(values)


def staging_for_connection() -> Staging:
    """The staging implementation for the default database's engine."""
    if connection.vendor == "sqlite":
        return SqliteStaging()
    if connection.vendor == "postgresql":
        return PostgresStaging()
    return Staging()


def _attributes(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return json.loads(value) if value not in ("", "{}") else {}
    return value or {}


def staged_rows(rows: Iterable[SpoolRow]) -> list[StagedRow]:
    """Staging rows from parsed rows: defused names cut to the column size."""
    dumps = json.dumps
    return [
        (
            line,
            email or "",
            phone or "",
            unescape(first)[:100] if first[:1] == "'" else first,
            unescape(last)[:100] if last[:1] == "'" else last,
            dumps({k: unescape(v) for k, v in attributes.items()})
            if attributes
            else "{}",
        )
        for line, email, phone, first, last, attributes in rows
    ]
