"""A real worker killed with SIGKILL mid-dispatch, then restarted: nothing sent twice.

Everything runs as real processes, as in production: a temporary SQLite database
(whatever the suite's own database is) with django-q2's ORM broker, the campaign
queued by `campaign_send`, and `manage.py qcluster` doing the work. The provider
sandbox runs in this process; its per-address acceptance counts are the proof.

The kill is made deterministic with the sandbox's fault rules: one `/send` is
processed and then held unanswered (`slow`, 30 s), the test waits until the sandbox
has counted that batch's recipients and kills the whole cluster while the worker is
still waiting for the answer. That is the hardest moment for exactly-once: the
provider has the batch, the database only knows it was in flight. The restarted
cluster gets the same task back from the broker (short `Q_RETRY`), takes over the
expired lease, and must leave that batch alone (Mail Partner has no lookup: it ends
`unknown` with a reason) while sending every other recipient exactly once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
AUDIENCE = 5000
BATCH = 500
PASS = {"fault": "slow", "path": "/send", "delay": 0}  # answered at once
HOLD = {"fault": "slow", "path": "/send", "delay": 30, "count": 1}
LOST = {"fault": "lost_response", "path": "/send", "count": 1}

SEED = """
from campaigns import services
from campaigns.models import Audience, Campaign, Recipient
from partnerhub.models import ProviderAccount

audience = Audience.objects.create(name="Crash test")
Recipient.objects.bulk_create(
    [
        Recipient(audience=audience, email=f"client{i}@example.fr", first_name="Zoé")
        for i in range(AUDIENCE_SIZE)
    ],
    batch_size=1000,
)
account = ProviderAccount.objects.create(provider="mail", name="Main mail")
campaign = Campaign.objects.create(
    name="Soldes", channel="email", account=account, audience=audience,
    sender="news@example.fr", subject="Les soldes", html="<p>Bonjour</p>",
)
services.campaign_send(campaign=campaign)  # queues the task in the ORM broker
print(campaign.pk)
"""


def once(rule: dict[str, Any]) -> dict[str, Any]:
    return {**rule, "count": 1}


@pytest.fixture
def worker_env(tmp_path: Path, sandbox: Any) -> dict[str, str]:
    """The children's environment: their own SQLite file, never CI's PostgreSQL or
    Redis, the sandbox's URL and demo key, a 2 s lease and a 5 s broker retry."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("Q_")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        MAILPARTNER_API_URL=sandbox.mail_url,
        MAILPARTNER_API_KEY=sandbox.mail_api_key,
        SMSPARTNER_API_URL=sandbox.sms_url,
        SMSPARTNER_API_KEY=sandbox.sms_api_key,
        CAMPAIGN_DISPATCH_LEASE_SECONDS="2",
        Q_WORKERS="1",
        Q_POLL="0.1",
        Q_RETRY="5",  # the killed run's task comes back after 5 s ...
        Q_TIMEOUT="60",  # ... and a run may take longer (dispatch is idempotent)
        PYTHONWARNINGS="ignore",  # django-q2 warns about retry < timeout
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def campaign_id(worker_env: dict[str, str]) -> int:
    manage(worker_env, "migrate", "-v0")
    seed = SEED.replace("AUDIENCE_SIZE", str(AUDIENCE))
    return int(manage(worker_env, "shell", "-c", seed).split()[-1])


