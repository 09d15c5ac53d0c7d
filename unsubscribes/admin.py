from django.contrib import admin

from .models import Unsubscribe


@admin.register(Unsubscribe)
class UnsubscribeAdmin(admin.ModelAdmin):
    list_display = [
        "address",
        "channel",
        "source",
        "created_at",
        "synced_at",
        "removed_at",
    ]
    list_filter = [
        "channel",
        "source",
        "created_at",
        ("removed_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["address", "reason"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "synced_at", "provider_id"]
