from typing import Any

from django.core.management.base import BaseCommand, CommandError

from campaigns import services


class Command(BaseCommand):
    help = "Refresh delivery statuses of campaigns sent in the last 48 hours."

    def handle(self, *args: Any, **options: Any) -> None:
        result = services.campaigns_refresh_recent()
        for campaign_id, changed in result.changed.items():
            self.stdout.write(f"Campaign {campaign_id}: {changed} deliveries updated.")
        for campaign_id, error in result.failed.items():
            self.stderr.write(f"Campaign {campaign_id}: provider error: {error}")
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} campaign(s) could not be refreshed."
            )
