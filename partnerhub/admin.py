from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import CreditSnapshot, ProviderAccount


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "provider",
        "parent",
        "credits",
        "credits_checked_at",
        "is_active",
    ]
    list_filter = ["provider", "is_active", ("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name", "email", "provider_token"]
    list_select_related = ["parent"]
    readonly_fields = [
        "credits",
        "credits_unit",
        "credits_checked_at",
        "created_at",
        "api_key_last4",
        "subaccount_type",
    ]
    exclude = ["encrypted_api_key"]  # secrets are never shown back
    fieldsets = [
        (None, {"fields": ["provider", "name", "parent", "email", "is_active"]}),
        (
            _("Credits"),
            {
                "fields": [
                    "credits",
                    "credits_unit",
                    "credits_checked_at",
                    "low_credit_threshold",
                ]
            },
        ),
        (
            _("Provider"),
            {
                "fields": [
                    "provider_token",
                    "subaccount_type",
                    "api_key_last4",
                    "created_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ProviderAccount | None = None
    ) -> list[str]:
        """Provider, main account and provider token are fixed once created.

        Sub-accounts are created at the provider from the Credits pages
        (`accounts:create`), never here: the add form only makes main accounts.
        """
        fixed = ["provider", "parent", "provider_token"] if obj else ["parent"]
        return [*self.readonly_fields, *fixed]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "parent": None}


@admin.register(CreditSnapshot)
class CreditSnapshotAdmin(admin.ModelAdmin):
    list_display = ["account", "taken_at", "credits"]
    list_filter = ["account__provider"]
    list_select_related = ["account"]
    date_hierarchy = "taken_at"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
