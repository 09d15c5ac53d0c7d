"""Sessions last a working day and end with the browser; passwords have 12+
characters (issue #17.7)."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_the_session_cookie_ends_with_the_browser_and_the_session_in_10_hours(
    client,
) -> None:
    UserFactory(username="ana", groups=["Marketing"])
    response = client.post(
        "/admin/login/", {"username": "ana", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
    assert client.session.get_expiry_age() == 10 * 3600
    assert client.session.get_expire_at_browser_close()


def test_passwords_shorter_than_12_characters_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password("Zq8!mW3#tR1")  # 11 characters, otherwise strong
    assert refused.value.error_list[0].code == "password_too_short"
    validate_password("Zq8!mW3#tR1p")  # 12 is enough
