"""URLs of the compose flow (create, edit, preview, test-send, review, cancel).

Included into `campaigns/urls.py`, so names live in the `campaigns` namespace.
"""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
