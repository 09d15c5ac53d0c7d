from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns import services
from campaigns.models import Campaign
from partnerhub.providers.errors import ProviderError


class Command(BaseCommand):
    help = (
        "Cancel a scheduled campaign (locally, or at the provider if deferred there)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            campaign = Campaign.objects.get(pk=options["campaign_id"])
            outcome = services.campaign_cancel(campaign=campaign)
        except Campaign.DoesNotExist as exc:
            raise CommandError(
                f"No campaign with id {options['campaign_id']}."
            ) from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except ProviderError as exc:
            raise CommandError(f"The provider did not answer: {exc}") from exc
        for refusal in outcome.refusals:
            self.stderr.write(refusal)
        if outcome.refusals:
            raise CommandError("The provider refused to cancel some batches.")
        where = (
            "at the provider" if outcome.cancelled_at_provider else "before dispatch"
        )
        self.stdout.write(f"Campaign {campaign.pk} cancelled {where}.")
