"""django-filter filter sets of the campaign list and the deliveries table."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from partnerhub import search

from .models import Campaign, CampaignStatus, Channel, Delivery, DeliveryStatus

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

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.filters["q"].extra["help_text"] = search.help_text()

    def search(self, queryset: QuerySet[Delivery], name: str, value: str) -> QuerySet:
        """Addresses are stored normalised: lower-case emails, E.164 phones.

        Served by an index on both databases (`partnerhub.search`): anywhere in
        the address on PostgreSQL (trigram), its beginning on SQLite, where the
        matches are listed in address order, the order of the index read.
        """
        value = value.strip()
        if not value:
            return queryset
        phone = value.replace(" ", "").replace(".", "")
        if phone.startswith("0") and phone[1:].isdigit():
            phone = "+33" + phone[1:]  # as French staff type a number
        text = value.lower()
        found = search.matches("address", text)
        if phone != text and phone.lstrip("+").isdigit():
            found |= search.matches("address", phone)
        queryset = queryset.filter(found)
        return queryset if search.anywhere() else queryset.order_by("address", "pk")
