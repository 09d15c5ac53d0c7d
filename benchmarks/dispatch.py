"""Benchmark the dispatch of a 100,000-recipient e-mail campaign to the sandbox.

    .venv/bin/python benchmarks/dispatch.py [--recipients 100000] [--database-url URL]
        [--personalised]

Targets (product.md §6): 100,000 recipients in at most 10 s, 1,000,000 in at most
60 s, and at most 0.05 ms of application work per recipient beyond the HTTP calls.
The sandbox runs as its own process; the dispatch (snapshot, batches, provider
calls, bookkeeping) runs in a child process timed end to end, with the time spent
inside the Mail Partner client's `send` (request encoding, HTTP round trip, answer
decoding) counted apart as "HTTP".

`--personalised` then dispatches a second campaign of the same size in the same
run, using `#FIRSTNAME#` over a few hundred French first names drawn Zipf-like
(`french_names.py`), and prints both figures side by side.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _common as common

TARGET_100K_SECONDS, TARGET_1M_SECONDS = 10.0, 60.0
APP_TARGET_MS = 0.05


def child(campaign_id: int, profile: bool, sql: bool = False) -> None:
    """Dispatch the campaign once and print the figures as JSON."""
    from campaigns import dispatch
    from partnerhub.providers.mailpartner import MailPartnerClient

    timer = common.CallTimer()
    timer.wrap(MailPartnerClient, "send")
    common.without_query_log()
    start, cpu = time.perf_counter(), time.process_time()
    with common.profiled(profile), common.sql_timed(sql):
        result = dispatch.dispatch(campaign_id)
    seconds = time.perf_counter() - start
    figures = {
        "status": result.status,
        "batches": result.batches_sent,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "http_seconds": timer.seconds,
        "http_cpu_seconds": timer.cpu_seconds,
        "http_calls": timer.calls,
        "peak_rss_mb": common.peak_rss_mb(),
    }
    print(json.dumps(figures))


def report(recipients: int, sent: int, figures: dict[str, float]) -> None:
    seconds, http = figures["seconds"], figures["http_seconds"]
    target = common.target_seconds(recipients, TARGET_100K_SECONDS, TARGET_1M_SECONDS)
    app_ms = (seconds - http) * 1000 / max(recipients, 1)
    print(f"recipients          {recipients:>10,}  (accepted by the sandbox: {sent:,})")
    print(
        f"total               {seconds:>10.2f} s   "
        f"(target ≤ {target:g} s: {common.verdict(seconds, target)})"
    )
    print(f"throughput          {recipients / seconds:>10,.0f} recipients/s")
    print(
        f"HTTP (client send)  {http:>10.2f} s   "
        f"over {int(figures['http_calls'])} sends of ≤500"
    )
    app_cpu = figures["cpu_seconds"] - figures["http_cpu_seconds"]
    print(
        f"app side            {seconds - http:>10.2f} s   "
        f"(CPU {app_cpu:.2f} s = {app_cpu * 1000 / max(recipients, 1):.4f} ms "
        "per recipient; wall time includes waiting for the database and the CPU)"
    )
    print(
        f"app per recipient   {app_ms:>10.4f} ms  "
        f"(target ≤ {APP_TARGET_MS:g} ms: {common.verdict(app_ms, APP_TARGET_MS)})"
    )
    print(f"peak RSS            {figures['peak_rss_mb']:>10.1f} MB  (dispatch process)")
    batches = figures["batches"]
    print(f"campaign status     {figures['status']:>10}  ({batches} batches)")


def run_once(
    args: Any, sandbox: common.SandboxProcess, names: list[str] | None
) -> tuple[int, dict[str, float]]:
    """Seed, dispatch and check one campaign; (received, figures)."""
    kind = "personalised" if names else "plain"
    sandbox.control("POST", "reset")
    print(f"seeding {args.recipients:,} recipients ({kind}) ...", flush=True)
    campaign_id = common.seed_email_campaign(args.recipients, first_names=names)
    print("dispatching ...", flush=True)
    figures = common.run_child(__file__, args, campaign_id)
    accepted = sandbox.accepted()
    if figures["status"] != "sent" or len(accepted) != args.recipients:
        raise SystemExit(f"dispatch incomplete: {figures}, {len(accepted)} accepted")
    if max(accepted.values(), default=1) != 1:
        raise SystemExit("some recipients were sent twice")
    return sum(accepted.values()), figures


def main() -> None:
    args = common.parse_args(__doc__ or "", "dispatch")
    if args.child:
        common.configure(args.database_url)
        child(args.campaign, args.profile, args.sql)
        return
    common.fresh_sqlite(args.database_url)
    port = common.free_port()
    common.configure(args.database_url, sandbox_port=port)
    runs = [None]
    if args.personalised:
        from benchmarks.french_names import first_names

        runs.append(first_names(args.recipients))
    done = []
    with common.sandbox_process(port) as sandbox:
        for names in runs:
            done.append((names, *run_once(args, sandbox, names)))
    for names, received, figures in done:
        if args.personalised:
            distinct = len(set(names)) if names else 0
            title = (
                f"personalised (#FIRSTNAME#, {distinct} distinct)" if names else "plain"
            )
            print(f"--- {title}")
        report(args.recipients, received, figures)


if __name__ == "__main__":
    main()
