from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from unsubscribes.models import Channel
from unsubscribes.sync import unsubscribes_sync


class Command(BaseCommand):
    help = (
        "Two-way sync of the unsubscribe lists with Mail Partner (email) and "
        "SMS Partner's STOP list (sms). Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--channel",
            choices=Channel.values,
            action="append",
            help="Only this channel (repeatable); default: every channel.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        failed = []
        for channel in options["channel"] or Channel.values:
            result = unsubscribes_sync(channel=channel)
            if result.skipped:
                self.stdout.write(f"{channel}: a sync is already running, skipped.")
                continue
            self.stdout.write(
                f"{channel}: {result.pulled} pulled, {result.pushed} pushed, "
                f"{result.deleted} deleted, {result.conflicts} conflicts kept "
                f"suppressed, {result.rejected} refused by the provider."
            )
            if result.error:
                failed.append(channel)
                self.stderr.write(
                    f"{channel}: stopped by a provider error: {result.error}"
                )
        if failed:
            raise CommandError(
                f"Sync incomplete for {', '.join(failed)}; the next run resumes it."
            )
