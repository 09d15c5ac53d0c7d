from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("refresh/", views.refresh_now, name="refresh"),
    path("moves/", views.move_list, name="moves"),
    path("moves/export/", views.move_export, name="moves_export"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/threshold/", views.account_threshold, name="threshold"),
    path("<int:pk>/sync/", views.sync, name="sync"),
    path("<int:pk>/new/", views.create, name="create"),
    path("<int:pk>/credit/add/", views.credit, {"direction": "add"}, name="add"),
    path(
        "<int:pk>/credit/remove/", views.credit, {"direction": "remove"}, name="remove"
    ),
    path("<int:pk>/delete/", views.delete, name="delete"),
]
