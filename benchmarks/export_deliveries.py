"""Benchmark the deliveries CSV export (web download and management command).

    .venv/bin/python benchmarks/export_deliveries.py [--rows 1000000] [--via both]
        [--database-url postgres://…/NAME]

Builds, once, a campaign with `rows` deliveries, each joined to a recipient
with names, some hostile `=cmd` cells and every tenth one not delivered (the
data is the same on every database, its dates fixed, so the CSVs compare byte
for byte):

- SQLite (default): `var/bench/export_<rows>.sqlite3` (or under `--dir`), kept
  with a marker file beside it;
- PostgreSQL with `--database-url`: in that database, in one transaction
  through `COPY`, found again by the campaign's name on the next run.

Then it runs each export in a child process while this process samples the
child's resident memory every 20 ms:

- `view`: the `campaigns:export` view called with a request, its streamed
  response consumed chunk by chunk (what a browser download does);
- `command`: `manage.py export_deliveries ID FILE` writing under `--dir`.

Prints rows, seconds, rows/s, CPU, peak RSS and the CSV's SHA-256 per mode.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"
sys.path.insert(0, str(ROOT))

from benchmarks.rss import measure_child  # noqa: E402

INSERT_CHUNK = 20_000
# Fixed, so that two builds (SQLite, PostgreSQL) hold the same rows. Bumped
# when the built data changes: an older SQLite build is then built again.
DATA_VERSION = 2
BUILT_AT = datetime(2026, 7, 14, 8, 30, 0, 123456, tzinfo=UTC)
COST = Decimal("0.0105")
RECIPIENT_COLUMNS = (
    "id, audience_id, email, phone, first_name, last_name, attributes, "
    "created_at, updated_at"
)
DELIVERY_COLUMNS = (
    "campaign_id, recipient_id, address, provider_message_id, status, "
    "provider_status, cost, provider_date, error, updated_at"
)


def django_setup(database_url: str) -> None:
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")
    os.environ.setdefault("DEBUG", "1")  # development defaults (sandbox)
    import django

    django.setup()


def campaign_name(rows: int) -> str:
    return f"Bench export {rows} v{DATA_VERSION}"


def build(rows: int) -> int:
    """The bench campaign's id: found if a finished build is there, else built.

    On PostgreSQL the whole build is one transaction, so a campaign found by
    its name is complete; SQLite commits by chunks and relies on the marker.
    """
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from campaigns.models import Campaign

    call_command("migrate", verbosity=0)
    found = Campaign.objects.filter(name=campaign_name(rows)).first()
    if found is not None:
        return found.pk
    users = get_user_model().objects
    if not users.filter(username="bench").exists():
        users.create_superuser("bench", "bench@example.fr", "x")
    if connection.vendor == "postgresql":
        with transaction.atomic():
            return _fill(rows, _copy_rows)
    return _fill(rows, _insert_rows)


def _fill(rows: int, write: Any) -> int:
    """Create the campaign, write its recipients and deliveries with `write`."""
    from django.core.management.color import no_style
    from django.db import connection

    from campaigns.models import Audience, Campaign, Delivery, Recipient
    from partnerhub.models import ProviderAccount

    account, _ = ProviderAccount.objects.get_or_create(provider="mail", name="Main")
    audience = Audience.objects.create(name=campaign_name(rows))
    campaign = Campaign.objects.create(
        name=campaign_name(rows), channel="email", account=account,
        audience=audience, status="sent", snapshot_done=True,
    )  # fmt: skip
    first_id = (
        Recipient.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ) + 1
    ids = range(first_id, first_id + rows)
    # Values as the ORM stores them (SQLite: naive UTC text), not the driver's way.
    at = connection.ops.adapt_datetimefield_value(BUILT_AT)
    cost = connection.ops.adapt_decimalfield_value(COST, 10, 4)
    write(
        recipient_rows(audience.pk, ids, at),
        delivery_rows(campaign.pk, ids, at, cost),
    )
    with connection.cursor() as cursor:  # explicit ids: move the sequences on
        for sql in connection.ops.sequence_reset_sql(no_style(), [Recipient, Delivery]):
            cursor.execute(sql)
    return campaign.pk


def recipient_rows(
    audience_id: int, ids: Iterable[int], at: Any
) -> Iterator[tuple[Any, ...]]:
    for i in ids:
        first = "=HYPERLINK(evil)" if i % 1000 == 0 else "Zoé"
        email = f"client{i}@example.fr"
        yield (i, audience_id, email, "", first, f"Martin{i}", "{}", at, at)


def delivery_rows(
    campaign_id: int, ids: Iterable[int], at: Any, cost: Any
) -> Iterator[tuple[Any, ...]]:
    for i in ids:
        if i % 10 == 0:
            status, word, error = "not_delivered", "Not delivered", "Mailbox full"
        else:
            status, word, error = "delivered", "Delivered", ""
        yield (
            campaign_id, i, f"client{i}@example.fr", "msg-42", status, word,
            cost, at, error, at,
        )  # fmt: skip


def _copy_rows(
    recipients: Iterable[tuple[Any, ...]], deliveries: Iterable[tuple[Any, ...]]
) -> None:
    """PostgreSQL: `COPY … FROM STDIN`, rows streamed (psycopg 3)."""
    from django.db import connection

    from campaigns.models import Delivery, Recipient

    for model, columns, rows in (
        (Recipient, RECIPIENT_COLUMNS, recipients),
        (Delivery, DELIVERY_COLUMNS, deliveries),
    ):
        table = connection.ops.quote_name(model._meta.db_table)
        sql = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def _insert_rows(
    recipients: Iterable[tuple[Any, ...]], deliveries: Iterable[tuple[Any, ...]]
) -> None:
    """SQLite: `executemany` by chunks of 20,000, one transaction each."""
    from django.db import connection, transaction

    from campaigns.models import Delivery, Recipient

    statements = []
    for model, columns in (
        (Recipient, RECIPIENT_COLUMNS),
        (Delivery, DELIVERY_COLUMNS),
    ):
        marks = ", ".join(["%s"] * len(columns.split(",")))
        table = connection.ops.quote_name(model._meta.db_table)
        statements.append(f"INSERT INTO {table} ({columns}) VALUES ({marks})")  # noqa: S608
    recipients, deliveries = iter(recipients), iter(deliveries)
    while recips := list(islice(recipients, INSERT_CHUNK)):
        delivs = list(islice(deliveries, INSERT_CHUNK))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(statements[0], recips)
            cursor.executemany(statements[1], delivs)


def export_view(campaign_id: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from campaigns.views.follow import campaign_export

    request = RequestFactory().get(f"/campaigns/{campaign_id}/deliveries.csv")
    request.user = get_user_model().objects.get(username="bench")
    digest = hashlib.sha256()
    hashing = 0.0
    start = time.perf_counter()
    response = campaign_export(request, pk=campaign_id)
    lines = size = 0
    for chunk in cast(Iterator[bytes], response.streaming_content):
        lines += chunk.count(b"\n")
        size += len(chunk)
        before = time.perf_counter()
        digest.update(chunk)
        hashing += time.perf_counter() - before
    seconds = time.perf_counter() - start - hashing  # the hash is ours, not the view's
    return {
        "rows": lines - 1,
        "bytes": size,
        "seconds": seconds,
        "sha256": digest.hexdigest(),
    }


def export_command(campaign_id: int, folder: Path) -> dict[str, Any]:
    from django.core.management import call_command

    target = folder / "export_command.csv"
    start = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("export_deliveries", campaign_id, str(target), stdout=quiet)
    seconds = time.perf_counter() - start
    lines, digest = 0, hashlib.sha256()
    with target.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            digest.update(chunk)
    size = target.stat().st_size
    target.unlink()
    return {
        "rows": lines - 1,
        "bytes": size,
        "seconds": seconds,
        "sha256": digest.hexdigest(),
    }


def child(args: argparse.Namespace) -> None:
    django_setup(args.database_url)
    if args.mode == "build":
        print(json.dumps({"campaign": build(args.rows)}))
        return
    if args.mode == "view":
        result = export_view(args.campaign)
    else:
        result = export_command(args.campaign, args.dir)
    print(json.dumps(result))


def measure(argv: list[str]) -> tuple[dict[str, Any], float]:
    """Run a child mode of this script; its JSON result and the tree's peak MB."""
    return measure_child(__file__, argv)


