"""PEC pages against the live sandbox: compose validation, confirm, timeline, exports,
inbox (list, search, read, delete), quota gauge, and errors in plain words."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pec.models import DispatchStatus, PecSend
from tests import pec_helpers
from tests.factories import UserFactory
from tests.pec_helpers import mailbox

pytestmark = pytest.mark.django_db
pec_live = pec_helpers.pec_live  # fixture


@pytest.fixture
def operator(client):
    user = UserFactory(username="alice", groups=["PEC operators"])
    client.force_login(user)
    return user


@pytest.fixture
def box(operator):
    return mailbox(operators=[operator])


def pdf_text(pdf: bytes) -> bytes:
    """The page streams of a ReportLab PDF (ASCII85 + Flate), concatenated."""
    import base64
    import zlib

    chunks = re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S)
    return b"".join(
        zlib.decompress(base64.a85decode(c.strip(), adobe=True)) for c in chunks
    )


def compose(client, box, **overrides):
    data = {
        "mailbox": box.pk,
        "recipients": "a@pec.example.it\nb@pec.example.it",
        "subject": "Diffida",
        "body_html": "<p onclick='x()'>Testo</p><script>alert(1)</script>",
        **overrides,
    }
    return client.post("/pec/new/", data)


def test_compose_refuses_duplicates_and_bad_addresses_clearly(client, box) -> None:
    html = compose(
        client, box, recipients="a@pec.example.it, A@pec.example.it"
    ).content.decode()
    assert "Each recipient only once" in html and "A@pec.example.it" in html
    html = compose(client, box, recipients="a@pec.example.it; not-an-address").content
    assert b"Not a valid address: not-an-address" in html
    assert not PecSend.objects.exists()


def test_compose_refuses_a_forbidden_attachment_type(client, box) -> None:
    exe = SimpleUploadedFile("virus.exe", b"MZ", "application/octet-stream")
    html = compose(client, box, attachments=exe).content.decode()
    assert "File type not allowed: virus.exe" in html


def test_compose_page_states_limits_cost_and_no_bcc(client, box) -> None:
    html = client.get("/pec/new/").content.decode()
    assert "No BCC in PEC" in html
    assert "€0.05 per recipient" in html
    assert "At most 25.0" in html and ".pdf" in html


def test_preview_is_sanitised_by_the_email_compose_sanitiser(client, box) -> None:
    html = client.post(
        "/pec/preview/", {"body_html": "<b onclick='x'>hi</b><script>1</script>"}
    )
    assert html.content.decode() == "<b>hi</b>"


def test_compose_confirm_send_then_timeline(
    client, box, pec_live, django_capture_on_commit_callbacks
) -> None:
    pdf = SimpleUploadedFile("atto.pdf", b"%PDF-1.4", "application/pdf")
    response = compose(client, box, attachments=pdf)
    send = PecSend.objects.get()
    assert response.url == f"/pec/sends/{send.pk}/confirm/"
    confirm = client.get(response.url).content.decode()
    assert (
        "0.10\u00a0€" in confirm and "atto.pdf" in confirm and "<script>" not in confirm
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response.url, {"confirm": ""})
    send.refresh_from_db()
    assert send.status == DispatchStatus.SENT and send.sent_count == 2
    client.post(f"/pec/sends/{send.pk}/refresh/")
    pec_live.advance(pec_live.settle_seconds + 1)
    client.post(f"/pec/sends/{send.pk}/refresh/")
    page = client.get(f"/pec/sends/{send.pk}/").content.decode()
    timeline = page.split('class="pec-timeline"', 1)[1]
    assert timeline.index(">Acceptance<") < timeline.index(">Delivery<")
    assert "12 h warning" in page and "Final at 24 h" in page
    assert "proof of sending" in page and "not proof that it was read" in page
    french = client.get(f"/pec/sends/{send.pk}/", HTTP_ACCEPT_LANGUAGE="fr")
    french_page = french.content.decode()  # French typography: "Acceptée :"
    assert "Acceptée\u00a0:" in french_page
    assert "2 PEC envoyées" in french_page and "Définitif à 24 h\u00a0:" in french_page


def test_timeline_shows_the_12_h_warning_then_the_final_notice(
    client, box, pec_live, django_capture_on_commit_callbacks
) -> None:
    compose(client, box, recipients="never@pec.example.it")
    send = PecSend.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/pec/sends/{send.pk}/confirm/", {"confirm": ""})

    pec_live.advance(13 * 3600)
    client.post(f"/pec/sends/{send.pk}/refresh/")
    delayed = client.get(f"/pec/sends/{send.pk}/").content.decode()
    listed = client.get(reverse("pec:mailbox", args=[box.pk])).content.decode()
    pec_live.advance(11 * 3600)
    client.post(f"/pec/sends/{send.pk}/refresh/")
    final = client.get(f"/pec/sends/{send.pk}/").content.decode()
    listed_final = client.get(reverse("pec:mailbox", args=[box.pk])).content.decode()
    french = client.get(f"/pec/sends/{send.pk}/", HTTP_ACCEPT_LANGUAGE="fr")

    # The send's chip (spec §8): "Delivery warning" while accepted and warned.
    assert (
        ">Delivery warning (12 h)<" in delayed and ">Delivery warning (12 h)<" in listed
    )
    assert "Delivery warning" not in final and "Delivery warning" not in listed_final
    assert ">Not delivered<" in listed_final

    assert "delivery delayed (12 h warning)" in delayed
    assert ">12 h warning<" in delayed and "final notice: not delivered" not in delayed
    assert "delivery delayed" not in final and ">not delivered<" in final
    timeline = final.split('class="pec-timeline"', 1)[1]
    assert timeline.index(">12 h warning<") < timeline.index(
        ">final notice: not delivered<"
    )
    assert "avis définitif\u00a0: non remise" in french.content.decode()

    # The filed timeline says which notice is which (they share kind and subject).
    data = json.loads(client.get(f"/pec/sends/{send.pk}/receipts.json").content)
    notices = [r["maximum_time_notice"] for r in data["receipts"]]
    assert [n for n in notices if n] == ["12h_warning", "final"]
    pdf = pdf_text(client.get(f"/pec/sends/{send.pk}/receipts.pdf").content)
    assert b"12 h warning" in pdf and b"final notice: not delivered" in pdf


def test_discarding_a_draft_sends_nothing(client, box, pec_live) -> None:
    compose(client, box)
    send = PecSend.objects.get()
    client.post(f"/pec/sends/{send.pk}/confirm/", {"discard": ""})
    assert not PecSend.objects.exists()
    assert pec_live.requests("pec", "/send") == []


def test_unknown_send_offers_check_and_resend_only_with_explicit_confirmation(
    client, box, pec_live, django_capture_on_commit_callbacks
) -> None:
    send = PecSend.objects.create(
        mailbox=box, recipients=["a@pec.example.it"], subject="Atto", body_html="x",
        status=DispatchStatus.UNKNOWN, error_code="unknown_outcome",
    )  # fmt: skip
    page = client.get(f"/pec/sends/{send.pk}/").content.decode()
    assert "Check and resend" in page and "never sends again on its own" in page
    client.post(f"/pec/sends/{send.pk}/resend/")  # box not ticked
    assert send.resends.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/pec/sends/{send.pk}/resend/", {"checked": "yes"})
    assert send.resends.get().status == DispatchStatus.SENT


def test_exports_pdf_and_json(
    client, box, pec_live, django_capture_on_commit_callbacks
):
    compose(client, box)
    send = PecSend.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/pec/sends/{send.pk}/confirm/", {"confirm": ""})
    pec_live.advance(pec_live.settle_seconds + 1)
    client.post(f"/pec/sends/{send.pk}/refresh/")
    pdf = client.get(f"/pec/sends/{send.pk}/receipts.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 2000
    text = pdf_text(pdf.content)
    assert (
        b"Ricevuta di avvenuta consegna" in text and send.provider_code.encode() in text
    )
    data = json.loads(client.get(f"/pec/sends/{send.pk}/receipts.json").content)
    kinds = [r["type"] for r in data["receipts"]]
    assert kinds == ["accettazione", "avvenuta-consegna", "avvenuta-consegna"]
    assert "Ricevuta di avvenuta consegna" in data["receipts"][1]["text"]


def test_delete_at_provider_asks_first_and_keeps_receipts(
    client, box, pec_live, django_capture_on_commit_callbacks
) -> None:
    compose(client, box)
    send = PecSend.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/pec/sends/{send.pk}/confirm/", {"confirm": ""})
    client.post(f"/pec/sends/{send.pk}/refresh/")
    ask = client.get(f"/pec/sends/{send.pk}/delete/").content.decode()
    assert "does not recall the PEC" in ask
    client.post(f"/pec/sends/{send.pk}/delete/")
    page = client.get(f"/pec/sends/{send.pk}/").content.decode()
    assert "stay stored here" in page and send.receipts.count() == 1


def test_inbox_lists_25_a_page_searches_reads_and_deletes(client, box, pec_live):
    html = client.get(f"/pec/mailboxes/{box.pk}/inbox/").content.decode()
    assert "6 messages</p>" in html and "page 1 of 1" not in html  # one page: no pager
    assert "ANOMALIA" in html and "PEC message" in html
    assert "can be slow" in html
    assert "Quota" in html and "KiB" in html  # quota fetched when stale
    html = client.get(f"/pec/mailboxes/{box.pk}/inbox/?q=fattura").content.decode()
    assert "1 message</p>" in html
    message_id = int(re.search(r"/inbox/(\d+)/", html).group(1))
    read = client.get(f"/pec/mailboxes/{box.pk}/inbox/{message_id}/").content.decode()
    assert "Ferramenta Rossi" in read and "%20" not in read  # url-decoded body
    ask = client.get(f"/pec/mailboxes/{box.pk}/inbox/{message_id}/delete/")
    assert b"cannot be recovered" in ask.content
    client.post(f"/pec/mailboxes/{box.pk}/inbox/{message_id}/delete/")
    html = client.get(f"/pec/mailboxes/{box.pk}/inbox/").content.decode()
    assert "5 messages" in html


def test_inbox_401_is_explained_with_both_causes(client, operator, pec_live) -> None:
    box = mailbox(password="wrong", operators=[operator])
    html = client.get(f"/pec/mailboxes/{box.pk}/inbox/").content.decode()
    assert "Openapi token" in html and "username and password" in html
    assert "Authorization is not valid or empty" in html  # details panel


def test_reading_a_vanished_message_says_so(client, box, pec_live) -> None:
    response = client.get(f"/pec/mailboxes/{box.pk}/inbox/9999/", follow=True)
    assert b"no longer in the mailbox" in response.content


@pytest.mark.parametrize(
    ("usage", "tone"), [(100, "ok"), (850, "warning"), (960, "danger")]
)
def test_quota_gauge_tones_and_unit_setting(client, box, settings, usage, tone):
    from django.utils import timezone

    settings.PEC_QUOTA_UNIT = "MB"
    box.quota_usage, box.quota_limit = usage, 1000
    box.quota_checked_at = timezone.now()
    box.save()
    html = client.get(f"/pec/mailboxes/{box.pk}/").content.decode()
    assert f"pec-gauge-{tone}" in html and "of 1,000 MB" in html.replace("\u202f", ",")
    assert ("incoming PEC bounce" in html) is True


def test_quota_refresh_button(client, box, pec_live) -> None:
    client.post(f"/pec/mailboxes/{box.pk}/quota/")
    box.refresh_from_db()
    assert box.quota_limit == 1048576 and box.quota_usage > 2048
