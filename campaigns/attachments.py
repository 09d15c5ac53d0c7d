"""Email attachments: the provider's rules, checked on upload, and their storage.

Mail Partner takes at most 3 attachments of at most 5 MB each, sent base64 in
every `/send` request, with a `contentType` and a `filename` *without its
extension* (providers.md §4.1); a type it does not allow is refused with code 9.
Which types it allows is not documented: the list below keeps to the usual
office documents and images (INFERRED), and each upload's first bytes must look
like its extension says, so a renamed program is refused here, with a clear
message, rather than by the provider in the middle of a campaign.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from partnerhub.providers.mailpartner import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    MailAttachment,
)
from partnerhub.rules import CONTROL

from .models import Campaign, CampaignAttachment

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

_PDF = (b"%PDF-",)
_ZIP = (b"PK\x03\x04",)  # docx, xlsx, pptx, odt, ods
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # doc, xls, ppt
_TEXT = ()  # any UTF-8 text without NUL
# extension -> (content type sent to the provider, accepted first bytes)
ALLOWED_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", _PDF),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "txt": ("text/plain", _TEXT),
    "csv": ("text/csv", _TEXT),
    "ics": ("text/calendar", _TEXT),
    "doc": ("application/msword", _OLE),
    "xls": ("application/vnd.ms-excel", _OLE),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ZIP,
    ),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ZIP,
    ),
    "odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
}
MAX_NAME_LENGTH = 100
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|]+')

TOO_MANY = _("At most %(max)s attachments per email: remove one before adding more.")
TOO_BIG = _("“%(name)s” is %(size)s: the provider takes at most %(max)s per file.")
EMPTY_FILE = _("“%(name)s” is empty.")
TYPE_NOT_ALLOWED = _("“%(name)s”: the provider only takes these file types: %(types)s.")
CONTENT_MISMATCH = _(
    "“%(name)s” does not contain what its extension says (.%(ext)s): export it "
    "again from the program that made it."
)
NO_NAME = _("The file has no name the provider can use.")


@dataclass(frozen=True)
class AttachmentChanges:
    """What a draft form asks: files to add, ids of stored attachments to remove."""

    add: Sequence[UploadedFile] = ()
    remove: Sequence[int] = ()


def allowed_extensions() -> str:
    return ", ".join(f".{ext}" for ext in ALLOWED_TYPES)


def check_upload(upload: UploadedFile) -> str:
    """The content type of an acceptable upload; `ValidationError` saying why not."""
    name = display_name(upload.name or "")
    params = {"name": name}
    ext = PurePath(name).suffix.lower().lstrip(".")
    if ext not in ALLOWED_TYPES:
        raise ValidationError(
            TYPE_NOT_ALLOWED,
            code="type",
            params={**params, "types": allowed_extensions()},
        )
    size = upload.size or 0
    if size == 0:
        raise ValidationError(EMPTY_FILE, code="empty", params=params)
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            TOO_BIG,
            code="size",
            params={
                **params,
                "size": filesizeformat(size),
                "max": filesizeformat(MAX_ATTACHMENT_BYTES),
            },
        )
    if not wire_name(name):
        raise ValidationError(NO_NAME, code="name")
    content_type, signatures = ALLOWED_TYPES[ext]
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    if not _looks_like(head, signatures):
        raise ValidationError(
            CONTENT_MISMATCH, code="content", params={**params, "ext": ext}
        )
    return content_type


def _looks_like(head: bytes, signatures: tuple[bytes, ...]) -> bool:
    if signatures:
        return head.startswith(signatures)
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multibyte character cut at 4096 bytes
        return exc.start >= len(head) - 3
    return True


def display_name(name: str) -> str:
    """The uploaded name without any folder part or control characters."""
    base = PurePath(name.replace("\\", "/")).name
    return CONTROL.sub("", base).strip()[:MAX_NAME_LENGTH]


def wire_name(name: str) -> str:
    """The `filename` Mail Partner wants: without its extension (providers.md §4.1)."""
    stem = PurePath(display_name(name)).stem
    return _UNSAFE_NAME.sub("-", stem.replace(".", "-")).strip(" -")


def check_count(*, kept: int, added: int) -> None:
    if kept + added > MAX_ATTACHMENTS:
        raise ValidationError(
            TOO_MANY, code="attachments_count", params={"max": MAX_ATTACHMENTS}
        )


def apply_changes(campaign: Campaign, changes: AttachmentChanges) -> None:
    """Remove then add, inside the caller's transaction (the draft's save)."""
    campaign.attachments.filter(pk__in=changes.remove).delete()
    check_count(kept=campaign.attachments.count(), added=len(changes.add))
    for upload in changes.add:
        content_type = check_upload(upload)
        upload.seek(0)
        CampaignAttachment.objects.create(
            campaign=campaign,
            filename=display_name(upload.name or ""),
            content_type=content_type,
            size=upload.size or 0,
            content=upload.read(),
        )


def copy_attachments(*, source: Campaign, target: Campaign) -> None:
    """The files of `source` on `target` too ("Duplicate")."""
    CampaignAttachment.objects.bulk_create(
        CampaignAttachment(
            campaign=target,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            content=a.content,
        )
        for a in source.attachments.all()
    )


def attachment_list(campaign: Campaign) -> QuerySet[CampaignAttachment]:
    """Names and sizes for the pages; the bytes stay in the database."""
    return campaign.attachments.defer("content")


def mail_attachments(campaign: Campaign) -> list[MailAttachment]:
    """What `MailPartnerClient.send` takes, read once per adapter."""
    if not campaign.pk:
        return []
    return [
        MailAttachment(
            filename=wire_name(a.filename),
            content_type=a.content_type,
            content=bytes(a.content),
        )
        for a in campaign.attachments.all()
    ]
