"""URLs of the audiences pages (namespace `audiences`)."""

from django.urls import URLPattern, URLResolver, path

from campaigns.audiences import edit_views, views

app_name = "audiences"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.audience_list, name="list"),
    path("new/", edit_views.audience_create, name="create"),
    path("<int:pk>/", views.audience_detail, name="detail"),
    path("<int:pk>/edit/", edit_views.audience_edit, name="edit"),
    path("<int:pk>/export/", views.audience_export, name="export"),
    path("<int:pk>/import/", views.import_upload, name="import"),
    path("imports/<int:pk>/", views.import_preview, name="import_preview"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/status/", views.import_status, name="import_status"),
    path("imports/<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("imports/<int:pk>/result/", views.import_result, name="import_result"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
]
