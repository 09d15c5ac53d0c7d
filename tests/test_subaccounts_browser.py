"""The Admin's walk through sub-accounts in a real browser, against the sandbox.

Create → it appears with its balance → add credit → both balances change → the
chart marks the move → remove credit → delete (SMS) → the credit moves list shows
the four moves. Screenshots land in test-artifacts/ for review.
"""

from __future__ import annotations

from typing import Any

import pytest

from partnerhub.models import CreditMove, ProviderAccount
from partnerhub.services import account_refresh_credits, accounts_ensure_main
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_walks_the_subaccount_lifecycle(
    page: Any, live_server: Any, screenshot: Any, sandbox_settings: Any
) -> None:
    for account in accounts_ensure_main():
        account_refresh_credits(account=account)
    UserFactory(username="admin", groups=["Admins"])
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector(".ph-cards")

    page.click(".ph-nav >> text=Credits")
    sms = page.locator("section.ac-group", has_text="SMS Partner")
    assert "50,000.00" in sms.locator(".ac-main-balance").inner_text()
    screenshot("subaccounts-01-list")
    sms.locator("text=New sub-account").click()
    page.fill("#id_name", "Agence Lyon")
    page.fill("#id_initial_credit", "30")
    screenshot("subaccounts-02-create")
    page.click("text=Create the sub-account")
    key = page.locator("#new-key").input_value()
    assert key.startswith("sub-")
    screenshot("subaccounts-03-created-key-once")

    page.click("text=Done, I have the key")
    assert "30.00" in page.locator(".ac-big").inner_text()
    assert key not in page.content() and f"••••{key[-4:]}" in page.content()

    page.click(".ph-page-actions >> text=Add credit")
    page.fill("#id_amount", "20")
    page.click("text=Continue")
    assert "Move" in page.locator(".ac-confirm").inner_text()
    screenshot("subaccounts-04-confirm-add")
    page.click("text=Yes, add the credit")
    assert "50.00" in page.locator(".ac-big").inner_text()
    assert "49,950.00" in page.locator(".messagelist").inner_text()
    assert page.locator("svg.ac-chart .ac-move").count() == 2  # create + add
    screenshot("subaccounts-05-detail-after-add")

    page.click(".ph-page-actions >> text=Remove credit")
    page.fill("#id_amount", "10")
    page.click("text=Continue")
    page.click("text=Yes, remove the credit")
    assert "40.00" in page.locator(".ac-big").inner_text()

    page.click(".ph-page-actions >> text=Delete")
    assert "goes back to the main account" in page.content()
    screenshot("subaccounts-06-confirm-delete")
    page.click("text=Yes, delete it")
    assert "went back to the main account" in page.locator(".messagelist").inner_text()
    main = ProviderAccount.objects.get(provider="sms", parent=None)
    assert main.credits == 50000

    page.click("text=Credit moves")
    rows = page.locator("table.ac-table tbody tr")
    assert rows.count() == 4
    screenshot("subaccounts-07-moves")
    kinds = list(CreditMove.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["create", "add", "remove", "delete"]
