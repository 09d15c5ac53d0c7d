"""URLs of the campaigns pages (namespace `campaigns`)."""

from django.urls import URLPattern, URLResolver

app_name = "campaigns"

urlpatterns: list[URLPattern | URLResolver] = []
