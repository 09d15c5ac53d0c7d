from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnsubscribesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "unsubscribes"
    verbose_name = _("Unsubscribes")
