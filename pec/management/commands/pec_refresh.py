"""`manage.py pec_refresh`: fetch PEC receipts now (the periodic task, by hand)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from pec import services
from pec.models import DispatchStatus, PecSend


class Command(BaseCommand):
    help = (
        "Fetch the receipts of PEC sends whose check is due (--all: every open send)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="Check every sent PEC not in a final state, due or not.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["all"]:
            count = services.sends_refresh_due()
            self.stdout.write(f"{count} PEC send(s) checked.")
            return
        open_sends = PecSend.objects.filter(
            status=DispatchStatus.SENT, next_check_at__isnull=False
        )
        for send in open_sends:
            outcome = services.send_refresh(send=send)
            line = f"#{send.pk} {send.provider_code}: {outcome.state}"
            self.stdout.write(line + (f" ({outcome.error})" if outcome.error else ""))
