"""The production shape: PostgreSQL + Redis, two `qcluster` nodes, faults on, and the
node dispatching the email campaign killed with SIGKILL mid-way.

A 20,000-recipient email campaign and a 20,000-recipient SMS campaign are queued
and two nodes start. The sandbox (in this process) answers with the providers' own
faults: HTTP 500 "queueing problem" bodies, 429 with Retry-After, connection
resets, read timeouts, lost answers and a slow path that keeps the dispatch busy.
Once the email campaign's holder has sent a few batches, its node is killed (the
holder is read from the campaign's lease, `pid@host:nonce`). Redis forgets the
task that died with it, so only the takeover of the every-minute task can resume
the campaign: the surviving node must finish it within the stated bound
(lease + 60 s period + 30 s scheduler cycle).

Proof: the sandbox's per-address acceptance counts, against the deliveries.
Nobody twice; everybody accepted (received exactly once), or `unknown`/`failed`
with a reason. Runs in CI's PostgreSQL + Redis pass (skipped elsewhere).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from partnerhub.qcluster import descendants

ROOT = Path(__file__).resolve().parent.parent
SIZE = 20_000
LEASE = 10
TAKEOVER_BOUND = LEASE + 60 + 30  # lease, one period, one scheduler cycle
DATABASE = "partnerhub_cluster_check"
CONFIRMED = ("accepted", "delivered", "not_delivered")
REDIS_DB = 7
MARKER = "PARTNERHUB_CLUSTER_CHECK"  # in the nodes' environment
FAULTS = [
    {"path": "/send", "fault": "http_500", "probability": 0.06},
    {"path": "/send", "fault": "http_429", "probability": 0.05},
    {"path": "/send", "fault": "reset", "probability": 0.03},
    {"path": "/send", "fault": "timeout", "probability": 0.02, "delay": 3},
    {"path": "/send", "fault": "lost_response", "probability": 0.02},
    {"path": "/send", "fault": "slow", "delay": 0.4},
]
SEED = """
from campaigns import services
from campaigns.models import Audience, Campaign, Recipient
from partnerhub.models import ProviderAccount
from django.core.management import call_command

call_command("setup_schedules", verbosity=0)
ids = []
for channel, provider in (("email", "mail"), ("sms", "sms")):
    audience = Audience.objects.create(name=f"Cluster {channel}")
    Recipient.objects.bulk_create(
        [
            Recipient(
                audience=audience,
                email=f"client{i}@example.fr",
                phone=f"+336{i:08d}",
                first_name="Zoé",
            )
            for i in range(SIZE)
        ],
        batch_size=2000,
    )
    account = ProviderAccount.objects.create(provider=provider, name=f"Main {provider}")
    campaign = Campaign.objects.create(
        name=f"Cluster {channel}", channel=channel, account=account,
        audience=audience, sender="news@example.fr" if channel == "email" else "Soldes",
        subject="Les soldes", html="<p>Bonjour</p>", text="Les soldes. STOP 36180",
    )
    services.campaign_send(campaign=campaign)
    ids.append(campaign.pk)
