"""Demo logins and data for `manage.py demo` (idempotent: runs on every start)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from . import roles

DEMO_PASSWORD = "partnerhub-demo"  # noqa: S105 - printed to the user on purpose


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


DEMO_LOGINS = (
    DemoLogin("admin", DEMO_PASSWORD, roles.ADMINS),
    DemoLogin("marketing", DEMO_PASSWORD, roles.MARKETING),
    DemoLogin("pec", DEMO_PASSWORD, roles.PEC_OPERATORS),
)


@transaction.atomic
def ensure_demo_logins() -> list[DemoLogin]:
    """Create the demo users once; an existing user keeps the password it has."""
    user_model = get_user_model()
    for login in DEMO_LOGINS:
        user, created = user_model.objects.get_or_create(
            username=login.username,
            defaults={"is_staff": True},
        )
        if created:
            user.set_password(login.password)
            user.save()
        user.groups.add(Group.objects.get(name=login.role))
    return list(DEMO_LOGINS)


def ensure_demo_data() -> None:
    """Seed what each app offers for the demo (filled in as the apps grow)."""
    for seed in _seeders():
        seed()


def on_sandbox_start() -> None:
    """What the apps' demos put in the sandbox once it listens (it starts empty
    on every run): the `on_sandbox_start()` of each app's `demo` module."""
    for module in _demo_modules():
        hook = getattr(module, "on_sandbox_start", None)
        if hook is not None:
            hook()


def _seeders() -> list:
    from .accounts import demo as accounts_demo

    seeders = [accounts_demo.seed]
    seeders += [m.seed for m in _demo_modules() if hasattr(m, "seed")]
    return seeders


def _demo_modules() -> list:
    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    return [
        __import__(f"{config.name}.demo", fromlist=["seed"])
        for config in apps.get_app_configs()
        if config.name.startswith(("campaigns", "unsubscribes", "pec"))
        and module_has_submodule(config.module, "demo")
    ]
