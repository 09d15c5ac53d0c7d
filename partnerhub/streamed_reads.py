"""Reads of a million rows that flow from the database as they are fetched.

`QuerySet.iterator()` reads through a server-side cursor on PostgreSQL. Outside
a transaction Django declares it `WITH HOLD`, and PostgreSQL then runs the
whole query and stores its result (about 100 MB in a temporary file for a
million deliveries) before handing over the first row: a 1,000,000-row CSV
download waited 2 to 3 s before its first byte. Inside a transaction the cursor
is declared without hold and rows come as they are fetched. The same query
crosses PostgreSQL's JIT cost thresholds, and compiling it took another 2 s
before the first row for no gain (the client formats the rows, not the
server), so JIT is off for that transaction only. The transaction only reads
and lasts as long as the download (its snapshot is the export's: one point in
time, even while a refresh writes statuses).

SQLite needs none of this: its cursor already steps through the rows, and a
transaction there would take the write lock (`transaction_mode` IMMEDIATE)
for as long as the download lasts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.sql.constants import MULTI


@contextlib.contextmanager
def streamed_read() -> Iterator[None]:
    """Wrap the iteration of a large `.iterator()` read (see the module's doc)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def datetime_text(field: str) -> Cast:
    """A datetime column read as the database's text, for `moment_reader`.

    The drivers' datetime parsing is Python code run for every value (the
    timestamptz loader Django registers on PostgreSQL, the "datetime"
    converter on SQLite): fetching the deliveries export's million rows took
    6.2 s of CPU on PostgreSQL with it, 1.7 s with text (SQLite: 2.3 s, 1.6 s).
    Text comes through the drivers' C code; the export parses each distinct
    value once.
    """
    return Cast(field, output_field=TextField())


def moment_reader() -> Callable[[str], datetime]:
    """A function giving the aware datetime a `datetime_text` column holds:
    PostgreSQL writes an ISO text with its offset (the connection's zone,
    UTC), SQLite the naive UTC text Django stored, read as the ORM reads it
    (in the connection's zone, looked up here once: not once per value)."""
    naive_zone = connection.timezone
    parse = datetime.fromisoformat

    def moment(text: str) -> datetime:
        found = parse(text)
        return found if found.tzinfo else found.replace(tzinfo=naive_zone)

    return moment


Row = tuple[Any, ...]
Converter = Callable[[Any], Any]


def fetched_chunks(
    queryset: QuerySet[Any, Row], *, chunk_size: int
) -> tuple[list[Converter], Iterator[list[Row]]]:
    """A `values_list` query's rows as the driver fetched them, a list per fetch,
    and per column the function turning a fetched value into the ORM's value.

    `.iterator()` converts every value of every row (Python calls per decimal
    on SQLite, and a list and a tuple per row): an export that formats many
    equal values (costs) converts each distinct one once instead. Executes
    the query now: call it inside `streamed_read()`.
    """
    connection = connections[queryset.db]
    compiler = queryset.query.get_compiler(connection=connection)
    chunked = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    chunks = compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=chunk_size)
    columns = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
    found = compiler.get_converters(columns)
    converters = [
        _converter(found[i], connection) if i in found else _same
        for i in range(len(columns))
    ]
    return converters, iter(chunks)


def _converter(found: tuple[list[Any], Any], connection: Any) -> Converter:
    functions, expression = found

    def convert(value: Any) -> Any:
        for function in functions:
            value = function(value, expression, connection)
        return value

    return convert


def _same(value: Any) -> Any:
    return value
