"""URLs of the audiences pages (namespace `audiences`)."""

from django.urls import URLPattern, URLResolver

app_name = "audiences"

urlpatterns: list[URLPattern | URLResolver] = []
