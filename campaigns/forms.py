"""Forms of the compose flow: one draft form per channel, test-send, review, cancel.

Forms only shape input and give field errors in place; the rules that matter
(sender formats, SMS length, account of the right provider, schedule steps) live
in `services.py` and come back here through `apply_service_errors`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from partnerhub import rules
from partnerhub.accounts.selectors import payable_accounts
from partnerhub.models import ProviderAccount
from partnerhub.templatetags.credits import balance

from .attachments import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    AttachmentChanges,
    allowed_extensions,
    check_count,
    check_upload,
)
from .models import (
    Audience,
    Campaign,
    CampaignAttachment,
    Channel,
    SmsRange,
    VoiceMode,
)
from .services import CHANNEL_PROVIDER
from .sms import LOW_COST_STOP, STOP_MENTION

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# A STOP mention typed or saved at the end of the text: the provider's own
# (`isStopSms` appends it, so it must not be written too) or the Low Cost one.
STOP_AT_END = re.compile(
    r"\s*(?:STOP(?: au)? 36180|NoPub\s*=\s*STOP)\s*$", re.IGNORECASE
)
UNSUBSCRIBE_PLACEHOLDER = "#UNSUBSCRIBE_LINK#"
# Mail Partner's documented placeholders (providers.md §4.1). Its `variables`
# (`#FIRSTNAME#`…) hold one value per send, not per recipient, so they are not
# offered as personalisation.
EMAIL_PLACEHOLDERS = (
    (UNSUBSCRIBE_PLACEHOLDER, _("Unsubscribe link")),
    ("#READ_ONLINE#", _("View online link")),
)
# Voice Partner does not document its `lang` values; these are the ones its
# samples and text-to-speech engines commonly accept.
VOICE_LANGUAGES = (
    ("fr", _("French")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("de", _("German")),
    ("it", _("Italian")),
)
TEST_ADDRESS_INVALID: dict[str, StrPromise] = {
    Channel.EMAIL: _("Enter a valid email address."),
    Channel.SMS: _("Enter a phone number, e.g. +33612345678 or 0612345678."),
    Channel.VOICE: _("Enter a phone number, e.g. +33612345678 or 0612345678."),
}
TEST_HELP: dict[str, StrPromise] = {
    Channel.EMAIL: _(
        "Sent through the provider with the tag “test” and “[TEST]” before the "
        "subject; not counted in the campaign. Uses the content as saved."
    ),
    Channel.SMS: _(
        "Sent through the provider with the tag “test”; not counted in the "
        "campaign. Uses the content as saved."
    ),
    Channel.VOICE: _(
        "The number is called through the provider; not counted in the campaign. "
        "Uses the content as saved."
    ),
}
PARIS = ZoneInfo("Europe/Paris")
CONFIRM_REQUIRED = _("Tick the box to confirm.")


def _lazy_interpolate(text: object, params: dict[str, object]) -> str:
    """`%`-format a lazy translation when it is shown, in the reader's language.

    `gettext_lazy(...) % {...}` at import time would freeze the language of
    whichever request loaded the module first.
    """
    return str(text) % params


_interpolate = lazy(_lazy_interpolate, str)


NOT_CHECKED = _("balance not checked yet")
CHECKED = _("checked")


class AccountChoiceField(forms.ModelChoiceField):
    """Accounts with their last known credits, so the choice is informed."""

    def label_from_instance(self, obj: ProviderAccount) -> str:
        """Who pays and its last balance, with its unit and when it was read."""
        kind = _("main account") if obj.is_main else _("sub-account")
        if obj.credits is None:
            return f"{obj.name} ({kind}, {NOT_CHECKED})"
        when = obj.credits_checked_at
        checked = f", {CHECKED} {timezone.localtime(when):%d/%m %H:%M}" if when else ""
        return f"{obj.name} ({kind}, {balance(obj)}{checked})"


class DraftForm(forms.ModelForm):
    """Fields common to every channel; subclasses add the channel's content."""

    channel: str = ""
    account = AccountChoiceField(
        queryset=ProviderAccount.objects.none(),
        label=_("Provider account"),
        help_text=_("The credits shown are the last known balance."),
    )

    class Meta:
        model = Campaign
        fields = ["name", "account", "audience"]
        help_texts: dict[str, str | StrPromise] = {
            "name": _("For you and your colleagues; recipients never see it."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # both are ModelChoiceFields (foreign keys); `fields` is typed as plain `Field`
        account = cast(forms.ModelChoiceField, self.fields["account"])
        account.queryset = accounts_for(self.channel)
        audience = cast(forms.ModelChoiceField, self.fields["audience"])
        audience.queryset = Audience.objects.order_by("name")
        audience.empty_label = _("— choose an audience —")
        audience.help_text = _("Unsubscribed recipients are skipped when sending.")
        accounts = list(account.queryset[:2])
        if len(accounts) == 1:
            # Nothing to choose: no blank option, so the first save cannot fail
            # on an account left empty.
            account.empty_label = None
        if accounts and not self.is_bound and not self.instance.account_id:
            self.initial["account"] = usual_account(accounts, self.channel)

    def clean_tag(self) -> str:
        """Only on the channels whose provider has a tag (email, SMS)."""
        tag = self.cleaned_data["tag"].strip()
        rules.validate_provider_tag(channel=self.channel, value=tag)
        return tag

    def draft_fields(self) -> dict[str, Any]:
        """What the draft services take (`campaign_create_draft`/`update_draft`)."""
        return {name: self.cleaned_data[name] for name in self._meta.fields or ()}


def usual_account(offered: list[ProviderAccount], channel: str) -> int | None:
    """The only account offered, else the one the last campaign of this channel
    paid with (if it is still offered).

    With several accounts and no campaign yet, nothing is chosen for the user:
    who pays is a real choice. Afterwards the usual payer is offered first.
    """
    if len(offered) == 1:
        return offered[0].pk
    return (
        Campaign.objects.filter(channel=channel, account__in=accounts_for(channel))
        .order_by("-created_at")
        .values_list("account_id", flat=True)
        .first()
    )


def accounts_for(channel: str) -> QuerySet[ProviderAccount]:
    """Only accounts that can call their provider (active, with a key)."""
    return payable_accounts(CHANNEL_PROVIDER.get(channel, "")).order_by(
        F("parent_id").asc(nulls_first=True), "name"
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


class AttachmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: CampaignAttachment) -> str:
        from django.template.defaultfilters import filesizeformat

        return f"{obj.filename} ({filesizeformat(obj.size)})"


TAG_HELP = _(
    "Groups the campaign in the provider's statistics: lowercase letters, digits, "
    "- or _, no spaces."
)


ATTACH_HELP = _(
    "At most %(count)s files of %(size)s MB each, sent with every email: %(types)s."
)


def tag_field() -> forms.CharField:
    """The provider's rule gives the only message (`clean_tag`), not the slug one."""
    return forms.CharField(label=_("Provider tag"), required=False, help_text=TAG_HELP)


class EmailDraftForm(DraftForm):
    channel = Channel.EMAIL
    tag = tag_field()
    new_attachments = MultipleFileField(label=_("Attach files"), required=False)
    remove_attachments = AttachmentChoiceField(
        label=_("Attached files (tick to remove)"),
        queryset=CampaignAttachment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta(DraftForm.Meta):
        fields = [
            *DraftForm.Meta.fields,
            "subject",
            "sender",
            "sender_name",
            "reply_to",
            "reply_to_name",
            "html",
            "text",
            "tag",
        ]
        labels = {"sender": _("Sender email"), "text": _("Plain-text part")}
        help_texts = {
            **DraftForm.Meta.help_texts,
            "sender": _("Leave empty to use the account's default sender."),
            "reply_to": _("Where answers go. Empty: to the sender."),
            "reply_to_name": _("Optional."),
            "html": _interpolate(
                _("Insert %(placeholder)s where the unsubscribe link must appear."),
                {"placeholder": UNSUBSCRIBE_PLACEHOLDER},
            ),
            "text": _("Shown by mail programs that do not display HTML."),
        }
        widgets = {
            "sender": forms.EmailInput(attrs={"autocomplete": "email"}),
            "reply_to": forms.EmailInput(attrs={"autocomplete": "off"}),
            "html": forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
            "text": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].required = True
        self.fields["html"].required = True
        # Formatted here, in the reader's language (not once, at import time).
        self.fields["new_attachments"].help_text = ATTACH_HELP % {
            "count": MAX_ATTACHMENTS,
            "size": MAX_ATTACHMENT_BYTES // (1024 * 1024),
            "types": allowed_extensions(),
        }
        self.stored_attachments = (
            self.instance.attachments.defer("content")
            if self.instance.pk
            else CampaignAttachment.objects.none()
        )
        stored = cast(AttachmentChoiceField, self.fields["remove_attachments"])
        stored.queryset = self.stored_attachments
        self.has_attachments = self.stored_attachments.exists()

    def clean_reply_to(self) -> str:
        return rules.clean_reply_to(self.cleaned_data["reply_to"])

    def clean_new_attachments(self) -> list[Any]:
        uploads = self.cleaned_data["new_attachments"] or []
        problems = []
        for upload in uploads:
            try:
                check_upload(upload)
            except ValidationError as exc:
                problems.append(exc)
        if problems:
            raise ValidationError(problems)
        return uploads

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data (stubs allow None)
        removed = len(data.get("remove_attachments") or ())
        try:
            check_count(
                kept=self.stored_attachments.count() - removed,
                added=len(data.get("new_attachments") or ()),
            )
        except ValidationError as exc:
            self.add_error("new_attachments", exc)
        return data

    def draft_fields(self) -> dict[str, Any]:
        fields = super().draft_fields()
        fields["attachments_changes"] = AttachmentChanges(
            add=self.cleaned_data.get("new_attachments") or (),
            remove=[a.pk for a in self.cleaned_data.get("remove_attachments") or ()],
        )
        return fields

    def clean_sender(self) -> str:
        sender = self.cleaned_data["sender"].strip()
        rules.validate_email_sender(sender)
        return sender.lower()

    @property
    def missing_unsubscribe_link(self) -> bool:
        html = self["html"].value() or ""
        return bool(html.strip()) and UNSUBSCRIBE_PLACEHOLDER not in html


class SmsDraftForm(DraftForm):
    channel = Channel.SMS
    tag = tag_field()
    add_stop = forms.BooleanField(
        label=_("Add the STOP mention"),
        required=False,
        initial=True,
        help_text=_interpolate(
            _(
                "Required by law for marketing SMS. Premium: the provider adds "
                "“%(mention)s” at the end. Low Cost: “%(low_cost)s” is added to the "
                "text."
            ),
            {"mention": STOP_MENTION, "low_cost": LOW_COST_STOP},
        ),
    )

    class Meta(DraftForm.Meta):
        fields = [
            *DraftForm.Meta.fields,
            "sender",
            "text",
            "sms_encoding",
            "sms_range",
            "tag",
        ]
        labels = {
            "text": _("Message"),
            "sms_encoding": _("Encoding"),
            "sms_range": _("Range"),
        }
        help_texts = {
            **DraftForm.Meta.help_texts,
            "sender": _(
                "3 to 11 letters or digits, no spaces. Empty: the operator's "
                "short number is shown."
            ),
            "text": _(
                "GSM: 160 characters per SMS (153 each when split); characters "
                "outside the GSM alphabet are replaced or removed by the provider, "
                "as the preview shows. Unicode: 70 (67)."
            ),
            "sms_encoding": _(
                "Unicode keeps every character (emoji, œ, «»…) but the provider "
                "must have activated it for the account: ask SMS Partner support."
            ),
            "sms_range": _(
                "Low Cost: cheaper, one SMS of 160 characters at most, STOP "
                "mention written in the text."
            ),
        }
        widgets = {
            "sender": forms.TextInput(
                attrs={"maxlength": 11, "pattern": "[A-Za-z0-9]{3,11}"}
            ),
            "text": forms.Textarea(attrs={"rows": 6}),
            "sms_encoding": forms.RadioSelect,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].required = True
        # Older posts (API clients, tests) without them keep the saved values.
        self.fields["sms_encoding"].required = False
        self.fields["sms_range"].required = False
        if not self.is_bound and self.instance.pk:
            text = self.instance.text
            self.initial["add_stop"] = self.instance.sms_stop or bool(
                STOP_AT_END.search(text)
            )
            self.initial["text"] = STOP_AT_END.sub("", text)

    def clean_sender(self) -> str:
        sender = self.cleaned_data["sender"].strip()
        rules.validate_sms_sender(sender)
        return sender

    def clean(self) -> dict[str, Any]:
        """The text as saved: a Low Cost text ends with "NoPub=STOP" if asked."""
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data (stubs allow None)
        data["sms_encoding"] = data.get("sms_encoding") or self.instance.sms_encoding
        data["sms_range"] = data.get("sms_range") or self.instance.sms_range
        text = STOP_AT_END.sub("", data.get("text") or "").rstrip()
        low_cost = data["sms_range"] == SmsRange.LOW_COST
        if text and data.get("add_stop") and low_cost:
            text = f"{text} {LOW_COST_STOP}"
        data["text"] = text
        return data

    def draft_fields(self) -> dict[str, Any]:
        return {**super().draft_fields(), "sms_stop": self.cleaned_data["add_stop"]}


class VoiceDraftForm(DraftForm):
    channel = Channel.VOICE
    voice_lang = forms.ChoiceField(
        label=_("Voice language"), choices=VOICE_LANGUAGES, initial="fr"
    )
    voice_audio_token = forms.ChoiceField(
        label=_("Audio file"),
        required=False,
        help_text=_(
            "Files uploaded and validated in your Voice Partner space. An audio "
            "file is played instead of the text."
        ),
    )

    class Meta(DraftForm.Meta):
        fields = [
            *DraftForm.Meta.fields,
            "voice_mode",
            "text",
            "voice_lang",
            "voice_audio_token",
            "notification_email",
        ]
        labels = {"text": _("Text read aloud")}
        help_texts = {
            **DraftForm.Meta.help_texts,
            "text": _("Each comma makes a half-second pause."),
            "voice_mode": _(
                "Voicemail drop: mobiles get the audio file straight on their "
                "voicemail; landlines ring and the message is left if nobody "
                "answers. It has its own price."
            ),
            "notification_email": _(
                "Voicemail drop only: Voice Partner reports the campaign to this "
                "address."
            ),
        }
        widgets = {
            "text": forms.Textarea(attrs={"rows": 6}),
            "voice_mode": forms.RadioSelect,
            "notification_email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(
        self,
        *args: Any,
        audio_files: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— none: read the text aloud —")), *(audio_files or [])]
        current = self.instance.voice_audio_token
        if current and current not in dict(choices):
            choices.append((current, current))
        cast(forms.ChoiceField, self.fields["voice_audio_token"]).choices = choices
        self.audio_files_available = audio_files is not None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data (stubs allow None)
        voicemail = data.get("voice_mode") == VoiceMode.VOICEMAIL
        no_content = not (data.get("text") or "").strip()
        if no_content and not voicemail and not data.get("voice_audio_token"):
            raise ValidationError(
                {"text": _("Write a text to read aloud or choose an audio file.")}
            )
        return data


DRAFT_FORMS: dict[str, type[DraftForm]] = {
    Channel.EMAIL: EmailDraftForm,
    Channel.SMS: SmsDraftForm,
    Channel.VOICE: VoiceDraftForm,
}


class TestSendForm(forms.Form):
    address = forms.CharField(label=_("Send a test to"), max_length=254)
    confirm_unsubscribed = forms.BooleanField(
        label=_("Send even if this address is unsubscribed"), required=False
    )

    def __init__(self, *args: Any, channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel
        field = self.fields["address"]
        field.help_text = TEST_HELP[channel]
        if channel == Channel.EMAIL:
            field.widget = forms.EmailInput(attrs={"placeholder": "vous@exemple.fr"})
        else:
            field.widget = forms.TextInput(
                attrs={"placeholder": "+33612345678", "inputmode": "tel"}
            )

    def clean_address(self) -> str:
        """The stored form (`+336…`): the unsubscribe check sees what dispatch sees."""
        try:
            return rules.normalize_address(
                channel=self.channel, address=self.cleaned_data["address"]
            )
        except ValidationError:
            raise ValidationError(TEST_ADDRESS_INVALID[self.channel]) from None


class SendMode:
    NOW = "now"
    LATER = "later"


class ReviewForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("When"),
        choices=[
            (SendMode.NOW, _("Send now")),
            (SendMode.LATER, _("Schedule for later")),
        ],
        initial=SendMode.NOW,
        widget=forms.RadioSelect,
    )
    scheduled_at = forms.DateTimeField(
        label=_("Date and time (Paris time)"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=_("Paris time, in the future."),
    )
    deferred_at_provider = forms.BooleanField(
        label=_("Hand it to the provider now"),
        required=False,
        help_text=_(
            "The provider keeps it until the time: minutes must be a multiple of 5 "
            "and at least 10 minutes ahead; it can be cancelled until 5 minutes "
            "before. Otherwise PartnerHub sends it at the time."
        ),
    )
    confirm = forms.BooleanField(
        label=_("I have checked the content, the audience and the cost"),
        error_messages={"required": CONFIRM_REQUIRED},
    )

    def clean_scheduled_at(self) -> datetime | None:
        """The picker's wall-clock time is Paris time, whatever the server's zone."""
        value = self.cleaned_data["scheduled_at"]
        if value is None:
            return None
        return value.replace(tzinfo=None).replace(tzinfo=PARIS)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data (stubs allow None)
        later = data.get("mode") == SendMode.LATER
        if later and not data.get("scheduled_at") and "scheduled_at" not in self.errors:
            self.add_error("scheduled_at", _("Choose a date and time."))
        return data


class CancelForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, cancel this campaign"),
        error_messages={"required": CONFIRM_REQUIRED},
    )


def apply_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's `ValidationError` on the form, by field when it says so."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
