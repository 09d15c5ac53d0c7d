"""`manage.py export_deliveries ID FILE`: a campaign's deliveries as CSV on disk."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns import selectors
from campaigns.models import Campaign
from partnerhub.csvio.export import DELIMITERS, iter_csv_batches

PROGRESS_EVERY = 100_000


class Command(BaseCommand):
    count = 0
    help = (
        "Write a campaign's deliveries to FILE as CSV (UTF-8 with BOM, ';' by "
        "default, formula cells neutralised), streamed so memory stays flat."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--delimiter",
            default=";",
            help="';' (default, French Excel), ',' or 'comma', 'tab'.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        delimiter = DELIMITERS.get(options["delimiter"])
        if delimiter is None:
            raise CommandError(
                f"Unknown delimiter {options['delimiter']!r}: use ';', ',' or tab."
            )
        campaign = self.campaign(options["campaign_id"])
        target: Path = options["file"]
        if not target.parent.is_dir():
            raise CommandError(f"Directory {target.parent} does not exist.")
        total = campaign.deliveries.count()
        self.stdout.write(
            f"Exporting {total} deliveries of campaign {campaign.pk} "
            f"«{campaign.name}» to {target} ..."
        )
        written = self.write(campaign, target, delimiter, total)
        self.stdout.write(self.style.SUCCESS(f"Wrote {written} rows to {target}."))

    def campaign(self, pk: int) -> Campaign:
        try:
            return Campaign.objects.get(pk=pk)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"No campaign with id {pk}.") from exc

    def write(
        self, campaign: Campaign, target: Path, delimiter: str, total: int
    ) -> int:
        """Write to a temporary name and rename at the end: never a half file."""
        batches = self.counted(
            selectors.delivery_export_batches(
                campaign_id=campaign.pk, decimal_comma=delimiter == ";"
            ),
            total,
        )
        partial = target.with_name(target.name + ".part")
        try:
            with partial.open("wb") as out:
                for chunk in iter_csv_batches(
                    batches,
                    header=selectors.export_header(campaign=campaign),
                    delimiter=delimiter,
                ):
                    out.write(chunk)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return self.count

    def counted(
        self, batches: Iterable[list[tuple[str, ...]]], total: int
    ) -> Iterator[list[tuple[str, ...]]]:
        """Pass batches through, printing progress at every 100,000 rows passed."""
        self.count = 0
        for batch in batches:
            before, self.count = self.count, self.count + len(batch)
            if self.count // PROGRESS_EVERY > before // PROGRESS_EVERY:
                percent = self.count * 100 // max(total, 1)
                self.stdout.write(f"  {self.count}/{total} rows ({percent} %)")
            yield batch
