from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns import dispatch, services
from campaigns.models import Campaign, CampaignStatus


class Command(BaseCommand):
    help = (
        "Send a draft campaign now (or resume one left in 'sending'), in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            campaign = Campaign.objects.get(pk=options["campaign_id"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(
                f"No campaign with id {options['campaign_id']}."
            ) from exc
        if campaign.status == CampaignStatus.DRAFT:
            try:
                services.campaign_send(campaign=campaign)
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Dispatching campaign {campaign.pk} «{campaign.name}» ...")
        result = dispatch.dispatch(campaign.pk)
        if not result.claimed:
            campaign.refresh_from_db()
            raise CommandError(
                f"Not dispatched: the campaign is {campaign.get_status_display()} "
                "(another worker may hold it)."
            )
        counts = services_counts(campaign)
        summary = (
            f"Campaign {campaign.pk}: {result.status}, {result.batches_sent} batches; "
            + ", ".join(f"{k}: {v}" for k, v in counts.items())
        )
        self.stdout.write(summary)
        if result.status == CampaignStatus.FAILED:
            campaign.refresh_from_db(fields=["status_reason"])
            raise CommandError(
                f"Campaign {campaign.pk} failed: {campaign.status_reason}"
            )


def services_counts(campaign: Campaign) -> dict[str, int]:
    from django.db.models import Count

    rows = campaign.deliveries.values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}
