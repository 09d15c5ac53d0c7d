"""The two bulk writes of a dispatch, as hand-built SQL (measured, not guessed).

Django's ORM costs more per row than the whole per-recipient budget of a
dispatch (0.1 ms): a model instance per recipient in the snapshot, a CASE WHEN
per field in `bulk_update`. These two statements do the same work in the
database, through Django's backend helpers so they run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, QuerySet
from django.db.models.constants import OnConflict
from django.utils import timezone

from .channels import StatusUpdate
from .models import Delivery

# The SELECT below yields exactly these Delivery fields, in this order.
SNAPSHOT_COLUMNS = (
    "campaign",
    "recipient",
    "address",
    "status",
    "error",
    "provider_message_id",
    "provider_status",
    "updated_at",
)


def insert_deliveries(rows: QuerySet[Any], *, skip_existing: bool = True) -> int:
    """`INSERT ... SELECT rows`, skipping deliveries already there (a rerun).

    Returns how many deliveries were inserted. `skip_existing=False` (the campaign
    has none yet) drops the conflict check, a fifth of the cost on PostgreSQL.

    `rows` must yield the `SNAPSHOT_COLUMNS` in order; conflicts are ignored
    exactly as `bulk_create(ignore_conflicts=True)` would.
    """
    alias = router.db_for_write(Delivery)
    ops = connections[alias].ops
    select, params = rows.query.get_compiler(alias).as_sql()
    columns = ", ".join(ops.quote_name(_column(name)) for name in SNAPSHOT_COLUMNS)
    on_conflict = OnConflict.IGNORE if skip_existing else None
    sql = " ".join(
        [
            ops.insert_statement(on_conflict=on_conflict),
            ops.quote_name(Delivery._meta.db_table),
            f"({columns})",
            select,
            ops.on_conflict_suffix_sql([], on_conflict, [], []),
        ]
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


# A snapshot this large changes the table's statistics enough to matter.
ANALYZE_AFTER_ROWS = 10_000


def analyze_deliveries() -> None:
    """Fresh planner statistics for the deliveries, on PostgreSQL.

    Right after a large snapshot autovacuum has not analyzed the new rows yet: the
    planner believes the campaign has none, and picks the `(campaign, status)`
    index for every batch, walking all the pending rows to sort out the next 500
    (measured: 33 ms per batch at 100,000, quadratic in the campaign). ANALYZE
    samples a fixed number of rows, so it costs the same at any size.
    """
    connection = connections[router.db_for_write(Delivery)]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Delivery._meta.db_table)}")


def commit_without_waiting_for_disk() -> None:
    """This transaction's commit returns before its WAL reaches the disk (PostgreSQL).

    Only for writes that can be lost in a database crash without harm: the next
    synchronous commit on the server (the next batch recorded `in_flight`, before
    its send) flushes them anyway, and until then losing them leaves the same
    state as a worker killed just before them, which the dispatch recovers from.
    Each commit waiting for the disk costs about 7 ms on the benchmark machine.
    """
    connection = connections[router.db_for_write(Delivery)]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


STATUS_FIELDS = ("status", "provider_status", "provider_date", "cost", "updated_at")


def write_statuses(
    changed: list[tuple[int, str, StatusUpdate, Decimal | None]],
) -> None:
    """One `UPDATE ... WHERE id = %s` run with `executemany`, in one transaction.

    Django's `bulk_update` builds a CASE WHEN per field whose cost grows with the
    batch: minutes and close to 1 GB for 100,000 deliveries on SQLite.
    """
    if not changed:
        return
    alias = router.db_for_write(Delivery)
    connection = connections[alias]
    fields = [Delivery._meta.get_field(name) for name in STATUS_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(_column(name))} = %s" for name in STATUS_FIELDS)
    sql = (
        f"UPDATE {quote(Delivery._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(_column('id'))} = %s"
    )
    params = _status_params(changed, fields, connection)
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(*_one_statement(params))
        else:
            cur.executemany(sql, params)


# PostgreSQL types of STATUS_FIELDS, then of the id: one array parameter each.
STATUS_TYPES = ("text", "text", "timestamptz", "numeric", "timestamptz", "bigint")


def _one_statement(params: list[list[Any]]) -> tuple[str, list[str]]:
    """The same writes as one `UPDATE ... FROM unnest(arrays)` (PostgreSQL).

    500 single-row statements cost a parse, a plan and an executor start each;
    one statement joining the batch's values to the table by id costs one.
    """
    table = Delivery._meta.db_table
    names = [_column(name) for name in STATUS_FIELDS]
    values = ", ".join(f"%s::{kind}[]" for kind in STATUS_TYPES)
    columns = ", ".join([*(f'"{n}"' for n in names), "id"])
    assignments = ", ".join(f'"{n}" = v."{n}"' for n in names)
    sql = (
        f'UPDATE "{table}" AS d SET {assignments} '  # noqa: S608
        f"FROM unnest({values}) AS v({columns}) WHERE d.id = v.id"
    )
    columns_of_values = zip(*params, strict=True)
    return sql, [array_literal(list(column)) for column in columns_of_values]


def array_literal(values: list[Any]) -> str:
    """A PostgreSQL array literal (`{…}`) of `values`, one text parameter.

    psycopg adapts a list value by value: 5 ms of CPU for the six arrays of a
    500-row batch, a third of the statement. A batch repeats a few statuses,
    dates and costs, so each distinct value is written once and the ids, all
    distinct, are joined as they are.
    """
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    written: dict[Any, str] = {}
    parts = []
    for value in values:
        part = written.get(value)
        if part is None:
            part = written[value] = _array_element(value)
        parts.append(part)
    return "{" + ",".join(parts) + "}"


def _array_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f'"{value.isoformat()}"'
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)  # Decimal, int


def _column(name: str) -> str:
    """The column of a concrete Delivery field (every name used here is one)."""
    field = Delivery._meta.get_field(name)
    assert isinstance(field, Field) and field.column  # concrete: it has a column
    return field.column


def _status_params(
    changed: list[tuple[int, str, StatusUpdate, Decimal | None]],
    fields: list[Any],
    connection: BaseDatabaseWrapper,
) -> list[list[Any]]:
    """One parameter row per delivery; dates and costs repeat (a batch has a few
    of each), so each is adapted once: 12 µs per cost otherwise."""
    date_field, cost_field, updated_field = fields[2:]
    now = updated_field.get_db_prep_save(timezone.now(), connection)
    dates: dict[datetime | None, object] = {}
    costs: dict[Decimal | None, object] = {}
    params: list[list[Any]] = []  # values as prepared for the database
    for pk, status, update, cost in changed:
        if update.date not in dates:
            dates[update.date] = date_field.get_db_prep_save(update.date, connection)
        if cost not in costs:
            costs[cost] = cost_field.get_db_prep_save(cost, connection)
        date, db_cost = dates[update.date], costs[cost]
        params.append([status, update.raw[:64], date, db_cost, now, pk])
    return params