@pytest.fixture
def cluster(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """`cluster()` starts a qcluster in its own process group; all are killed after."""
    started: list[subprocess.Popen[bytes]] = []
    logs: list[BinaryIO] = []

    def start() -> subprocess.Popen[bytes]:
        log = (tmp_path / f"qcluster{len(started)}.log").open("wb")
        logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=worker_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        kill_group(proc, signal.SIGKILL)
    for log in logs:
        log.close()


def kill_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    """The cluster's sentinel, pusher, monitor and workers share its process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)
    proc.wait(timeout=30)


def wait_for(check: Any, what: str, timeout: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def query(env: dict[str, str], sql: str, *params: Any) -> list[tuple[Any, ...]]:
    path = env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path, timeout=20) as db:
        return db.execute(sql, params).fetchall()


def campaign_status(env: dict[str, str], campaign_id: int) -> str:
    sql = "SELECT status FROM campaigns_campaign WHERE id = ?"
    return query(env, sql, campaign_id)[0][0]


def deliveries(env: dict[str, str], campaign_id: int) -> list[tuple[str, str, str]]:
    sql = "SELECT address, status, error FROM campaigns_delivery WHERE campaign_id = ?"
    return query(env, sql, campaign_id)  # type: ignore[return-value]


def assert_counters_agree(env: dict[str, str], campaign_id: int) -> None:
    """The stored counters equal the deliveries counted by status."""
    counted = dict(
        query(
            env,
            "SELECT status, COUNT(*) FROM campaigns_delivery WHERE campaign_id = ? "
            "GROUP BY status",
            campaign_id,
        )
    )
    names = ("pending", "accepted", "delivered", "not_delivered", "suppressed")
    names += ("failed", "cancelled", "unknown")
    sql = (
        f"SELECT {', '.join(names)} FROM campaigns_campaigncounts WHERE campaign_id = ?"  # noqa: S608
    )
    stored = dict(zip(names, query(env, sql, campaign_id)[0], strict=True))
    assert {k: v for k, v in stored.items() if v} == counted


def kill_mid_dispatch_and_restart(
    sandbox: Any,
    cluster: Any,
    env: dict[str, str],
    campaign_id: int,
    held: int,
    provider: str = "mail",
) -> None:
    """Kill the cluster while send number `held` waits for its answer; restart it."""
    first = cluster()
    wait_for(
        lambda: sum(sandbox.recipients(provider).values()) >= held * BATCH,
        f"the sandbox to process send {held}",
    )
    kill_group(first, signal.SIGKILL)
    assert campaign_status(env, campaign_id) == "sending"
    cluster()
    wait_for(lambda: campaign_status(env, campaign_id) == "sent", "the resumed run")


def sends(sandbox: Any) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests("mail", "/send") if r["method"] == "POST"]


def test_sigkill_mid_dispatch_then_restart_sends_everyone_exactly_once(
    sandbox: Any, cluster: Any, worker_env: dict[str, str], campaign_id: int
) -> None:
    sandbox.set_faults([once(PASS), once(PASS), HOLD, PASS])
    kill_mid_dispatch_and_restart(sandbox, cluster, worker_env, campaign_id, held=3)

    received = sandbox.recipients("mail")
    assert len(received) == AUDIENCE
    assert set(received.values()) == {1}
    assert len(sends(sandbox)) == AUDIENCE // BATCH  # the held batch never re-sent
    rows = deliveries(worker_env, campaign_id)
    assert Counter(status for _, status, _ in rows) == {
        "accepted": AUDIENCE - BATCH,
        "unknown": BATCH,  # the one whose answer the kill lost
    }
    assert all(error for _, status, error in rows if status == "unknown")
    assert_counters_agree(worker_env, campaign_id)


def test_sigkill_with_lost_responses_never_resends_a_lost_batch(
    sandbox: Any, cluster: Any, worker_env: dict[str, str], campaign_id: int
) -> None:
    sandbox.set_faults([once(PASS), LOST, once(PASS), HOLD, PASS])
    kill_mid_dispatch_and_restart(sandbox, cluster, worker_env, campaign_id, held=4)

    received = sandbox.recipients("mail")
    all_addresses = {f"client{i}@example.fr" for i in range(AUDIENCE)}
    assert set(received) == all_addresses
    assert max(received.values()) == 1
    requests = sends(sandbox)
    assert len(requests) == AUDIENCE // BATCH
    assert [r["fault"] for r in requests].count("lost_response") == 1
    rows = deliveries(worker_env, campaign_id)
    unknown = {address for address, status, _ in rows if status == "unknown"}
    assert Counter(status for _, status, _ in rows) == {
        "accepted": AUDIENCE - 2 * BATCH,
        "unknown": 2 * BATCH,  # the lost answer and the one the kill lost
    }
    assert all(error for _, status, error in rows if status == "unknown")
    assert all(received[address] == 1 for address in unknown)
    assert_counters_agree(worker_env, campaign_id)


# --- personalised campaigns -------------------------------------------------------
# Ten first names (one empty: the fallback), 500 recipients each: the email is sent
# in ten requests, one `variables` set each; the SMS in ten `/bulk-send` requests,
# each number its own text.
NAMES = ["Léa", "Hugo", "Chloé", "Jules", "Manon", "Arthur", "Inès", "Louis", "Zoé", ""]
SEED_PERSONALISED = """
from campaigns import services
from campaigns.models import Audience, Campaign, Recipient
from partnerhub.models import ProviderAccount

names = NAMES
audience = Audience.objects.create(name="Crash test")
Recipient.objects.bulk_create(
    [
        Recipient(
            audience=audience, email=f"client{i}@example.fr",
            phone=f"+3361{i:07d}", first_name=names[i % len(names)],
        )
        for i in range(AUDIENCE_SIZE)
    ],
    batch_size=1000,
)
provider = {"email": "mail", "sms": "sms"}["CHANNEL"]
account = ProviderAccount.objects.create(provider=provider, name="Main")
campaign = Campaign.objects.create(
    name="Soldes", channel="CHANNEL", account=account, audience=audience,
    sender={"email": "news@example.fr", "sms": "PartnerHub"}["CHANNEL"],
    subject="Soldes pour #FIRSTNAME#", html="<p>Bonjour #FIRSTNAME#</p>",
    text="Bonjour #FIRSTNAME#, -20% ce week-end. STOP au 36180",
    merge_fallbacks={"FIRSTNAME": "ami"},
)
services.campaign_send(campaign=campaign)
print(campaign.pk)
"""


def seed_personalised(env: dict[str, str], channel: str) -> int:
    manage(env, "migrate", "-v0")
    seed = SEED_PERSONALISED.replace("AUDIENCE_SIZE", str(AUDIENCE))
    seed = seed.replace("NAMES", repr(NAMES)).replace("CHANNEL", channel)
    return int(manage(env, "shell", "-c", seed).split()[-1])


def own_name(i: int) -> str:
    return NAMES[i % len(NAMES)] or "ami"


def test_sigkill_mid_personalised_email_sends_each_their_own_name_once(
    sandbox: Any, cluster: Any, worker_env: dict[str, str]
) -> None:
    campaign_id = seed_personalised(worker_env, "email")
    sandbox.set_faults([once(PASS), once(PASS), HOLD, PASS])
    kill_mid_dispatch_and_restart(sandbox, cluster, worker_env, campaign_id, held=3)

    received = sandbox.messages("mail")
    assert len(received) == AUDIENCE
    for i in range(AUDIENCE):  # once each, with their own first name
        assert received[f"client{i}@example.fr"] == [f"Soldes pour {own_name(i)}"]
    requests = sends(sandbox)
    assert len(requests) == AUDIENCE // BATCH  # the held batch never re-sent
    rows = deliveries(worker_env, campaign_id)
    assert Counter(status for _, status, _ in rows) == {
        "accepted": AUDIENCE - BATCH,
        "unknown": BATCH,
    }
    assert_counters_agree(worker_env, campaign_id)


def test_sigkill_mid_personalised_sms_finds_the_held_batch_and_sends_no_one_twice(
    sandbox: Any, cluster: Any, worker_env: dict[str, str]
) -> None:
    campaign_id = seed_personalised(worker_env, "sms")
    bulk = {"path": "/bulk-send"}
    sandbox.set_faults(
        [
            once({**PASS, **bulk}),
            {**LOST, **bulk},
            once({**PASS, **bulk}),
            {**HOLD, **bulk},
            {**PASS, **bulk},
        ]
    )
    kill_mid_dispatch_and_restart(
        sandbox, cluster, worker_env, campaign_id, held=4, provider="sms"
    )

    received = sandbox.messages("sms")
    assert len(received) == AUDIENCE
    for i in range(AUDIENCE):
        text = f"Bonjour {own_name(i)}, -20% ce week-end. STOP au 36180"
        assert received[f"+3361{i:07d}"] == [text]
    posts = sandbox.requests("sms", "/bulk-send")
    assert len(posts) == AUDIENCE // BATCH  # lost and held batches found by tag
    assert sandbox.requests("sms", "/send") == []
    rows = deliveries(worker_env, campaign_id)
    assert Counter(status for _, status, _ in rows) == {"accepted": AUDIENCE}
    assert_counters_agree(worker_env, campaign_id)
