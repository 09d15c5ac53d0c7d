"""Helpers shared by the recipient import tests: build files, run imports."""

from __future__ import annotations

import csv
import io
from typing import Any

from campaigns.audiences import services
from campaigns.models import Audience, RecipientImport


def make_csv(
    rows: list[list[str]],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8",
    newline: str = "\r\n",
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(audience: Audience, content: bytes, **kwargs: Any) -> RecipientImport:
    return services.recipient_import_create(
        audience=audience, file=io.BytesIO(content), file_name="list.csv", **kwargs
    )


def run_import(
    audience: Audience,
    content: bytes,
    *,
    mode: str = "update",
    mapping: dict[int, str] | None = None,
    **kwargs: Any,
) -> RecipientImport:
    """Upload, start with the detected (or given) mapping, run in this process."""
    draft = upload(audience, content, **kwargs)
    chosen = (
        mapping
        if mapping is not None
        else {int(i): f for i, f in draft.mapping.items()}
    )
    services.recipient_import_start(
        recipient_import=draft, mapping=chosen, mode=mode, enqueue=False
    )
    return services.recipient_import_run(import_id=draft.pk, workers=1)
