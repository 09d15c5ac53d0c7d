"""What the campaign benchmarks share: database, sandbox process, seeding, timing.

The parent process prepares a fresh database (SQLite under `var/bench/` unless
`--database-url` says otherwise), starts the provider sandbox as a separate
process (`manage.py partner_sandbox`), seeds an e-mail campaign, then runs the
timed part in a child process so its peak RSS (`VmHWM`) is the dispatch's own and
not the seeding's. The child prints one JSON line that the parent reports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
SEED_CHUNK = 5000


def parse_args(doc: str, name: str) -> argparse.Namespace:
    """`--recipients`, `--database-url`, plus the child's internal flags."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        default=f"sqlite:///{BENCH_DIR / f'{name}.sqlite3'}",
        help="Default: a fresh SQLite file under var/bench/ (recreated each run).",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="Profile the timed part with pyinstrument (report on stderr).",
    )
    parser.add_argument(
        "--personalised",
        action="store_true",
        help="dispatch.py: also a #FIRSTNAME# campaign, reported beside the plain one.",
    )
    parser.add_argument(
        "--sql",
        action="store_true",
        help="Time the timed part's SQL by statement shape (report on stderr).",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--campaign", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def configure(database_url: str, sandbox_port: int | None = None) -> None:
    """Environment for this process and its children, then `django.setup()`.

    CI's `DATABASE_URL`/`REDIS_URL` are never inherited: the benchmark runs on the
    database it was given, with django-q2's ORM broker.
    """
    sys.path.insert(0, str(ROOT))
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerhub.settings"
    os.environ.setdefault("DEBUG", "1")  # development defaults (sandbox)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if sandbox_port is not None:
        base = f"http://127.0.0.1:{sandbox_port}"
        os.environ["SANDBOX_PORT"] = str(sandbox_port)
        os.environ["MAILPARTNER_API_URL"] = f"{base}/mailpartner/v1"
        os.environ.pop("MAILPARTNER_API_KEY", None)  # the sandbox's demo key
    import django

    django.setup()


def without_query_log() -> None:
    """The timed part runs as production does: no SQL query log.

    The parent and the child start with DEBUG on for the sandbox's development
    defaults, and DEBUG also logs every statement with its parameters formatted
    into it (`connection.queries`): for a refresh's `UPDATE … FROM unnest` of six
    arrays of 500 values that formatting cost as much as the statement. Production
    runs with DEBUG off, so the child turns the log off before it starts timing.
    """
    from django.conf import settings

    settings.DEBUG = False


def fresh_sqlite(database_url: str) -> None:
    """Delete the default SQLite file (and its WAL) so every run starts equal; a
    database named with `--database-url` is never deleted, only added to."""
    path = Path(database_url.removeprefix("sqlite:///"))
    if not database_url.startswith("sqlite:///") or path.parent != BENCH_DIR:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class SandboxProcess:
    """`manage.py partner_sandbox` on a free port, with its control endpoints."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        # No quiet hours: a run at 21:00 would otherwise leave every status
        # waiting until 08:00, and the refresh benchmark measures settled ones.
        command = ["manage.py", "partner_sandbox", "--quiet", "--no-quiet-hours"]
        command += ["--port", str(port)]
        self.proc = subprocess.Popen(
            [sys.executable, *command, "--host", "127.0.0.1"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        self.http = requests.Session()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("the sandbox process exited at start-up")
            with contextlib.suppress(requests.ConnectionError):
                self.control("GET", "state")
                return
            time.sleep(0.1)
        raise SystemExit("the sandbox did not start within 30 s")

    def control(self, method: str, action: str, **kwargs: Any) -> Any:
        url = f"{self.url}/_sandbox/{action}"
        response = self.http.request(method, url, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json()

    def accepted(self) -> dict[str, int]:
        data = self.control("GET", "recipients", params={"provider": "mail"})
        return data["recipients"]

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def sandbox_process(port: int) -> Iterator[SandboxProcess]:
    sandbox = SandboxProcess(port)
    try:
        yield sandbox
    finally:
        sandbox.stop()


PLAIN_HTML = "<p>Bonjour</p><a href='#UNSUBSCRIBE_LINK#'>stop</a>"
PERSONALISED_HTML = "<p>Bonjour #FIRSTNAME#</p><a href='#UNSUBSCRIBE_LINK#'>stop</a>"


def seed_email_campaign(
    recipients: int, bounce_every: int = 0, first_names: list[str] | None = None
) -> int:
    """Migrate, then one audience of `recipients` addresses and a queued campaign;
    every `bounce_every`-th address bounces at the sandbox (ends not delivered).
    With `first_names` (one per recipient) the campaign uses `#FIRSTNAME#`."""
    from django.core.management import call_command

    from campaigns import services
    from campaigns.models import Audience, Campaign, Recipient
    from partnerhub.models import ProviderAccount

    call_command("migrate", verbosity=0)
    audience = Audience.objects.create(name=f"Benchmark {time.time_ns()}")
    for start in range(0, recipients, SEED_CHUNK):
        stop = min(start + SEED_CHUNK, recipients)
        Recipient.objects.bulk_create(
            Recipient(
                audience=audience,
                email=_address(i, bounce_every),
                first_name=first_names[i] if first_names else "Zoé",
                last_name="Martin",
            )
            for i in range(start, stop)
        )
    account, _ = ProviderAccount.objects.get_or_create(provider="mail", name="Main")
    campaign = Campaign.objects.create(
        name="Benchmark",
        channel="email",
        account=account,
        audience=audience,
        sender="news@example.fr",
        subject="Les soldes",
        html=PERSONALISED_HTML if first_names else PLAIN_HTML,
        merge_fallbacks={"FIRSTNAME": "cher client"} if first_names else {},
    )
    services.campaign_send(campaign=campaign)
    return campaign.pk


def _address(index: int, bounce_every: int) -> str:
    bounces = bounce_every and index % bounce_every == 0
    return f"{'bounce' if bounces else 'client'}{index}@exemple-{index % 97}.fr"


def run_child(script: str, args: argparse.Namespace, campaign_id: int) -> Any:
    """Run the timed part in a fresh process; its last stdout line is JSON."""
    argv = [sys.executable, script, "--child", "--campaign", str(campaign_id)]
    argv += ["--database-url", args.database_url]
    argv += ["--profile"] if args.profile else []
    argv += ["--sql"] if getattr(args, "sql", False) else []
    done = subprocess.run(
        argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"the timed child failed with {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def profiled(enabled: bool) -> Iterator[None]:
    """Optionally profile the block; the report goes to stderr (stdout is JSON)."""
    if not enabled:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    with profiler:
        yield
    sys.stderr.write(profiler.output_text(color=False, show_all=False))


@contextlib.contextmanager
def sql_timed(enabled: bool) -> Iterator[None]:
    """Optionally add up the block's SQL time by statement shape, commits included.

    The shape is the statement with its numbers and parameters blurred, so the
    500 batches of a dispatch add up into one line each; the report goes to stderr.
    """
    if not enabled:
        yield
        return
    import re
    from collections import defaultdict

    from django.db import connection
    from django.db.backends.base.base import BaseDatabaseWrapper

    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def add(shape: str, start: float) -> None:
        entry = totals[shape]
        entry[0] += 1
        entry[1] += time.perf_counter() - start

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            add(re.sub(r"\\d+", "N", " ".join(str(sql).split()))[:110], start)

    original_commit = BaseDatabaseWrapper._commit

    def commit(self: Any) -> Any:
        start = time.perf_counter()
        try:
            return original_commit(self)
        finally:
            add("COMMIT", start)

    BaseDatabaseWrapper._commit = commit  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(timed):
            yield
    finally:
        BaseDatabaseWrapper._commit = original_commit  # type: ignore[method-assign]
        rows = sorted(totals.items(), key=lambda item: -item[1][1])
        sys.stderr.write(f"{'seconds':>8} {'count':>7}  statement\n")
        for shape, (count, seconds) in rows[:25]:
            sys.stderr.write(f"{seconds:8.2f} {int(count):7}  {shape}\n")


def peak_rss_mb() -> float:
    """This process's peak resident memory (`VmHWM`: its own, unlike ru_maxrss
    which may carry the parent's peak across fork + exec)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class CallTimer:
    """Wraps methods to add up the time spent inside them (the provider calls)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.calls = 0

    def wrap(self, owner: type, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.cpu_seconds += time.process_time() - cpu
                self.calls += 1

        setattr(owner, name, timed)


def target_seconds(size: int, per_100k: float, per_million: float) -> float:
    """The time target for `size` rows (product.md §6 gives 100,000 and 1,000,000):
    the 100,000 one up to that size, the million's pro rata beyond it."""
    if size <= 100_000:
        return per_100k
    return max(per_100k, per_million * size / 1_000_000)


def verdict(value: float, target: float) -> str:
    return "OK" if value <= target else "MISSED"
