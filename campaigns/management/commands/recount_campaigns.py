"""Rebuild the campaigns' delivery counters from the deliveries themselves."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from campaigns import services


class Command(BaseCommand):
    help = (
        "Recount each campaign's deliveries by status and cost from the deliveries "
        "(after a restore, or deliveries written outside the application)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--campaign", type=int, action="append", help="Only this campaign id."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fixed = services.campaigns_recount(campaign_ids=options["campaign"])
        self.stdout.write(f"{len(fixed)} campaign(s) recounted.")
        for campaign_id, before, after in fixed:
            if before != after:
                self.stdout.write(f"Campaign {campaign_id}: {before} → {after}")
