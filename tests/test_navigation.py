"""The section bar shows each marketing page only to roles that may open it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def section_links(client) -> list[str]:
    html = client.get("/admin/").content.decode()
    nav = (
        html.split('class="ph-nav"', 1)[1].split("</nav>", 1)[0]
        if "ph-nav" in html
        else ""
    )
    return [
        href for href in ("/campaigns/", "/audiences/", "/unsubscribes/") if href in nav
    ]


def test_marketing_sees_campaigns_audiences_and_unsubscribes(role_client) -> None:
    assert section_links(role_client("Marketing")) == [
        "/campaigns/",
        "/audiences/",
        "/unsubscribes/",
    ]


def test_pec_operators_see_no_marketing_section(role_client) -> None:
    assert section_links(role_client("PEC operators")) == []


def test_current_section_is_marked_for_screen_readers(role_client) -> None:
    html = role_client("Marketing").get("/campaigns/").content.decode()
    assert 'href="/campaigns/" aria-current="page"' in html


def test_every_page_names_the_icon_and_favicon_ico_leads_to_it(client) -> None:
    """No 404 in the browser's console for the icon, logged in or not."""
    from pathlib import Path

    from django.contrib.staticfiles import finders

    login_page = client.get("/admin/login/").content.decode()
    assert (
        '<link rel="icon" type="image/svg+xml" href="/static/partnerhub/favicon.svg">'
        in (login_page)
    )
    answer = client.get("/favicon.ico")
    assert answer.status_code == 302
    assert answer["Location"] == "/static/partnerhub/favicon.svg"
    icon = finders.find("partnerhub/favicon.svg")
    assert icon and Path(icon).read_text().startswith("<svg")
