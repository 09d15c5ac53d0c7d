"""URLs of the PEC pages (namespace `pec`)."""

from django.urls import URLPattern, URLResolver, path

from .views import inbox, mailboxes, sends

app_name = "pec"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", mailboxes.home, name="home"),
    path("mailboxes/<int:pk>/", mailboxes.mailbox, name="mailbox"),
    path("mailboxes/<int:pk>/quota/", mailboxes.quota_refresh, name="quota_refresh"),
    path("mailboxes/<int:pk>/inbox/", inbox.inbox, name="inbox"),
    path("mailboxes/<int:pk>/inbox/<int:message_id>/", inbox.message, name="message"),
    path(
        "mailboxes/<int:pk>/inbox/<int:message_id>/delete/",
        inbox.message_delete,
        name="message_delete",
    ),
    path("new/", sends.compose, name="compose"),
    path("preview/", sends.preview, name="preview"),
    path("sends/<int:pk>/", sends.send_detail, name="send"),
    path("sends/<int:pk>/confirm/", sends.confirm, name="confirm"),
    path("sends/<int:pk>/refresh/", sends.send_refresh, name="send_refresh"),
    path("sends/<int:pk>/resend/", sends.send_resend, name="send_resend"),
    path("sends/<int:pk>/delete/", sends.send_delete, name="send_delete"),
    path("sends/<int:pk>/receipts.pdf", sends.export_pdf, name="export_pdf"),
    path("sends/<int:pk>/receipts.json", sends.export_json, name="export_json"),
]
