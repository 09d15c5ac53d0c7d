"""Compose form: granted mailbox, validated recipients, subject, HTML body, files."""

from __future__ import annotations

import os
import re
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import PecMailbox

ALLOWED_EXTENSIONS = (
    ".pdf", ".p7m", ".xml", ".txt", ".csv", ".jpg", ".jpeg", ".png",
    ".doc", ".docx", ".odt", ".xls", ".xlsx", ".ods", ".zip", ".eml",
)  # fmt: skip
_SPLIT = re.compile(r"[\s,;]+")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def parse_recipients(raw: str) -> list[str]:
    """Addresses from a textarea (one per line, or separated by commas/semicolons).

    Every address must be valid and appear once: a duplicate would be a second PEC
    (and a second cost) to the same box, so it is refused rather than dropped.
    """
    addresses = [part.strip() for part in _SPLIT.split(raw or "") if part.strip()]
    if not addresses:
        raise ValidationError(_("Enter at least one recipient PEC address."))
    invalid = []
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            invalid.append(address)
    if invalid:
        raise ValidationError(
            _("Not a valid address: %(list)s.") % {"list": ", ".join(invalid)}
        )
    seen: set[str] = set()
    duplicates = []
    for address in addresses:
        key = address.lower()
        if key in seen and address not in duplicates:
            duplicates.append(address)
        seen.add(key)
    if duplicates:
        raise ValidationError(
            _("Each recipient only once, please: %(list)s appears twice.")
            % {"list": ", ".join(duplicates)}
        )
    if len(addresses) > settings.PEC_MAX_RECIPIENTS:
        raise ValidationError(
            _("At most %(max)d recipients per PEC.")
            % {"max": settings.PEC_MAX_RECIPIENTS}
        )
    return addresses


class ComposeForm(forms.Form):
    mailbox = forms.ModelChoiceField(
        label=gettext_lazy("From mailbox"),
        queryset=PecMailbox.objects.none(),
        empty_label=None,
    )
    recipients = forms.CharField(
        label=gettext_lazy("Recipients"),
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "ufficio@pec.example.it"}
        ),
        help_text=gettext_lazy(
            "PEC addresses, one per line or separated by commas. Each recipient gets "
            "their own PEC and receipt. PEC has no BCC: every recipient sees the "
            "others."
        ),
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body_html = forms.CharField(
        label=gettext_lazy("Message (HTML)"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=gettext_lazy("Scripts, forms and event handlers are removed."),
    )
    attachments = MultipleFileField(label=gettext_lazy("Attachments"), required=False)

    def __init__(
        self, *args: Any, mailboxes: QuerySet[PecMailbox], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # declared as a ModelChoiceField above; `fields` is typed as plain `Field`
        cast(forms.ModelChoiceField, self.fields["mailbox"]).queryset = mailboxes
        limit = filesizeformat(settings.PEC_MAX_ATTACHMENTS_BYTES)
        self.fields["attachments"].help_text = _(
            "Allowed: %(types)s. At most %(limit)s in total; files travel base64-"
            "encoded, which adds about a third."
        ) % {"types": " ".join(ALLOWED_EXTENSIONS), "limit": limit}

    def clean_recipients(self) -> list[str]:
        return parse_recipients(self.cleaned_data["recipients"])

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"].strip()
        if re.search(r"\s\d{12,}$", subject):
            raise ValidationError(
                _(
                    "Do not end the subject with a long number: PEC Massiva appends "
                    "its own code there to find the receipts."
                )
            )
        return subject

    def clean_attachments(self) -> list[Any]:
        files = self.cleaned_data.get("attachments") or []
        refused = [
            f.name for f in files
            if os.path.splitext(f.name or "")[1].lower() not in ALLOWED_EXTENSIONS
        ]  # fmt: skip
        if refused:
            raise ValidationError(
                _("File type not allowed: %(list)s.") % {"list": ", ".join(refused)}
            )
        total = sum(f.size or 0 for f in files)
        if total > settings.PEC_MAX_ATTACHMENTS_BYTES:
            raise ValidationError(
                _("The attachments weigh %(size)s; the limit is %(limit)s.")
                % {
                    "size": filesizeformat(total),
                    "limit": filesizeformat(settings.PEC_MAX_ATTACHMENTS_BYTES),
                }
            )
        return files


class InboxSearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    page = forms.IntegerField(required=False, min_value=1)
