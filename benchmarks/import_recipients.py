"""Benchmark the recipient import end to end, pages polled meanwhile, and side by
side with django-import-export.

    .venv/bin/python benchmarks/import_recipients.py [--rows N] [--compare-rows N]
        [--database-url URL] [--skip-iex | --compare-only] [--no-pages]
        [--staging-insert copy|executemany]

Uses the file of `benchmarks/csv_parse.py` (email, phone, first and last name;
UTF-8 BOM, `;`, CRLF; mostly French phone shapes, some foreign, some invalid),
generated once under `var/`. Each run is a child process on a fresh database
(SQLite: `var/bench/import_<run>_<rows>.sqlite3`; PostgreSQL when `--database-url` or
`DATABASE_URL` names one: database `<name>_<run>`, dropped and created again),
migrated before timing, while this process samples the resident memory and CPU
of the child's whole process tree (parse workers included) every 20 ms.

1. PartnerHub on `--rows` rows, as the background task runs it (parse and
   validate on every core, new rows staged in the database, duplicates spooled;
   then the merge transaction), with the time of each phase. Meanwhile another
   process (not counted in the import's memory) plays the web server: through
   Django's test client, with `DEBUG=0`, it requests the audience's page, the
   import's progress JSON and the campaign list in turn, 200 ms apart, and
   reports p95 and failures ("database is locked") while the parse runs and
   while the merge runs.
2. On the first `--compare-rows` rows of the same file (one file, the same rows
   for every contender): PartnerHub, then django-import-export 4.4 with a
   `ModelResource` on Recipient: its default settings; `import_id_fields =
   ("email",)`, which looks each row up by email in the audience (deduplicating,
   as users need); its documented bulk settings (`use_bulk`, `batch_size=1000`,
   `skip_diff`, `force_init_instance`). It validates nothing, so rows whose raw
   phone repeats (they would break the unique constraint) are dropped from its
   input first. The ratios are PartnerHub's rows/s over each one's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._common import BENCH_DIR, configure, profiled  # noqa: E402
from benchmarks.csv_parse import generate  # noqa: E402
from benchmarks.rss import measure_child  # noqa: E402

PROBE_PAUSE = 0.2
PROBE_LIMIT_SECONDS = 600


# --- databases ---------------------------------------------------------------
def fresh_database(base: str, run: str, rows: int) -> str:
    """A new, empty database for one run (URL), on the engine of `base`; SQLite
    files are named by size too, so a small run never deletes a big one's."""
    run = run.replace("-", "_")
    if not base.startswith("postgres"):
        path = BENCH_DIR / f"import_{run}_{rows}.sqlite3"
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'partnerhub'}_{run}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def setup_django(database_url: str) -> None:
    """Django on this run's database, migrated (not timed)."""
    configure(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- PartnerHub ----------------------------------------------------------------
class PhaseTimer:
    """Adds up wall and CPU seconds (this process) spent in wrapped functions."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.marks: dict[str, float] = {}

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            self.marks.setdefault(f"{label}_start", time.time())
            try:
                return original(*args, **kwargs)
            finally:
                self.wall[label] += time.perf_counter() - start
                self.cpu[label] += time.process_time() - cpu
                self.marks[f"{label}_end"] = time.time()

        setattr(owner, name, timed)


def install_timers(staging_insert: str) -> PhaseTimer:
    """Time each phase of the import by wrapping the functions that do it
    (those an older version lacks are skipped, for before/after runs)."""
    import importlib

    timer = PhaseTimer()
    for module, owner_name, name, label in (
        ("campaigns.audiences.services", "", "_parse", "parse"),
        ("campaigns.audiences.services", "", "_merge", "merge"),
        ("campaigns.audiences.services", "", "_merger", "prime"),
        ("partnerhub.csvio.pipeline", "", "_unpack", "unpack"),
        ("campaigns.audiences.merge", "Merger", "split", "filter"),
        ("campaigns.audiences.staging", "Staging", "add", "stage"),
        ("campaigns.audiences.storage", "Spool", "write", "spool"),
        ("campaigns.audiences.storage", "ErrorReport", "add", "report"),
        ("campaigns.audiences.services", "", "_record_batch", "progress"),
        ("campaigns.audiences.merge", "Merger", "take_late_duplicates", "late"),
        ("campaigns.audiences.merge", "Merger", "insert_staged", "insert"),
        ("campaigns.audiences.merge", "Merger", "merge", "match"),
    ):
        try:
            owner: Any = importlib.import_module(module)
        except ImportError:
            continue
        owner = getattr(owner, owner_name, None) if owner_name else owner
        if owner is not None and hasattr(owner, name):
            timer.wrap(owner, name, label)
    if staging_insert == "executemany":  # to show what COPY saves
        from campaigns.audiences import staging

        staging.PostgresStaging._write = staging.Staging._write  # type: ignore[method-assign]
    return timer


def run_partnerhub(
    path: Path, workers: int, sync: Path | None, staging_insert: str
) -> dict[str, Any]:
    """Upload and start (untimed), then run the import as the task would."""
    from campaigns.audiences import services
    from campaigns.models import Audience, Recipient

    audience = Audience.objects.create(name="Benchmark")
    with path.open("rb") as handle:
        draft = services.recipient_import_create(
            audience=audience, file=handle, file_name=path.name
        )
    mapping = {int(i): f for i, f in draft.mapping.items()}
    services.recipient_import_start(
        recipient_import=draft, mapping=mapping, mode="update", enqueue=False
    )
    if sync is not None:
        (sync / "ready").write_text(json.dumps([audience.pk, draft.pk]))
        wait_for(sync / "go")
    timer = install_timers(staging_insert)
    start, cpu = time.perf_counter(), time.process_time()
    begun = time.time()
    done = services.recipient_import_run(import_id=draft.pk, workers=workers)
    seconds = time.perf_counter() - start
    stored = Recipient.objects.filter(audience=audience).count()
    if done.status != "done" or stored != done.created:
        raise SystemExit(f"import ended {done.status}: {done.error_message}")
    return {
        "rows": done.rows_read,
        "seconds": seconds,
        "main_cpu": time.process_time() - cpu,
        "created": done.created,
        "duplicates": done.duplicates,
        "invalid": done.invalid,
        "wall": timer.wall,
        "phase_cpu": timer.cpu,
        "marks": {**timer.marks, "start": begun, "end": time.time()},
    }


def wait_for(path: Path, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {path.name}")
        time.sleep(0.02)


# --- django-import-export ------------------------------------------------------
def iex_dataset(path: Path, limit: int) -> Any:
    """The first `limit` rows as a tablib Dataset, repeated raw phones dropped."""
    import tablib

    data = tablib.Dataset(headers=["email", "phone", "first_name", "last_name"])
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        for index, (email, phone, first, last) in enumerate(reader):
            if index >= limit:
                break
            if phone and phone in seen:
                continue
            seen.add(phone)
            data.append([email, phone, first, last])
    return data


def run_iex(path: Path, limit: int, mode: str) -> dict[str, Any]:
    """django-import-export's ModelResource on Recipient: default, by email, bulk."""
    from import_export import resources

    from campaigns.models import Audience, Recipient

    audience = Audience.objects.create(name="Benchmark")

    class Meta:
        model = Recipient
        fields = ("id", "email", "phone", "first_name", "last_name")

    if mode == "iex-bulk":
        Meta.use_bulk, Meta.batch_size = True, 1000  # type: ignore[attr-defined]
        Meta.skip_diff, Meta.force_init_instance = True, True  # type: ignore[attr-defined]
    if mode == "iex-email":
        Meta.import_id_fields = ("email",)  # type: ignore[attr-defined]

    def init_instance(self: object, row: object = None) -> Recipient:
        # The audience is set here, not read per row through a ForeignKeyWidget
        # (one query per row): the fairest setup for it.
        return Recipient(audience_id=audience.pk)

    def get_queryset(self: object) -> object:
        # By email within the benchmark's audience. `NOT (email = '')` lets
        # SQLite use the partial unique index: without it each lookup walks
        # the whole audience and 100,000 rows take over an hour.
        return Recipient.objects.filter(audience_id=audience.pk).exclude(email="")

    resource_class = type(
        "RecipientResource",
        (resources.ModelResource,),
        {"Meta": Meta, "init_instance": init_instance, "get_queryset": get_queryset},
    )
    dataset = iex_dataset(path, limit)
    start = time.perf_counter()
    result = resource_class().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - start
    return {
        "rows": len(dataset),
        "seconds": seconds,
        "created": result.totals.get("new", 0),
        "duplicates": 0,
        "invalid": 0,
    }


# --- the web server stand-in ---------------------------------------------------
def probe(database_url: str, sync: Path) -> None:
    """Request three pages in turn until told to stop; print [(when, ms, error)]."""
    os.environ.update(DEBUG="0", SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
    os.environ.setdefault("SECRET_KEY", "import-benchmark-" + os.urandom(16).hex())
    os.environ.setdefault(
        "FIELD_ENCRYPTION_KEY", "cGFnZS1iZW5jaG1hcmsta2V5LTMyLWJ5dGVzLWxvbmc="
    )
    configure(database_url)
    import warnings

    from django.conf import settings

    warnings.filterwarnings("ignore", message="No directory at")
    settings.STORAGES = {  # no collectstatic for a benchmark
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    audience, recipient_import = json.loads((sync / "ready").read_text())
    setup_test_environment()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-import", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(user)
    urls = [
        f"/audiences/{audience}/",
        f"/audiences/imports/{recipient_import}/status/",
        "/campaigns/",
    ]
    for url in urls:  # warm-up: templates and URL resolvers loaded
        client.get(url)
    (sync / "probing").touch()
    samples: list[tuple[float, float, str]] = []
    deadline = time.monotonic() + PROBE_LIMIT_SECONDS
    while not (sync / "stop").exists() and time.monotonic() < deadline:
        for url in urls:
            when, start = time.time(), time.perf_counter()
            error = ""
            try:
                status = client.get(url).status_code
                error = "" if status == 200 else f"HTTP {status}"
            except Exception as exc:
                error = str(exc)[:100]
            samples.append((when, (time.perf_counter() - start) * 1000, error))
            time.sleep(PROBE_PAUSE)
    print(json.dumps(samples))


def with_probe(
    script_argv: list[str], database_url: str
) -> tuple[dict[str, Any], float, list[tuple[float, float, str]]]:
    """Run the import child while a probe process polls pages; both results."""
    sync = Path(tempfile.mkdtemp(prefix="import-bench-"))
    outcome: dict[str, Any] = {}

    def importer() -> None:
        try:
            outcome["result"] = measure_child(
                __file__, [*script_argv, "--sync", str(sync)]
            )
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            (sync / "ready").touch(exist_ok=True)
            (sync / "go").touch()
            (sync / "stop").touch()

    thread = threading.Thread(target=importer)
    thread.start()
    wait_for(sync / "ready", limit=600)
    argv = ["--mode", "probe", "--database-url", database_url, "--sync", str(sync)]
    prober = subprocess.Popen(
        [sys.executable, __file__, *argv], stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(sync / "probing", limit=120)
    finally:
        (sync / "go").touch()
    thread.join()
    out, _ = prober.communicate(timeout=60)
    shutil.rmtree(sync, ignore_errors=True)
    if "error" in outcome:
        raise outcome["error"]
    result, peak = outcome["result"]
    samples = json.loads(out.strip().splitlines()[-1]) if out.strip() else []
    return result, peak, samples


# --- report --------------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    if args.mode == "probe":
        probe(args.database_url, Path(args.sync))
        return
    path = Path(args.file)
    setup_django(args.database_url)
    if args.mode == "partnerhub":
        sync = Path(args.sync) if args.sync else None
        with profiled(args.profile):
            result = run_partnerhub(path, args.workers, sync, args.staging_insert)
    else:
        result = run_iex(path, args.compare_rows, args.mode)
    print(json.dumps(result))


def report(label: str, result: dict[str, Any], peak: float) -> float:
    rate = result["rows"] / result["seconds"] if result["seconds"] else 0.0
    print(
        f"{label:<46} {int(result['rows']):>9} rows {result['seconds']:>8.2f} s "
        f"{rate:>10,.0f} rows/s  peak RSS {peak:>6.1f} MB  "
        f"(created {int(result['created'])}, duplicates "
        f"{int(result['duplicates'])}, invalid {int(result['invalid'])}; "
        f"tree CPU {result['cpu']:.1f} s)",
        flush=True,
    )
    return rate


PHASES = (
    ("prime", "prime the filter with the audience's addresses"),
    ("parse", "parse phase (workers parse and validate; below, this process)"),
    ("unpack", "  rows rebuilt from the workers' columns"),
    ("filter", "  never-seen filter (new rows vs possible duplicates)"),
    ("stage", "  staging insert of new rows"),
    ("spool", "  possible duplicates spooled"),
    ("report", "  error report"),
    ("progress", "  progress committed per batch"),
    ("merge", "merge transaction"),
    ("late", "  rows that became duplicates meanwhile"),
    ("insert", "  INSERT … SELECT of the staged rows"),
    ("match", "  duplicates matched"),
)


def report_phases(result: dict[str, Any]) -> None:
    """Wall and CPU seconds of this process per phase; the workers' share."""
    wall, cpu = result["wall"], result["phase_cpu"]
    print(f"  {'phase':<62}{'wall s':>8}{'CPU s':>8}")
    for key, label in PHASES:
        if key in wall:
            print(f"  {label:<62}{wall[key]:>8.2f}{cpu[key]:>8.2f}")
        if key == "progress":
            inner = sum(wall.get(k, 0.0) for k in PHASES_IN_PARSE)
            waited = wall.get("parse", 0.0) - inner
            print(f"  {'  waiting for the workers':<62}{waited:>8.2f}")
    workers = result["cpu"] - result["main_cpu"]
    label = "worker processes (parse and validate), CPU"
    print(f"  {label:<62}{'':>8}{workers:>8.2f}")


PHASES_IN_PARSE = ("unpack", "filter", "stage", "spool", "report", "progress")


def report_pages(
    result: dict[str, Any], samples: list[tuple[float, float, str]]
) -> bool:
    """p95 of the pages while the parse runs and while the merge runs."""
    marks = result["marks"]
    windows = (
        ("while the file is parsed", marks["parse_start"], marks["parse_end"]),
        ("while the merge runs", marks["merge_start"], marks["merge_end"]),
        ("during the whole import", marks["start"], marks["end"]),
    )
    ok = True
    print("  pages (audience page, import progress JSON, campaign list; DEBUG=0):")
    for label, start, end in windows:
        # Every request that overlapped the window.
        inside = [s for s in samples if s[0] <= end and s[0] + s[1] / 1000 >= start]
        times = sorted(ms for _, ms, _ in inside)
        failed = [err for _, _, err in inside if err]
        locked = sum("locked" in err for err in failed)
        if not times:
            print(f"    {label:<28} no request")
            continue
        p95 = times[max(0, round(0.95 * len(times)) - 1)]
        good = p95 <= 300 and not failed
        ok = ok and good
        print(
            f"    {label:<28} {len(times):>4} requests  p50 "
            f"{statistics.median(times):>6.1f} ms  p95 {p95:>6.1f} ms  max "
            f"{times[-1]:>7.1f} ms  failed {len(failed)} (database is locked: "
            f"{locked})  {'OK' if good else 'MISSED'} (p95 ≤ 300 ms, none failed)"
        )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    env = os.environ.get("DATABASE_URL", "")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--compare-rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default=env if env.startswith("postgres") else "",
        help="A PostgreSQL server and base name (default: SQLite under var/bench/).",
    )
    parser.add_argument("--skip-iex", action="store_true")
    parser.add_argument(
        "--compare-only", action="store_true", help="Only the side-by-side runs."
    )
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument(
        "--staging-insert",
        choices=["copy", "executemany"],
        default="copy",
        help="PostgreSQL: load the staging table with COPY (default) or executemany.",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Profile PartnerHub's import with pyinstrument (main process, stderr).",
    )
    parser.add_argument(
        "--mode",
        choices=["partnerhub", "iex-default", "iex-email", "iex-bulk", "probe"],
    )
    parser.add_argument("--file")
    parser.add_argument("--sync")
    args = parser.parse_args()
    if args.mode:
        child(args)
        return
    run(args)


def run(args: argparse.Namespace) -> None:
    big = ROOT / "var" / f"bench_recipients_{args.rows}.csv"
    if not big.exists():
        print(f"generating {big} ...", flush=True)
        generate(big, args.rows)
    engine = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"database: {engine}; load average {os.getloadavg()[0]:.2f}", flush=True)
    options = ["--workers", str(args.workers), "--compare-rows", str(args.compare_rows)]
    options += ["--staging-insert", args.staging_insert]
    options += ["--profile"] if args.profile else []
    if args.compare_only:
        compare(args, big, options)
        return

    url = fresh_database(args.database_url, "partnerhub", args.rows)
    argv = ["--mode", "partnerhub", "--file", str(big), "--database-url", url, *options]
    if args.no_pages:
        ours, peak = measure_child(__file__, argv)
        samples: list[tuple[float, float, str]] = []
    else:
        ours, peak, samples = with_probe(argv, url)
    report(f"PartnerHub import ({args.workers} workers)", ours, peak)
    report_phases(ours)
    if samples:
        report_pages(ours, samples)
    if args.skip_iex:
        return
    compare(args, big, options)


def compare(args: argparse.Namespace, big: Path, options: list[str]) -> None:
    """The same first rows through PartnerHub and the three iex setups."""
    small = head(big, args.compare_rows)
    print(
        f"\nThe same {args.compare_rows:,} rows ({small.name}), one run, "
        f"load average {os.getloadavg()[0]:.2f}:",
        flush=True,
    )
    rates: dict[str, float] = {}
    for mode, label in (
        ("partnerhub", f"PartnerHub import ({args.workers} workers)"),
        ("iex-default", "django-import-export, default"),
        ("iex-email", "django-import-export, import_id_fields email"),
        ("iex-bulk", "django-import-export, bulk settings"),
    ):
        url = fresh_database(args.database_url, mode, args.compare_rows)
        argv = ["--mode", mode, "--file", str(small), "--database-url", url]
        result, peak = measure_child(__file__, [*argv, *options])
        rates[mode] = report(label, result, peak)
    for mode, label in (
        ("iex-default", "default settings"),
        ("iex-email", 'import_id_fields = ("email",)'),
        ("iex-bulk", "bulk settings"),
    ):
        ratio = rates["partnerhub"] / rates[mode] if rates[mode] else 0.0
        print(f"  PartnerHub / django-import-export {label}: {ratio:.1f}x")


def head(big: Path, rows: int) -> Path:
    """A file of the header and the first `rows` rows of `big` (made once)."""
    small = big.with_name(f"{big.stem}_head{rows}.csv")
    if small.exists():
        return small
    with big.open("rb") as source, small.open("wb") as out:
        for index, line in enumerate(source):
            if index > rows:
                break
            out.write(line)
    return small


if __name__ == "__main__":
    main()
