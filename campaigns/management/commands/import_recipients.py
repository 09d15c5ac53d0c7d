"""`manage.py import_recipients AUDIENCE FILE`: the web import, from a shell or cron."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from campaigns.audiences import report, selectors, services
from campaigns.models import Audience, ImportMode, ImportStatus, RecipientImport
from partnerhub.csvio.export import DELIMITERS, iter_csv


class Command(BaseCommand):
    help = "Import recipients from a CSV file into an audience (name or id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("audience", help="Audience name or id.")
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", help="utf-8, utf-8-sig or cp1252.")
        parser.add_argument(
            "--delimiter", choices=sorted(k for k in DELIMITERS if k != "\t")
        )
        parser.add_argument(
            "--mode", choices=ImportMode.values, default=ImportMode.UPDATE
        )
        parser.add_argument("--errors", type=Path, help="Write rejected rows here.")

    def handle(self, *args: Any, **options: Any) -> None:
        audience = self._audience(options["audience"])
        try:
            with options["file"].open("rb") as handle:
                draft = services.recipient_import_create(
                    audience=audience,
                    file=handle,
                    file_name=options["file"].name,
                    encoding=options["encoding"],
                    delimiter=DELIMITERS.get(options["delimiter"] or ""),
                )
            mapping = {int(i): f for i, f in draft.mapping.items()}
            services.recipient_import_start(
                recipient_import=draft,
                mapping=mapping,
                mode=options["mode"],
                enqueue=False,
            )
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"Importing {draft.file_name} into «{audience}» "
            f"({draft.encoding}, delimiter {draft.delimiter!r}) ..."
        )
        done = services.recipient_import_run(
            import_id=draft.pk, progress=self._progress
        )
        self._summary(done, options["errors"])

    def _audience(self, key: str) -> Audience:
        lookup = Q(name=key) | Q(pk=int(key)) if key.isdigit() else Q(name=key)
        audience = Audience.objects.filter(lookup).first()
        if audience is None:
            raise CommandError(f"No audience named or numbered {key!r}.")
        return audience

    def _progress(self, imp: RecipientImport) -> None:
        percent = selectors.import_progress(recipient_import=imp).percent
        self.stdout.write(f"  {percent:3d} %  {imp.rows_read} rows read")

    def _summary(self, done: RecipientImport, errors_path: Path | None) -> None:
        self.stdout.write(
            f"Import {done.status}: {done.rows_read} rows read = "
            f"{done.created} created + {done.updated} updated + {done.duplicates} "
            f"duplicates + {done.invalid} invalid (rejected); {done.warnings} "
            f"imported with a warning, {done.unsubscribed} unsubscribed, "
            f"{done.empty_lines} empty lines skipped."
        )
        if errors_path and (done.invalid or done.warnings):
            with errors_path.open("wb") as out:
                for chunk in iter_csv(
                    report.report_rows(selectors.import_errors(recipient_import=done)),
                    header=report.report_header(),
                ):
                    out.write(chunk)
            self.stdout.write(
                f"Invalid rows and dropped addresses (line, reason) written to "
                f"{errors_path}."
            )
        if done.status != ImportStatus.DONE:
            raise CommandError(done.error_message or str(done.get_status_display()))
