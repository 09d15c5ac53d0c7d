from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PecConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pec"
    verbose_name = _("PEC")
