"""Login throttling: wrong passwords lock the username out, with a clear message."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def post_login(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_five_wrong_passwords_lock_the_user_out_even_with_the_right_one(
    client, settings
) -> None:
    settings.LOGIN_FAILURE_LIMIT = 5
    UserFactory(username="ana", groups=["Marketing"])
    for _ in range(5):
        response = post_login(client, "ana", "wrong")
        assert response.status_code == 200
        assert "Too many failed" not in response.content.decode()
    response = post_login(client, "ana", PASSWORD)
    assert response.status_code == 200  # the form again, not a redirect
    assert "_auth_user_id" not in client.session
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_other_users_are_not_locked_by_someone_elses_failures(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    UserFactory(username="ana", groups=["Marketing"])
    UserFactory(username="bob", groups=["Marketing"])
    for _ in range(3):
        post_login(client, "ana", "wrong", address="10.0.0.1")
    response = post_login(client, "bob", PASSWORD, address="10.0.0.2")
    assert response.status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, settings) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    UserFactory(username="ana", groups=["Marketing"])
    for _ in range(2):
        post_login(client, "ana", "wrong")
    assert post_login(client, "ana", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        post_login(client, "ana", "wrong")
    assert post_login(client, "ana", PASSWORD).status_code == 302


# One address trying many usernames is no longer locked out as a whole (a shared
# proxy address would lock everyone out): see tests/test_security_throttle.py.
