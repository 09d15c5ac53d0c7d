"""Forms of the unsubscribe pages; validation shows in place, services do the work."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from partnerhub import rules, search

from .models import Channel, Source, UnsubscribeState
from .services import normalize_address

MAX_UPLOAD = 50 * 1024 * 1024
STATES = [
    ("", _("All")),
    ("active", _("Suppressed")),
    (UnsubscribeState.UNSYNCED.value, _("Not yet at the provider")),
    (UnsubscribeState.SYNCED.value, _("Synced with the provider")),
    (UnsubscribeState.REMOVING.value, _("Removal pending")),
    (UnsubscribeState.REFUSED.value, _("Refused by the provider")),
]


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=254)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices]
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("All")), *Source.choices]
    )
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATES)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = search.help_text(_("the address or the reason"))

    def filters(self) -> dict[str, Any]:
        """Selector keywords; invalid fields are ignored rather than failing."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "search": (data.get("q") or "").strip(),
            "channel": data.get("channel") or "",
            "source": data.get("source") or "",
            "state": data.get("state") or "",
            "since": data.get("since"),
            "until": data.get("until"),
        }


class AddForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, widget=forms.RadioSelect
    )
    address = forms.CharField(
        label=_("Email address or mobile number"),
        max_length=254,
        help_text=_(
            "Emails are lower-cased; French numbers may be typed 06 12 34 56 78."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        required=False,
        validators=[rules.validate_single_line],
        help_text=_("Optional: how the person asked (phone call, letter...)."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data (stubs allow None)
        if data.get("channel") and data.get("address"):
            try:
                data["address"] = normalize_address(
                    channel=data["channel"], address=data["address"]
                )
            except ValidationError as exc:
                self.add_error("address", exc)
        return data


class ImportForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, widget=forms.RadioSelect
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "A header row is needed (email/courriel, phone/mobile/téléphone or "
            "address). UTF-8 or Windows-1252, comma or semicolon."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        required=False,
        validators=[rules.validate_single_line],
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD:
            raise ValidationError(_("The file is larger than 50 MB."), code="size")
        return upload
