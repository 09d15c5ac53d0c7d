"""URLs of the audit trail page (namespace `audit`)."""

from django.urls import URLPattern, URLResolver, path

from partnerhub import audit_views

app_name = "audit"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", audit_views.audit_list, name="list"),
    path("export.csv", audit_views.audit_export, name="export"),
]
