"""Forms of the sub-account pages: they check shapes, the services check the rest."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from partnerhub.models import CreditMove, ProviderAccount, SubaccountType

AMOUNT_HELP = _("In euros, at most 3 decimals.")


class SubaccountCreateForm(forms.Form):
    once = forms.CharField(widget=forms.HiddenInput, required=False)
    account_type = forms.ChoiceField(
        label=_("Type"),
        choices=SubaccountType.choices,
        initial=SubaccountType.SIMPLE,
        widget=forms.RadioSelect,
        help_text=_(
            "Simple: an address is made up if you leave the email empty. Advanced: "
            "its own login at the provider (email required). The type is final."
        ),
    )
    name = forms.CharField(
        label=_("Name in PartnerHub"),
        max_length=120,
        required=False,
        help_text=_("For example the agency or client it pays for."),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    is_buyer = forms.TypedChoiceField(
        label=_("May buy credit itself"),
        choices=[("", _("— advanced only —")), ("1", _("Yes")), ("0", _("No"))],
        coerce=lambda v: v == "1",
        empty_value=None,
        required=False,
    )
    title = forms.ChoiceField(
        label=_("Title"),
        choices=[("", "—"), ("M", _("Mr")), ("Mme", _("Ms"))],
        required=False,
    )
    firstname = forms.CharField(label=_("First name"), max_length=80, required=False)
    lastname = forms.CharField(label=_("Last name"), max_length=80, required=False)
    initial_credit = forms.DecimalField(
        label=_("Initial credit (EUR)"),
        required=False,
        min_value=Decimal("0.001"),
        decimal_places=3,
        max_digits=14,
        localize=True,
        help_text=_("Taken from the main account's balance. Leave empty for none."),
    )
    low_credit_threshold = forms.DecimalField(
        label=_("Low-credit alert below (EUR)"),
        required=False,
        min_value=Decimal("0"),
        decimal_places=3,
        max_digits=14,
        localize=True,
        help_text=_("Admins are emailed once when the balance falls below it."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data (stubs allow None)
        if data.get("account_type") == SubaccountType.ADVANCED:
            if not data.get("email"):
                self.add_error(
                    "email", _("An advanced sub-account needs an email address.")
                )
            if data.get("is_buyer") is None:
                self.add_error("is_buyer", _("Say whether it may buy credit."))
        return data


class AmountForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (EUR)"),
        min_value=Decimal("0.001"),
        decimal_places=3,
        max_digits=14,
        localize=True,
        help_text=AMOUNT_HELP,
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class ThresholdForm(forms.ModelForm):
    class Meta:
        model = ProviderAccount
        fields = ["low_credit_threshold"]
        localized_fields = ["low_credit_threshold"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and self.instance.pk:
            # "50,000" reads as fifty thousand: show two decimals, not three.
            value = self.instance.low_credit_threshold or Decimal("0")
            self.initial["low_credit_threshold"] = value.quantize(Decimal("0.01"))


class MoveFilterForm(forms.Form):
    account = forms.ModelChoiceField(
        label=_("Sub-account"),
        queryset=ProviderAccount.objects.filter(parent__isnull=False).order_by("name"),
        required=False,
        empty_label=_("All"),
    )
    kind = forms.ChoiceField(
        label=_("Action"),
        choices=[("", _("All")), *CreditMove.Kind.choices],
        required=False,
    )
    actor = forms.ModelChoiceField(
        label=_("By"),
        queryset=get_user_model().objects.order_by("username"),
        required=False,
        empty_label=_("Anyone"),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