def prepare(args: argparse.Namespace) -> tuple[str, int]:
    """(database URL, campaign id): the SQLite file or `--database-url`, built once."""
    build_argv = ["--mode", "build", "--rows", str(args.rows)]
    if args.database_url:
        print(f"building or finding {args.rows} deliveries ...", flush=True)
        built, _peak = measure([*build_argv, "--database-url", args.database_url])
        return args.database_url, int(built["campaign"])
    db = args.dir / f"export_{args.rows}.sqlite3"
    url = f"sqlite:///{db}"
    marker = db.with_suffix(".json")
    built = json.loads(marker.read_text()) if marker.exists() else {}
    if built.get("version") != DATA_VERSION:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        print(f"building {db} ({args.rows} deliveries) ...", flush=True)
        built, _peak = measure([*build_argv, "--database-url", url])
        built["version"] = DATA_VERSION
        marker.write_text(json.dumps(built))
    return url, int(built["campaign"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--via", choices=["view", "command", "both"], default="both")
    parser.add_argument(
        "--database-url",
        default="",
        help="A PostgreSQL database to build in (once) and export from; "
        "default: a SQLite file under --dir.",
    )
    parser.add_argument("--dir", type=Path, default=BENCH, help="SQLite file, CSV")
    parser.add_argument("--mode", choices=["build", "view", "command"])
    parser.add_argument("--campaign", type=int)
    args = parser.parse_args()
    if args.mode:
        child(args)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    url, campaign = prepare(args)
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    modes = ["view", "command"] if args.via == "both" else [args.via]
    for mode in modes:
        argv = ["--mode", mode, "--database-url", url, "--campaign", str(campaign)]
        result, peak = measure([*argv, "--dir", str(args.dir)])
        rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
        print(
            f"export via {mode:<8} {int(result['rows']):>9} rows  "
            f"{result['seconds']:>7.2f} s  {rate:>10,.0f} rows/s  "
            f"CPU {result['cpu']:>6.1f} s  "
            f"{result['bytes'] / 1e6:>7.1f} MB of CSV  peak RSS {peak:>6.1f} MB  "
            f"{engine}  sha256 {result['sha256'][:16]}",
            flush=True,
        )


if __name__ == "__main__":
    main()
