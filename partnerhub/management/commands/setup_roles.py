from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.roles import roles_sync


class Command(BaseCommand):
    help = "Create the role groups and sync their permissions."

    def handle(self, *args: Any, **options: Any) -> None:
        for role, count in roles_sync().items():
            self.stdout.write(f"{role}: {count} permissions")
