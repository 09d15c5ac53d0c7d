"""Benchmark the status refresh of a 100,000-delivery e-mail campaign.

    .venv/bin/python benchmarks/status_refresh.py [--recipients N] [--database-url URL]

Targets (product.md §6): 100,000 in at most 5 s, 1,000,000 in at most 60 s. The
parent seeds and dispatches the campaign to the sandbox (its own process, not
timed), moves the sandbox clock an hour ahead so every status has settled
(delivered, or not delivered for bounces), then a child process times
`campaign_refresh_statuses`: one `bulk-status` call per batch of 500 and the
changed statuses written back.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _common as common

TARGET_100K_SECONDS, TARGET_1M_SECONDS = 5.0, 60.0
BOUNCE_EVERY = 50  # one address in 50 bounces: "not delivered"


def child(campaign_id: int, profile: bool, sql: bool = False) -> None:
    """Refresh the campaign's statuses once and print the figures as JSON."""
    from campaigns import services
    from campaigns.models import Campaign
    from partnerhub.providers.mailpartner import MailPartnerClient

    timer = common.CallTimer()
    timer.wrap(MailPartnerClient, "bulk_status")
    common.without_query_log()
    campaign = Campaign.objects.get(pk=campaign_id)
    start, cpu = time.perf_counter(), time.process_time()
    with common.profiled(profile), common.sql_timed(sql):
        changed = services.campaign_refresh_statuses(campaign=campaign)
    seconds = time.perf_counter() - start
    campaign.refresh_from_db()
    figures = {
        "changed": changed,
        "settled": campaign.settled_at is not None,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "http_seconds": timer.seconds,
        "http_calls": timer.calls,
        "peak_rss_mb": common.peak_rss_mb(),
    }
    print(json.dumps(figures))


def prepare(recipients: int) -> int:
    """Seed (some addresses bounce) and dispatch the campaign; returns its id."""
    from campaigns import dispatch

    campaign_id = common.seed_email_campaign(recipients, bounce_every=BOUNCE_EVERY)
    result = dispatch.dispatch(campaign_id)
    if result.status != "sent":
        raise SystemExit(f"the dispatch did not complete: {result}")
    return campaign_id


def report(recipients: int, figures: dict[str, float]) -> None:
    seconds = figures["seconds"]
    target = common.target_seconds(recipients, TARGET_100K_SECONDS, TARGET_1M_SECONDS)
    print(f"deliveries          {recipients:>10,}  ({figures['changed']:,} changed)")
    print(
        f"total               {seconds:>10.2f} s   (target ≤ {target:g} s: "
        f"{common.verdict(seconds, target)})"
    )
    print(f"throughput          {recipients / seconds:>10,.0f} deliveries/s")
    print(
        f"HTTP (bulk-status)  {figures['http_seconds']:>10.2f} s   "
        f"summed over {int(figures['http_calls'])} calls (they overlap on PostgreSQL)"
    )
    print(f"process CPU         {figures['cpu_seconds']:>10.2f} s")
    print(f"peak RSS            {figures['peak_rss_mb']:>10.1f} MB  (refresh process)")
    print(f"campaign settled    {'yes' if figures['settled'] else 'no':>10}")


def main() -> None:
    args = common.parse_args(__doc__ or "", "status_refresh")
    if args.child:
        common.configure(args.database_url)
        child(args.campaign, args.profile, args.sql)
        return
    common.fresh_sqlite(args.database_url)
    port = common.free_port()
    common.configure(args.database_url, sandbox_port=port)
    with common.sandbox_process(port) as sandbox:
        print(f"seeding and dispatching {args.recipients:,} recipients ...", flush=True)
        campaign_id = prepare(args.recipients)
        sandbox.control("POST", "clock", json={"advance": 3600})
        print("refreshing statuses ...", flush=True)
        figures = common.run_child(__file__, args, campaign_id)
    if not figures["settled"] or figures["changed"] != args.recipients:
        raise SystemExit(f"refresh incomplete: {figures}")
    report(args.recipients, figures)


if __name__ == "__main__":
    main()
