from typing import Any

from django.core.management.base import BaseCommand, CommandError

from partnerhub.accounts.services import credits_refresh_all
from partnerhub.models import Provider, ProviderAccount
from partnerhub.services import accounts_ensure_main


class Command(BaseCommand):
    help = (
        "Refresh the credits of every active provider account (main accounts from "
        "/me, sub-accounts from their main account's sub-account list)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts_ensure_main()
        report = credits_refresh_all()
        accounts = ProviderAccount.objects.filter(is_active=True).exclude(
            provider=Provider.PEC
        )
        for account in accounts.select_related("parent"):
            self.stdout.write(f"{account}: {account.credits} {account.credits_unit}")
        for failure in report.failed:
            self.stderr.write(failure)
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} account(s) could not be refreshed."
            )
