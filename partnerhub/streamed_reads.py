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
from collections.abc import Iterator

from django.db import connection, transaction


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
