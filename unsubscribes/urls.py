"""URLs of the unsubscribes pages (namespace `unsubscribes`)."""

from django.urls import URLPattern, URLResolver

app_name = "unsubscribes"

urlpatterns: list[URLPattern | URLResolver] = []
