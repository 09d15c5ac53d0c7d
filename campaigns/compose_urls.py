"""URLs of the compose flow (create, edit, preview, test-send, review, cancel).

Included into `campaigns/urls.py`, so names live in the `campaigns` namespace.
"""

from django.urls import URLPattern, URLResolver, path

from campaigns.views import compose, merge

urlpatterns: list[URLPattern | URLResolver] = [
    path("new/", compose.campaign_create, name="create"),
    path("preview/", compose.campaign_preview, name="preview"),
    path(
        "audience-counts/",
        compose.campaign_audience_counts_json,
        name="audience_counts",
    ),
    path("merge-fields/", merge.campaign_merge_fields_json, name="merge_fields"),
    path("<int:pk>/edit/", compose.campaign_edit, name="edit"),
    path("<int:pk>/test-send/", compose.campaign_test_send, name="test_send"),
    path("<int:pk>/review/", compose.campaign_review, name="review"),
    path("<int:pk>/cancel/", compose.campaign_cancel, name="cancel"),
    path("<int:pk>/duplicate/", compose.campaign_duplicate, name="duplicate"),
]
