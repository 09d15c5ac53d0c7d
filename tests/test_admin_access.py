"""Who may open which admin page: login everywhere, background tasks for Admins only."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

TASK_PAGES = [
    "admin:django_q_schedule_changelist",
    "admin:django_q_success_changelist",
    "admin:django_q_failure_changelist",
]
if not settings.REDIS_URL:  # the queue admin exists only with the database broker
    TASK_PAGES.append("admin:django_q_ormq_changelist")


def test_anonymous_visitors_are_sent_to_the_login_page(client) -> None:
    for url in ("/", reverse("admin:index"), reverse(TASK_PAGES[0])):
        response = client.get(url, follow=True)
        assert response.redirect_chain, url
        assert reverse("admin:login") in response.redirect_chain[-1][0]


def test_dashboard_is_branded_and_shown_after_login(role_client) -> None:
    response = role_client("Marketing").get(reverse("admin:index"))
    assert response.status_code == 200
    assert b"PartnerHub" in response.content


@pytest.mark.parametrize("name", TASK_PAGES)
def test_marketing_and_pec_operators_cannot_open_background_tasks(
    role_client, name
) -> None:
    for role in ("Marketing", "PEC operators"):
        assert role_client(role).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", TASK_PAGES)
def test_admins_can_open_background_tasks(role_client, name) -> None:
    assert role_client("Admins").get(reverse(name)).status_code == 200


def test_only_admins_see_the_users_admin(role_client) -> None:
    url = reverse("admin:auth_user_changelist")
    assert role_client("Marketing").get(url).status_code == 403
    assert role_client("Admins").get(url).status_code == 200


def test_language_switch_changes_the_interface_language(client, marketing_user) -> None:
    client.force_login(marketing_user)
    client.post(reverse("set_language"), {"language": "en", "next": "/admin/"})
    assert b"Log out" in client.get(reverse("admin:index")).content
    client.post(reverse("set_language"), {"language": "fr", "next": "/admin/"})
    assert "Déconnexion".encode() in client.get(reverse("admin:index")).content