print(*ids)
"""

pytestmark = [pytest.mark.slow, pytest.mark.cluster]


def _production_shape() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        pytest.skip("needs PostgreSQL and Redis (CI's second pass)")
    parts = urlsplit(database_url)
    cluster_db = urlunsplit(parts._replace(path=f"/{DATABASE}"))
    redis = urlsplit(redis_url)
    return cluster_db, urlunsplit(redis._replace(path=f"/{REDIS_DB}"))


@pytest.fixture
def shape(sandbox: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database and Redis db for the two nodes, and their env."""
    import psycopg
    import redis

    database_url, redis_url = _production_shape()
    _end_stale_nodes()
    admin = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{DATABASE}"')
    redis.Redis.from_url(redis_url).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("Q_")}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        MAILPARTNER_API_URL=sandbox.mail_url,
        MAILPARTNER_API_KEY=sandbox.mail_api_key,
        SMSPARTNER_API_URL=sandbox.sms_url,
        SMSPARTNER_API_KEY=sandbox.sms_api_key,
        CAMPAIGN_DISPATCH_LEASE_SECONDS=str(LEASE),
        CAMPAIGN_RETRY_BASE_SECONDS="0.2",
        CAMPAIGN_RETRY_MAX_SECONDS="2",
        PROVIDER_READ_TIMEOUT="2",
        Q_WORKERS="2",
        Q_STOP_GRACE_SECONDS="2",
        PYTHONWARNINGS="ignore",
        LOG_LEVEL="WARNING",
        **{MARKER: "1"},
    )
    yield env
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _end_stale_nodes() -> None:
    """Nodes left by an interrupted run of this test would take tasks from the same
    Redis queue: end every process that carries this test's marker first."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"{MARKER}=1".encode() in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(env: dict[str, str], sql: str, *params: Any) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as db:
        return db.execute(sql, params).fetchall()  # type: ignore[arg-type]


def _campaign(env: dict[str, str], pk: int) -> tuple[str, str, str]:
    (row,) = _rows(
        env,
        "SELECT status, lease_owner, status_reason FROM campaigns_campaign "
        "WHERE id = %s",
        pk,
    )
    return row


def _wait_for(check: Any, what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _start_node(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _holder_node(
    nodes: list[subprocess.Popen[bytes]], owner: str
) -> subprocess.Popen[bytes] | None:
    pid = int(owner.split("@", 1)[0])
    for node in nodes:
        if pid == node.pid or pid in descendants(node.pid):
            return node
    return None


def test_two_nodes_one_killed_nobody_twice_everybody_accounted_for(
    shape: dict[str, str], sandbox: Any, tmp_path: Path
) -> None:
    env = shape
    _manage(env, "migrate", "-v0")
    email_id, sms_id = map(int, _manage(env, "shell", "-c", SEED.replace(
        "SIZE", str(SIZE))).split()[-2:])  # fmt: skip
    sandbox.set_faults(FAULTS, seed=11)
    nodes = [_start_node(env, tmp_path / f"node{i}.log") for i in (1, 2)]
    try:
        # Kill the email campaign's node once it has sent a few batches.
        def holder() -> subprocess.Popen[bytes] | None:
            status, owner, _ = _campaign(env, email_id)
            sent = len(sandbox.requests(provider="mail", path="/send"))
            if status == "sending" and owner and sent >= 8:
                return _holder_node(nodes, owner)
            return None

        victim = _wait_for(holder, "the email dispatch to be under way", 180)
        killed_owner = _campaign(env, email_id)[1]
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = time.monotonic()
        requests_at_kill = len(sandbox.requests(provider="mail", path="/send"))

        def taken_over() -> bool:
            owner = _campaign(env, email_id)[1]
            status = _campaign(env, email_id)[0]
            return status != "sending" or (bool(owner) and owner != killed_owner)

        _wait_for(taken_over, "another node to take the campaign over", 180)
        takeover = time.monotonic() - killed_at

        def both_done() -> bool:
            return all(
                _campaign(env, pk)[0] not in ("scheduled", "sending")
                for pk in (email_id, sms_id)
            )

        _wait_for(both_done, "both campaigns to finish", 300)
        finished = time.monotonic() - killed_at
    finally:
        for node in nodes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGKILL)
            node.wait(timeout=10)
        sandbox.clear_faults()

    summary = {"takeover_s": round(takeover, 1), "finished_s": round(finished, 1)}
    for pk, provider in ((email_id, "mail"), (sms_id, "sms")):
        status, _, reason = _campaign(env, pk)
        assert status == "sent", f"{provider}: {status} {reason}"
        received = sandbox.recipients(provider)
        rows = _rows(
            env,
            "SELECT address, status, error FROM campaigns_delivery "
            "WHERE campaign_id = %s",
            pk,
        )
        assert len(rows) == SIZE
        by_status = Counter(status for _, status, _ in rows)
        twice = {a: n for a, n in received.items() if n > 1}
        assert not twice, f"{provider}: received twice: {list(twice)[:5]}"
        # Confirmed by the provider: its answer, or its lookup by tag (SMS), which
        # may already report the delivery itself.
        confirmed = {a for a, s, _ in rows if s in CONFIRMED}
        unsure = {a for a, s, _ in rows if s in ("unknown", "failed")}
        assert confirmed <= set(received), "confirmed but never received"
        assert set(received) <= confirmed | unsure, "received but not accounted for"
        assert all(error for _, s, error in rows if s in ("unknown", "failed"))
        assert set(by_status) <= {*CONFIRMED, "unknown", "failed"}, by_status
        summary[provider] = {
            "requests": len(sandbox.requests(provider=provider, path="/send")),
            "received_once": len(received),
            **by_status,
        }
    summary["mail_requests_at_kill"] = requests_at_kill
    print("CLUSTER CHECK", summary)
    assert takeover <= TAKEOVER_BOUND + 15, summary
