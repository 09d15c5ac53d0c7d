from typing import Any

from django.core.management.base import BaseCommand, CommandError

from partnerhub.clients.errors import ProviderError
from partnerhub.models import Provider, ProviderAccount
from partnerhub.services import account_refresh_credits, accounts_ensure_main


class Command(BaseCommand):
    help = "Refresh the credits of every active provider account from the providers."

    def handle(self, *args: Any, **options: Any) -> None:
        accounts_ensure_main()
        failures = 0
        accounts = ProviderAccount.objects.filter(is_active=True).exclude(
            provider=Provider.PEC
        )
        for account in accounts:
            try:
                account = account_refresh_credits(account=account)
            except ProviderError as exc:
                failures += 1
                self.stderr.write(f"{account}: {exc}")
                continue
            self.stdout.write(f"{account}: {account.credits} {account.credits_unit}")
        if failures:
            raise CommandError(f"{failures} account(s) could not be refreshed.")
