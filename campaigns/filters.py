"""django-filter filter sets of the campaign list and the deliveries table."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import BigIntegerField, ExpressionWrapper, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from partnerhub import search
from partnerhub.paging import COUNT_CAP

from .audiences.selectors import recipient_matches, typed_phone
from .models import (
    Campaign,
    CampaignStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    Recipient,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label=_("Search"),
        widget=forms.TextInput(attrs={"placeholder": _("Campaign name")}),
    )
    channel = django_filters.ChoiceFilter(
        choices=Channel.choices, label=_("Channel"), empty_label=_("All channels")
    )
    status = django_filters.ChoiceFilter(
        choices=CampaignStatus.choices, label=_("Status"), empty_label=_("All statuses")
    )
    date_from = django_filters.DateFilter(
        field_name="when",
        lookup_expr="date__gte",
        label=_("From"),
        widget=DATE_INPUT,
        help_text=_("Sent, scheduled or created on or after (Paris time)."),
    )
    date_to = django_filters.DateFilter(
        field_name="when",
        lookup_expr="date__lte",
        label=_("To"),
        widget=DATE_INPUT,
    )

    class Meta:
        model = Campaign
        fields = ("q", "channel", "status", "date_from", "date_to")


class DeliveryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"placeholder": _("Email or phone")}),
    )
    status = django_filters.ChoiceFilter(
        choices=DeliveryStatus.choices,
        label=_("Status"),
        empty_label=_("All statuses"),
    )

    class Meta:
        model = Delivery
        fields = ("q", "status")

    def __init__(
        self, *args: object, campaign: Campaign | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.campaign = campaign
        help_text = search.help_text(_("the address or the recipient's name"))
        self.filters["q"].extra["help_text"] = help_text

    def search(self, queryset: QuerySet[Delivery], name: str, value: str) -> QuerySet:
        """Addresses are stored normalised: lower-case emails, E.164 phones.

        Served by an index on both databases: on SQLite the addresses beginning
        with the text, in address order (a range on the campaign's unique
        address index, `partnerhub.search`); on PostgreSQL see
        `_search_recipients`.
        """
        value = value.strip()
        if not value:
            return queryset
        text, phone = value.lower(), typed_phone(value)
        if search.anywhere():
            return _search_recipients(queryset, self.campaign, value)
        found = search.matches("address", text)
        if phone != text and phone.lstrip("+").isdigit():
            found |= search.matches("address", phone)
        return queryset.filter(found).order_by("address", "pk")


def _search_recipients(
    deliveries: QuerySet[Delivery], campaign: Campaign | None, value: str
) -> QuerySet[Delivery]:
    """PostgreSQL: the deliveries whose address (as sent) begins with the text
    typed, or whose recipient has it anywhere in their e-mail, phone or names.

    The deliveries carry no trigram index: it doubled the cost of writing a
    million of them at dispatch (each is inserted, then answered). The
    recipients' trigram indexes find the people; the `(recipient, campaign)`
    index finds their deliveries. When they are few (up to `COUNT_CAP`) their
    ids are read first and the deliveries sorted by `id + 0`, which no index
    serves: a walk of the primary key would read a million rows to meet one
    match. When they are many, the walk in id order meets 50 early.
    """
    text, phone = value.lower(), typed_phone(value)
    begins = _address_begins(text)
    if phone != text and phone.lstrip("+").isdigit():
        begins |= _address_begins(phone)
    if "@" in value[1:]:  # an address typed: its trigrams are in every address
        return deliveries.filter(begins).order_by("address", "pk")
    people = Recipient.objects.filter(recipient_matches(value))
    if campaign is not None:
        people = people.filter(audience_id=campaign.audience_id)
    ids = list(people.values_list("id", flat=True)[: COUNT_CAP + 1])
    if len(ids) > COUNT_CAP:
        return deliveries.filter(begins | Q(recipient__in=people))
    by_id = ExpressionWrapper(F("id") + 0, output_field=BigIntegerField())
    found = deliveries.filter(begins | Q(recipient_id__in=ids))
    return found.order_by(by_id.asc())


def _address_begins(text: str) -> Q:
    """The address as sent begins with `text`: a range on the campaign's unique
    address index, checked with LIKE (a linguistic collation orders otherwise)."""
    return search.begins_with("address", text) & Q(address__startswith=text)
