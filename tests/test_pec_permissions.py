"""Object-level permissions: an operator reaches only the mailboxes granted to them,
by URL, by POST and by download; a guessed id is a 404. Admins see every box,
Marketing none (403), and the PEC section shows only to those allowed."""

from __future__ import annotations

import re

import pytest

from pec.models import DispatchStatus, PecSend
from tests import pec_helpers
from tests.factories import UserFactory
from tests.pec_helpers import OTHER_ADDRESS, OTHER_PASSWORD, mailbox

pytestmark = pytest.mark.django_db
pec_live = pec_helpers.pec_live  # fixture


@pytest.fixture
def world(pec_live):
    alice = UserFactory(username="alice", groups=["PEC operators"])
    bob = UserFactory(username="bob", groups=["PEC operators"])
    box_a = mailbox(operators=[alice])
    box_b = mailbox(address=OTHER_ADDRESS, password=OTHER_PASSWORD, operators=[bob])
    send_b = PecSend.objects.create(
        mailbox=box_b,
        recipients=["x@pec.example.it"],
        subject="Riservato B",
        body_html="<p>b</p>",
        status=DispatchStatus.UNKNOWN,
        provider_code="2026120112000001",
    )
    draft_b = PecSend.objects.create(
        mailbox=box_b, recipients=["y@pec.example.it"], subject="Bozza B", body_html="b"
    )
    return {"alice": alice, "bob": bob, "a": box_a, "b": box_b, "send_b": send_b,
            "draft_b": draft_b}  # fmt: skip


def b_urls(w) -> tuple[list[str], list[str]]:
    box, send, draft = w["b"].pk, w["send_b"].pk, w["draft_b"].pk
    gets = [
        f"/pec/mailboxes/{box}/",
        f"/pec/mailboxes/{box}/inbox/",
        f"/pec/mailboxes/{box}/inbox/1/",
        f"/pec/mailboxes/{box}/inbox/1/delete/",
        f"/pec/sends/{send}/",
        f"/pec/sends/{draft}/confirm/",
        f"/pec/sends/{send}/resend/",
        f"/pec/sends/{send}/delete/",
        f"/pec/sends/{send}/receipts.pdf",
        f"/pec/sends/{send}/receipts.json",
    ]
    posts = [
        f"/pec/mailboxes/{box}/quota/",
        f"/pec/mailboxes/{box}/inbox/1/delete/",
        f"/pec/sends/{draft}/confirm/",
        f"/pec/sends/{send}/refresh/",
        f"/pec/sends/{send}/resend/",
        f"/pec/sends/{send}/delete/",
    ]
    return gets, posts


def test_operator_cannot_reach_another_operators_mailbox(client, world) -> None:
    client.force_login(world["alice"])
    gets, posts = b_urls(world)
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, {"checked": "yes"}).status_code == 404, url
    # nothing happened to B's rows
    world["send_b"].refresh_from_db()
    assert world["send_b"].resends.count() == 0
    assert PecSend.objects.filter(pk=world["draft_b"].pk, status="draft").exists()


def test_operator_cannot_send_from_a_mailbox_not_granted(client, world) -> None:
    client.force_login(world["alice"])
    response = client.post(
        "/pec/new/",
        {
            "mailbox": world["b"].pk,
            "recipients": "x@pec.example.it",
            "subject": "Prova",
            "body_html": "<p>x</p>",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PecSend.objects.filter(subject="Prova").exists()


def test_lists_show_only_granted_mailboxes_and_sends(client, world) -> None:
    client.force_login(world["alice"])
    html = client.get("/pec/").content.decode()
    assert world["a"].username in html
    assert OTHER_ADDRESS not in html and "Riservato B" not in html


def test_owner_and_admins_reach_the_mailbox(client, world, admins_user) -> None:
    for user in (world["bob"], admins_user):
        client.force_login(user)
        gets, _ = b_urls(world)
        for url in (gets[0], gets[4], gets[8], gets[9]):
            assert client.get(url).status_code == 200, (user, url)
        assert "Riservato B" in client.get("/pec/").content.decode()


def test_marketing_gets_403_everywhere(client, world, marketing_user) -> None:
    client.force_login(marketing_user)
    gets, posts = b_urls(world)
    for url in ["/pec/", "/pec/new/", *gets]:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url).status_code == 403, url


def test_pec_section_only_for_those_allowed(client, world, marketing_user) -> None:
    client.force_login(world["alice"])
    nav = client.get("/admin/").content.decode().split('class="ph-nav"', 1)[1]
    assert 'href="/pec/"' in nav.split("</nav>", 1)[0]
    client.force_login(marketing_user)
    html = client.get("/admin/").content.decode()
    assert 'href="/pec/"' not in html


def test_home_page_cards_show_operators_their_mailboxes(client, world) -> None:
    client.force_login(world["alice"])
    html = client.get("/admin/").content.decode()
    assert "PEC · Demo" in html and "Ufficio" not in html


def test_mailbox_admin_is_for_admins_and_never_shows_the_password(
    client, world, admins_user
) -> None:
    client.force_login(world["alice"])
    assert client.get("/admin/pec/pecmailbox/").status_code == 403
    client.force_login(admins_user)
    html = client.get(f"/admin/pec/pecmailbox/{world['a'].pk}/change/").content
    assert b"demo-password" not in html
    response = client.post(
        f"/admin/pec/pecmailbox/{world['a'].pk}/change/",
        {
            "label": "Renamed",
            "username": world["a"].username,
            "password": "",
            "operators": [world["alice"].pk],
        },
    )
    assert response.status_code == 302
    world["a"].refresh_from_db()
    assert world["a"].label == "Renamed" and world["a"].password == "demo-password"


def test_only_pec_operators_can_be_granted_a_mailbox(
    client, world, admins_user, marketing_user
) -> None:
    client.force_login(admins_user)
    html = client.get(f"/admin/pec/pecmailbox/{world['a'].pk}/change/").content
    options = set(re.findall(rb'<option value="\d+"[^>]*>([^<]+)</option>', html))
    assert options == {b"alice", b"bob"}
