"""URLs of the unsubscribes pages (namespace `unsubscribes`)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "unsubscribes"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.unsubscribe_list, name="list"),
    path("add/", views.unsubscribe_add, name="add"),
    path("<int:pk>/remove/", views.unsubscribe_remove, name="remove"),
    path("import/", views.unsubscribe_import, name="import"),
    path("export/", views.unsubscribe_export, name="export"),
    path("sync/", views.unsubscribe_sync, name="sync"),
    path("sync/status.json", views.unsubscribe_sync_status, name="sync_status"),
    path("hooks/sms/<str:token>/", views.sms_reply_hook, name="sms_reply_hook"),
]
