"""The `pec` operator's walk in a real browser, against the live sandbox:
compose (two recipients, one attachment) → confirm → timeline (ACCETTAZIONE, then
CONSEGNA and AVVISO DI MANCATA CONSEGNA once the sandbox settles) → PDF export →
inbox search → read → delete → quota gauge. Screenshots land in test-artifacts/."""

from __future__ import annotations

import pytest

from pec.models import PecSend
from tests import pec_helpers
from tests.factories import PASSWORD, UserFactory
from tests.pec_helpers import mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
pec_live = pec_helpers.pec_live  # fixture


def test_pec_operator_walk(page, live_server, pec_live, screenshot, tmp_path) -> None:
    user = UserFactory(username="pec", groups=["PEC operators"])
    box = mailbox(operators=[user])
    page.goto(f"{live_server.url}/admin/login/?next=/pec/")
    page.fill("#id_username", "pec")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("text=Your mailboxes")
    assert page.locator(".ph-nav a[href='/pec/']").count() == 1
    screenshot("pec-home-empty")

    page.click(".ph-page-actions >> text=New PEC")
    page.fill("#id_recipients", "studio@pec.example.it\nmario.rossi@gmail.com")
    page.fill("#id_subject", "Diffida ad adempiere")
    page.fill(
        "#id_body_html",
        "<h2>Diffida</h2><p>Con la presente si <b>diffida</b> ad adempiere.</p>"
        "<script>alert('x')</script>",
    )
    attachment = tmp_path / "atto.pdf"
    attachment.write_bytes(b"%PDF-1.4 atto di diffida")
    page.set_input_files("#id_attachments", str(attachment))
    page.wait_for_function(
        "document.getElementById('pec-preview-frame').srcdoc.includes('diffida')"
    )
    assert "script" not in page.eval_on_selector("#pec-preview-frame", "f => f.srcdoc")
    assert "(2)" in page.inner_text("#pec-cost-value")
    screenshot("pec-compose")

    page.click("text=Review before sending")
    page.wait_for_selector("text=Confirm and send")
    assert "0.10\xa0€" in page.inner_text(".pec-facts")
    screenshot("pec-confirm")
    page.click("text=Confirm and send")
    page.wait_for_selector("text=The PEC is on its way")
    page.click("text=Check receipts now")
    page.wait_for_selector(".pec-timeline >> text=Acceptance")
    screenshot("pec-timeline-accepted")

    pec_live.advance(pec_live.settle_seconds + 1)
    page.click("text=Check receipts now")
    page.wait_for_selector(".pec-timeline >> text=Non-delivery")
    timeline = page.inner_text(".pec-timeline")
    assert timeline.index("Acceptance") < timeline.index("Delivery")
    assert "Partially delivered" in page.inner_text(".pec-send-head")
    screenshot("pec-timeline-settled")

    with page.expect_download() as download:
        page.click("text=Export PDF")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")

    send = PecSend.objects.get()
    assert send.receipts.count() == 3

    page.goto(f"{live_server.url}/pec/mailboxes/{box.pk}/inbox/")
    page.wait_for_selector(".pec-gauge")
    screenshot("pec-inbox")
    page.fill("#id_q", "Ferramenta")
    page.click(".pec-search button[type=submit]")
    page.wait_for_selector("p.pec-count:text-is('1 message')")
    page.click(".pec-table a")
    page.wait_for_selector("iframe.pec-message-body")
    frame = page.frame_locator("iframe.pec-message-body")
    assert "fattura" in frame.locator("body").inner_text()
    screenshot("pec-message")
    page.click(".ph-page-actions >> text=Delete")
    page.wait_for_selector("text=cannot be recovered")
    screenshot("pec-message-delete")
    page.click("text=Yes, delete it")
    page.wait_for_selector("text=The message was deleted from the mailbox.")
    page.fill("#id_q", "Ferramenta")
    page.click(".pec-search button[type=submit]")
    page.wait_for_selector("text=No message matches this search.")

    page.goto(f"{live_server.url}/pec/mailboxes/{box.pk}/")
    page.wait_for_selector(".pec-gauge-bar")
    assert "KiB" in page.inner_text(".pec-gauge")
    screenshot("pec-mailbox")
    page.goto(f"{live_server.url}/pec/")
    screenshot("pec-home")
