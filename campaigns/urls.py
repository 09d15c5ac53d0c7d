"""URLs of the campaign pages (namespace `campaigns`)."""

from django.urls import URLPattern, URLResolver

from campaigns.compose_urls import urlpatterns as compose_urlpatterns

app_name = "campaigns"

urlpatterns: list[URLPattern | URLResolver] = [
    *compose_urlpatterns,
]
