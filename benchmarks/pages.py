"""Time every list and detail page on a database of a million rows.

    .venv/bin/python benchmarks/pages.py [--database-url URL] [--requests 20]
        [--deliveries 1000000] [--unsubscribes 100000] [--campaigns 100]
        [--sends 1000000] [--moves 1000000]

The data (see `page_data`: 100 campaigns, 1,000,000 deliveries on the largest,
1,000,000 recipients in one audience, 100,000 unsubscribes, 1,000,000 PEC sends
with their receipts, 1,000,000 credit moves) is built once and
found again on the next run: SQLite under `var/bench/pages.sqlite3` by default,
PostgreSQL when `--database-url` (or `DATABASE_URL`) names one. Each page is
requested through Django's test client (server time: routing, queries,
template) `--requests` times after one warm-up; p50 / p95 and the number of
queries are reported. Target: every page ≤ 100 ms p95 with the same query count
on every request. Exits 1 when a page misses.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _common as common

TARGET_MS = 100.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default = os.environ.get("DATABASE_URL", "")
    if not default.startswith("postgres"):
        default = f"sqlite:///{common.BENCH_DIR / 'pages.sqlite3'}"
    parser.add_argument("--database-url", default=default)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--campaigns", type=int, default=100)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--unsubscribes", type=int, default=100_000)
    parser.add_argument("--sends", type=int, default=1_000_000)
    parser.add_argument("--moves", type=int, default=1_000_000)
    return parser.parse_args()


def pages(built: Any, more: Any) -> list[tuple[str, str]]:
    """(label, URL) of every page timed."""
    big, audience = built.big_campaign, built.big_audience
    send, mailbox, sub = more.send, more.mailbox, more.subaccount
    return [
        ("campaign list", "/campaigns/"),
        ("campaign list, last page", "/campaigns/?page=4"),
        ("campaign list, sorted by cost", "/campaigns/?sort=-actual_cost"),
        ("campaign page (1M deliveries)", f"/campaigns/{big}/"),
        ("deliveries, last page", f"/campaigns/{big}/?page=999999"),
        ("deliveries, deep page 10,000", f"/campaigns/{big}/?page=10000"),
        ("deliveries, status filter", f"/campaigns/{big}/?status=not_delivered"),
        ("deliveries, search", f"/campaigns/{big}/?q=client123456@"),
        ("deliveries, search by name", f"/campaigns/{big}/?q=martin12345"),
        ("progress.json", f"/campaigns/{big}/progress.json"),
        ("audience list", "/audiences/"),
        ("audience recipients (1M)", f"/audiences/{audience}/"),
        ("audience recipients, last page", f"/audiences/{audience}/?page=999999"),
        ("audience recipients, search", f"/audiences/{audience}/?q=client654321@"),
        ("unsubscribes (100k)", "/unsubscribes/"),
        ("unsubscribes, last page", "/unsubscribes/?page=999999"),
        ("unsubscribes, search", "/unsubscribes/?q=client4321"),
        ("PEC sends (1M)", "/pec/"),
        ("PEC sends, last page", "/pec/?page=999999"),
        ("PEC sends, state filter", "/pec/?state=delivered"),
        ("PEC mailbox sends", f"/pec/mailboxes/{mailbox}/"),
        ("PEC send and receipts", f"/pec/sends/{send}/"),
        ("credit history (1M)", "/accounts/moves/"),
        ("credit history, last page", "/accounts/moves/?page=999999"),
        ("credit history, one sub-account", f"/accounts/moves/?account={sub}"),
        ("sub-account page", f"/accounts/{sub}/"),
        ("home dashboard", "/admin/"),
    ]


def measure(client: Any, url: str, requests: int) -> dict[str, Any]:
    """Times (ms) and query counts of `requests` GETs after one warm-up."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    times, cpu, sql, queries = [], [], [], set()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as ctx:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        queries.add(len(ctx.captured_queries))
        sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[max(0, round(0.95 * len(times)) - 1)],
        "cpu": statistics.median(cpu),
        "sql": statistics.median(sql),
        "queries": sorted(queries),
    }


def main() -> int:
    args = parse_args()
    # As in production: DEBUG off (no debug-only work per request).
    os.environ.update(DEBUG="0", SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
    os.environ.setdefault("SECRET_KEY", "page-benchmark-" + os.urandom(16).hex())
    # The benchmark's PEC mailbox stores its (fake) password encrypted.
    os.environ.setdefault(
        "FIELD_ENCRYPTION_KEY", "cGFnZS1iZW5jaG1hcmsta2V5LTMyLWJ5dGVzLWxvbmc="
    )
    common.configure(args.database_url)
    from django.conf import settings

    # No collectstatic for a benchmark: plain static storage (the production
    # manifest only maps names) before anything reads it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from benchmarks import page_data

    common.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    scale = page_data.Scale(
        args.campaigns, args.deliveries, args.unsubscribes, args.sends, args.moves
    )
    start = time.perf_counter()
    built = page_data.build(scale)
    more = page_data.build_more(scale)
    print(f"data ({scale.name}) ready in {time.perf_counter() - start:.1f} s")
    # No `setup_test_environment()`: its instrumented template renderer copies
    # every template's context into the response for tests to inspect, CPU and
    # cyclic garbage (more full garbage collections) a server never has.
    user, _ = get_user_model().objects.get_or_create(
        username="bench-pages", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(user)
    # As a gunicorn worker: the WSGI module loaded, which freezes what start-up
    # built out of the garbage collector's full collections.
    import partnerhub.wsgi  # noqa: F401

    print(f"database: {connection.vendor} ({args.database_url.split('@')[-1]})")
    print(
        f"{'page':<34}{'p50 ms':>9}{'p95 ms':>9}{'CPU ms':>9}{'SQL ms':>9}"
        f"{'queries':>9}  verdict"
    )
    missed = 0
    for label, url in pages(built, more):
        figures = measure(client, url, args.requests)
        constant = len(figures["queries"]) == 1
        ok = figures["p95"] <= TARGET_MS and constant
        missed += not ok
        count = "/".join(str(n) for n in figures["queries"])
        print(
            f"{label:<34}{figures['p50']:>9.1f}{figures['p95']:>9.1f}"
            f"{figures['cpu']:>9.1f}{figures['sql']:>9.1f}{count:>9}  "
            f"{'OK' if ok else 'MISSED'}"
        )
    print(f"target: every page ≤ {TARGET_MS:g} ms p95, constant query count")
    print("CPU ms: median CPU time of this process per request (SQLite's work")
    print("included, PostgreSQL's not); SQL ms: median wall time inside queries.")
    print("On a busy machine wall times swing; CPU and SQL show where time goes.")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
