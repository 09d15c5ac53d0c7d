"""The role groups exist after migrate and hold exactly their permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from partnerhub import roles

pytestmark = pytest.mark.django_db


def codenames(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_the_three_groups_exist_after_migrate() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_NAMES)


def test_admins_can_manage_users_and_background_tasks() -> None:
    perms = codenames(roles.ADMINS)
    assert {
        "auth.change_user",
        "django_q.view_schedule",
        "django_q.add_schedule",
    } <= perms


def test_marketing_and_pec_operators_cannot_touch_tasks_or_users() -> None:
    for role in (roles.MARKETING, roles.PEC_OPERATORS):
        perms = codenames(role)
        assert not {p for p in perms if p.startswith(("django_q.", "auth."))}


def test_setup_roles_restores_permissions_removed_by_hand() -> None:
    Group.objects.get(name=roles.ADMINS).permissions.clear()
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert "auth.change_user" in codenames(roles.ADMINS)


def test_setup_roles_removes_permissions_added_by_hand() -> None:
    """Exactly: a permission outside the role's rules does not survive a sync."""
    from django.contrib.auth.models import Permission

    group = Group.objects.get(name=roles.MARKETING)
    stray = Permission.objects.get(codename="change_user")
    group.permissions.add(stray)
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert "auth.change_user" not in codenames(roles.MARKETING)
    every = list(Permission.objects.select_related("content_type"))
    wanted = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in roles.permissions_for(roles.MARKETING, every)
    }
    assert codenames(roles.MARKETING) == wanted
