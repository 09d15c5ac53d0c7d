"""Benchmark the deliveries CSV export (web download and management command).

    .venv/bin/python benchmarks/export_deliveries.py [--rows 1000000] [--via both]

Builds `var/bench/export_<rows>.sqlite3` (or under `--dir`) once (a campaign with `rows`
deliveries, each joined to a recipient with names, a few hostile `=cmd`
cells), then runs each export in a child process while this process samples
the child's resident memory every 20 ms:

- `view`: the `campaigns:export` view called with a request, its streamed
  response consumed chunk by chunk (what a browser download does);
- `command`: `manage.py export_deliveries ID FILE` writing to var/bench/.

Prints rows, seconds, rows/s and peak RSS per mode.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "var" / "bench"
sys.path.insert(0, str(ROOT))

from benchmarks.rss import measure_child  # noqa: E402

INSERT_CHUNK = 20_000


def django_setup(db: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings")
    os.environ.setdefault("DEBUG", "1")  # development defaults (sandbox)
    import django

    django.setup()


def build(rows: int) -> None:
    """Migrate the bench database and fill it with raw multi-row inserts (fast)."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from campaigns.models import Audience, Campaign, Delivery, Recipient
    from partnerhub.models import ProviderAccount

    call_command("migrate", verbosity=0)
    get_user_model().objects.create_superuser("bench", "bench@example.fr", "x")
    account = ProviderAccount.objects.create(provider="mail", name="Main mail")
    audience = Audience.objects.create(name="Bench")
    campaign = Campaign.objects.create(
        name="Bench", channel="email", account=account, audience=audience,
        status="sent", snapshot_done=True,
    )  # fmt: skip
    # Table names come from the models, values are bound parameters.
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    recipient_sql = (
        f"INSERT INTO {Recipient._meta.db_table} (id, audience_id, email, phone, "  # noqa: S608
        "first_name, last_name, attributes, created_at, updated_at) "
        "VALUES (?, ?, ?, '', ?, ?, '{}', ?, ?)"
    )
    delivery_sql = (
        f"INSERT INTO {Delivery._meta.db_table} (campaign_id, recipient_id, address,"  # noqa: S608
        " provider_message_id, status, provider_status, cost, provider_date, error,"
        " updated_at) VALUES (?, ?, ?, 'msg-42', ?, ?, ?, ?, ?, ?)"
    )
    for start in range(0, rows, INSERT_CHUNK):
        ids = range(start + 1, min(start + INSERT_CHUNK, rows) + 1)
        emails = [f"client{i}@example.fr" for i in ids]
        first = ["=HYPERLINK(evil)" if i % 1000 == 0 else "Zoé" for i in ids]
        recips = [
            (i, audience.pk, e, f, f"Martin{i}", now, now)
            for i, e, f in zip(ids, emails, first, strict=True)
        ]
        delivs = [
            (campaign.pk, i, e, *_status(i), now, now)
            for i, e in zip(ids, emails, strict=True)
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(recipient_sql, recips)
            cursor.executemany(delivery_sql, delivs)
    print(json.dumps({"campaign": campaign.pk}))


def _status(i: int) -> tuple[str, str, str, str]:
    if i % 10 == 0:
        return "not_delivered", "Not delivered", "0.0105", "Mailbox full"
    return "delivered", "Delivered", "0.0105", ""


def export_view(campaign_id: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from campaigns.views.follow import campaign_export

    request = RequestFactory().get(f"/campaigns/{campaign_id}/deliveries.csv")
    request.user = get_user_model().objects.get(username="bench")
    start = time.perf_counter()
    response = campaign_export(request, pk=campaign_id)
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    return {"rows": lines - 1, "bytes": size, "seconds": time.perf_counter() - start}


def export_command(campaign_id: int, folder: Path) -> dict[str, float]:
    from django.core.management import call_command

    target = folder / "export_command.csv"
    start = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("export_deliveries", campaign_id, str(target), stdout=quiet)
    seconds = time.perf_counter() - start
    with target.open("rb") as handle:
        lines = sum(
            chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")
        )
    return {"rows": lines - 1, "bytes": target.stat().st_size, "seconds": seconds}


def child(args: argparse.Namespace) -> None:
    django_setup(Path(args.db))
    if args.mode == "build":
        build(args.rows)
        return
    if args.mode == "view":
        result = export_view(args.campaign)
    else:
        result = export_command(args.campaign, Path(args.db).parent)
    print(json.dumps(result))


def measure(argv: list[str]) -> tuple[dict[str, float], float]:
    """Run a child mode of this script; its JSON result and the tree's peak MB."""
    return measure_child(__file__, argv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--via", choices=["view", "command", "both"], default="both")
    parser.add_argument("--mode", choices=["build", "view", "command"])
    parser.add_argument("--db")
    parser.add_argument("--campaign", type=int)
    parser.add_argument("--dir", type=Path, default=BENCH, help="where the DB goes")
    args = parser.parse_args()
    if args.mode:
        child(args)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    db = args.dir / f"export_{args.rows}.sqlite3"
    marker = db.with_suffix(".json")
    if not marker.exists():
        db.unlink(missing_ok=True)
        print(f"building {db} ({args.rows} deliveries) ...", flush=True)
        built, _peak = measure(
            ["--mode", "build", "--db", str(db), "--rows", str(args.rows)]
        )
        marker.write_text(json.dumps(built))
    campaign = json.loads(marker.read_text())["campaign"]
    modes = ["view", "command"] if args.via == "both" else [args.via]
    for mode in modes:
        result, peak = measure(
            ["--mode", mode, "--db", str(db), "--campaign", str(campaign)]
        )
        rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
        print(
            f"export via {mode:<8} {int(result['rows']):>9} rows  "
            f"{result['seconds']:>7.2f} s  {rate:>10,.0f} rows/s  "
            f"{result['bytes'] / 1e6:>7.1f} MB of CSV  peak RSS {peak:>6.1f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
