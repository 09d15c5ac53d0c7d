"""Compose → confirm → send against the live sandbox: success, every error, 429 waited
out, lost answer left `unknown`, and never a second POST /send for one row."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pec import services
from pec.errors import PecActionRefused
from pec.models import DispatchStatus, PecSend
from tests import pec_helpers
from tests.pec_helpers import confirm_and_send, draft, mailbox

pec_live = pec_helpers.pec_live  # fixture

pytestmark = pytest.mark.django_db


def sends_at_sandbox(sandbox) -> list[dict]:
    return [r for r in sandbox.requests("pec", "/send") if r["method"] == "POST"]


def test_confirmed_send_leaves_once_with_code_count_and_base64_attachment(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    pdf = SimpleUploadedFile("atto.pdf", b"%PDF-1.4 atto", "application/pdf")
    send = draft(
        mailbox(),
        recipients=["a@pec.example.it", "b@pec.example.it"],
        files=[pdf],
    )
    assert send.status == DispatchStatus.DRAFT
    assert sends_at_sandbox(pec_live) == []  # nothing leaves before confirmation

    send = confirm_and_send(send, django_capture_on_commit_callbacks)

    assert send.status == DispatchStatus.SENT
    assert send.provider_code and send.sent_count == 2
    assert send.next_check_at is not None
    [request] = sends_at_sandbox(pec_live)
    assert request["status"] == 201
    body = request["body"]
    assert body["recipient"] == ["a@pec.example.it", "b@pec.example.it"]
    assert body["attachments"] == [
        {"name": "atto.pdf", "file": base64.b64encode(b"%PDF-1.4 atto").decode()}
    ]


def test_confirming_twice_is_refused(pec_live, django_capture_on_commit_callbacks):
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    with pytest.raises(PecActionRefused):
        services.send_confirm(send=send)
    assert len(sends_at_sandbox(pec_live)) == 1


def test_dispatch_of_an_already_sent_row_makes_no_second_call(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    again = services.send_dispatch(send_id=send.pk)
    assert again.status == DispatchStatus.SENT
    assert len(sends_at_sandbox(pec_live)) == 1


def test_400_is_a_refusal_in_plain_words(pec_live, django_capture_on_commit_callbacks):
    # the sandbox (like the provider) refuses a domain without a dot
    send = draft(mailbox(), recipients=["ufficio@localhost"])
    send = confirm_and_send(send, django_capture_on_commit_callbacks)
    assert send.status == DispatchStatus.FAILED
    assert "refused the request as invalid" in send.problem
    assert "check the recipients" in send.problem
    assert "Post parameter is not valid" in send.error_detail


def test_401_names_both_token_and_mailbox_credentials(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    box = mailbox(password="wrong")
    send = confirm_and_send(draft(box), django_capture_on_commit_callbacks)
    assert send.status == DispatchStatus.FAILED
    assert "Openapi token" in send.problem and "username and password" in send.problem
    assert "wrong" not in send.error_detail


def test_500_on_send_is_never_retried_and_left_unknown(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    pec_live.set_faults([{"fault": "http_500", "provider": "pec", "path": "/send"}])
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    assert send.status == DispatchStatus.UNKNOWN
    assert len(sends_at_sandbox(pec_live)) == 1


def test_lost_answer_leaves_unknown_and_is_never_resent_automatically(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    pec_live.set_faults(
        [{"fault": "lost_response", "provider": "pec", "path": "/send", "count": 1}]
    )
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    assert send.status == DispatchStatus.UNKNOWN
    assert "may have left" in send.problem
    # the provider did accept it: one sending exists there
    assert pec_live.state()["providers"]["pec"]["sendings"] == 1
    # a retried task (or a second worker) does not send again
    services.send_dispatch(send_id=send.pk)
    assert len(sends_at_sandbox(pec_live)) == 1
    assert PecSend.objects.get(pk=send.pk).status == DispatchStatus.UNKNOWN


def test_check_and_resend_is_a_new_send_made_only_on_request(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    pec_live.set_faults(
        [{"fault": "lost_response", "provider": "pec", "path": "/send", "count": 1}]
    )
    first = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        copy = services.send_resend(send=first, user=first.created_by)
    copy.refresh_from_db()
    assert copy.resend_of == first and copy.status == DispatchStatus.SENT
    assert pec_live.state()["providers"]["pec"]["sendings"] == 2
    with pytest.raises(PecActionRefused):
        services.send_resend(send=copy, user=first.created_by)


def test_worker_killed_mid_call_leaves_unknown_without_a_call(pec_live) -> None:
    send = draft(mailbox())
    PecSend.objects.filter(pk=send.pk).update(status=DispatchStatus.SUBMITTING)
    result = services.send_dispatch(send_id=send.pk)
    assert result.status == DispatchStatus.UNKNOWN
    assert "worker stopped" in result.problem
    assert sends_at_sandbox(pec_live) == []


def test_429_is_waited_out_and_retried_not_counted_as_failure(
    pec_live, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("pec.gateway.time.sleep", slept.append)
    pec_live.set_faults(
        [{"fault": "http_429", "provider": "pec", "path": "/send", "count": 2}]
    )
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    assert send.status == DispatchStatus.SENT
    statuses = [r["status"] for r in sends_at_sandbox(pec_live)]
    assert statuses == [429, 429, 201]
    assert slept == [1.0, 1.0]  # Retry-After: 1


def test_unreachable_provider_means_not_sent(
    pec_live, settings, django_capture_on_commit_callbacks
) -> None:
    settings.PECMASSIVA_API_URL = "http://127.0.0.1:9/pecmassiva"
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    assert send.status == DispatchStatus.FAILED
    assert "could not be reached" in send.problem


def test_stalled_sends_are_recovered_without_a_second_request(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    old = timezone.now() - timedelta(hours=1)
    lost = draft(mailbox())
    stuck = draft(lost.mailbox)
    PecSend.objects.filter(pk=lost.pk).update(status="queued", confirmed_at=old)
    PecSend.objects.filter(pk=stuck.pk).update(status="submitting", submitted_at=old)
    assert services.sends_recover_stalled() == 2
    lost.refresh_from_db()
    stuck.refresh_from_db()
    assert lost.status == DispatchStatus.SENT  # queued again (tasks run inline here)
    assert (
        stuck.status == DispatchStatus.UNKNOWN and stuck.error_code == "worker_stopped"
    )
    assert len(sends_at_sandbox(pec_live)) == 1


def test_the_body_sent_is_the_sanitised_one(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    send = services.send_draft(
        mailbox=mailbox(), user=None, recipients=["a@pec.example.it"], subject="S",
        body_html="<p onclick='x()'>Ciao</p><script>alert(1)</script>",
    )  # fmt: skip
    confirm_and_send(send, django_capture_on_commit_callbacks)
    [request] = sends_at_sandbox(pec_live)
    assert request["body"]["body"] == "<p>Ciao</p>"
