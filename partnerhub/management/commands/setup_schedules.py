from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.schedules import schedules_apply


class Command(BaseCommand):
    help = "Create or update PartnerHub's periodic tasks (idempotent; run on deploy)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = schedules_apply()
        if options["verbosity"]:
            self.stdout.write(
                f"{result['declared']} schedules declared, {result['removed']} removed."
            )
