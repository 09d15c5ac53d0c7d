"""Forms of the import flow: upload (with overrides), then mapping and mode."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.audiences.report import ENCODING_NAMES
from campaigns.models import ImportMode
from partnerhub.csvio.columns import EMAIL, FIRST_NAME, IGNORE, LAST_NAME, PHONE

ENCODINGS = [
    ("", _("Detect automatically")),
    ("utf-8", ENCODING_NAMES["utf-8"]),
    ("cp1252", ENCODING_NAMES["cp1252"]),
]
DELIMITERS = [
    ("", _("Detect automatically")),
    (";", _("Semicolon ;")),
    (",", _("Comma ,")),
    ("\t", _("Tab")),
]
ATTRIBUTE = ""
FIELD_CHOICES = [
    (ATTRIBUTE, _("Keep as attribute")),
    (EMAIL, _("Email")),
    (PHONE, _("Phone")),
    (FIRST_NAME, _("First name")),
    (LAST_NAME, _("Last name")),
    (IGNORE, _("Ignore this column")),
]


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 or Windows-1252; comma, semicolon or tab; a header row."),
    )
    encoding = forms.ChoiceField(label=_("Encoding"), choices=ENCODINGS, required=False)
    delimiter = forms.ChoiceField(
        label=_("Delimiter"), choices=DELIMITERS, required=False
    )


class MappingForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Recipients already in the audience"),
        choices=ImportMode.choices,
        widget=forms.RadioSelect,
        initial=ImportMode.UPDATE,
    )

    def __init__(
        self, *args: Any, headers: list[str], mapping: dict[int, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("Column %(n)s") % {"n": index + 1},
                choices=FIELD_CHOICES,
                required=False,
                initial=mapping.get(index, ATTRIBUTE),
            )

    def column_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("col_")]

    def mapping(self) -> dict[int, str]:
        chosen = {
            int(name[4:]): value
            for name, value in self.cleaned_data.items()
            if name.startswith("col_") and value
        }
        return chosen
