from typing import Any

from django.core.management.base import BaseCommand

from campaigns import services
from campaigns.models import Campaign
from campaigns.selectors import recent_campaign_ids_to_refresh
from partnerhub.clients.errors import ProviderError


class Command(BaseCommand):
    help = "Refresh delivery statuses of campaigns sent in the last 48 hours."

    def handle(self, *args: Any, **options: Any) -> None:
        failures = 0
        for campaign in Campaign.objects.filter(
            pk__in=recent_campaign_ids_to_refresh()
        ):
            try:
                changed = services.campaign_refresh_statuses(campaign=campaign)
            except ProviderError as exc:
                failures += 1
                self.stderr.write(f"Campaign {campaign.pk}: provider error: {exc}")
                continue
            self.stdout.write(f"Campaign {campaign.pk}: {changed} deliveries updated.")
        if failures:
            self.stderr.write(f"{failures} campaign(s) could not be refreshed.")
