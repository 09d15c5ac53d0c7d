from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PartnerHubAdminConfig(AdminConfig):
    """Replaces Django's admin site with the branded PartnerHub one."""

    default_site = "partnerhub.admin_site.PartnerHubAdminSite"


class PartnerHubConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partnerhub"
    verbose_name = _("Provider accounts")

    def ready(self) -> None:
        from . import checks, logmask, roles  # noqa: F401 - checks register

        # Handlers added by libraries outside settings.LOGGING mask secrets too.
        logmask.install_everywhere()

        # Permissions exist only after every app has migrated: sync roles then.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="partnerhub-roles")
