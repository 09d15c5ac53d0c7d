"""Receipts: fetched from the live sandbox, stored once, kept forever, states derived
from the stored ones; parsing of every §5.3 type; back-off; operator emails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from partnerhub.providers.pecmassiva import PecReceipt as WireReceipt
from partnerhub.providers.pecmassiva import ReceiptType, receipt_type
from pec import receipts, services
from pec.models import DispatchStatus, PecReceipt, PecSend, PecState, ReceiptKind
from tests import pec_helpers
from tests.factories import UserFactory
from tests.pec_helpers import confirm_and_send, draft, mailbox

pytestmark = pytest.mark.django_db
pec_live = pec_helpers.pec_live  # fixture

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("POSTA CERTIFICATA: Atto 1", ReceiptType.TRANSPORT),
        ("ACCETTAZIONE: Atto 1", ReceiptType.ACCEPTANCE),
        ("AVVISO DI NON ACCETTAZIONE: Atto 1", ReceiptType.NON_ACCEPTANCE),
        ("AVVISO DI NON ACCETTAZIONE PER VIRUS: Atto 1", ReceiptType.NON_ACCEPTANCE),
        ("PRESA IN CARICO: Atto 1", ReceiptType.TAKEN_IN_CHARGE),
        ("CONSEGNA: Atto 1", ReceiptType.DELIVERY),
        ("AVVISO DI MANCATA CONSEGNA: Atto 1", ReceiptType.NON_DELIVERY),
        ("AVVISO DI MANCATA CONSEGNA PER VIRUS: Atto 1", ReceiptType.NON_DELIVERY),
        (
            "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: Atto 1",
            ReceiptType.DELIVERY_TIMEOUT,
        ),
        ("PROBLEMA DI SICUREZZA: Atto 1", ReceiptType.VIRUS_DETECTED),
        ("ANOMALIA MESSAGGIO: Atto 1", ReceiptType.ANOMALY),
        ("Re: CONSEGNA: Atto 1", ReceiptType.UNKNOWN),
    ],
)
def test_every_receipt_type_is_read_and_stored_with_its_kind(subject, kind) -> None:
    assert receipt_type(subject) == kind
    send = PecSend.objects.create(
        mailbox=mailbox(), recipients=["a@pec.example.it"], subject="Atto 1",
        body_html="x", status=DispatchStatus.SENT, provider_code="1",
    )  # fmt: skip
    wire = WireReceipt(kind, subject, T0, "raw", "posta-certificata@x", "", "t")
    [row] = receipts.store_new(send, [wire])
    assert ReceiptKind(row.kind).value == kind.value
    assert receipts.store_new(send, [wire]) == []  # stored once


def wire(kind: ReceiptType, minutes: float, about: str | None = None) -> WireReceipt:
    prefix = {
        ReceiptType.ACCEPTANCE: "ACCETTAZIONE",
        ReceiptType.NON_ACCEPTANCE: "AVVISO DI NON ACCETTAZIONE",
        ReceiptType.DELIVERY: "CONSEGNA",
        ReceiptType.NON_DELIVERY: "AVVISO DI MANCATA CONSEGNA",
        ReceiptType.DELIVERY_TIMEOUT: "AVVISO DI MANCATA CONSEGNA PER SUP. "
        "TEMPO MASSIMO",
    }[kind]
    return WireReceipt(
        kind, f"{prefix}: Atto {minutes}", T0 + timedelta(minutes=minutes), "",
        "posta-certificata@x", "", f"text {minutes}", about,
    )  # fmt: skip


TWO = ["a@pec.example.it", "b@pec.example.it"]


@pytest.mark.parametrize(
    ("items", "state", "a_state"),
    [
        ([], PecState.SUBMITTED, "submitted"),
        ([wire(ReceiptType.ACCEPTANCE, 0)], PecState.ACCEPTED, "accepted"),
        (
            [wire(ReceiptType.ACCEPTANCE, 0), wire(ReceiptType.DELIVERY, 2, TWO[0])],
            PecState.ACCEPTED,  # one of two outcomes so far
            "delivered",
        ),
        (
            [
                wire(ReceiptType.ACCEPTANCE, 0),
                wire(ReceiptType.DELIVERY, 2, TWO[0]),
                wire(ReceiptType.DELIVERY, 3, TWO[1]),
            ],
            PecState.DELIVERED,
            "delivered",
        ),
        (
            [
                wire(ReceiptType.ACCEPTANCE, 0),
                wire(ReceiptType.DELIVERY, 2, TWO[0]),
                wire(ReceiptType.NON_DELIVERY, 3, TWO[1]),
            ],
            PecState.PARTIALLY_DELIVERED,
            "delivered",
        ),
        (
            [
                wire(ReceiptType.ACCEPTANCE, 0),
                wire(ReceiptType.NON_DELIVERY, 2, TWO[0]),
                wire(ReceiptType.DELIVERY_TIMEOUT, 23 * 60, TWO[1]),  # 24 h final
            ],
            PecState.NOT_DELIVERED,
            "not_delivered",
        ),
        (
            [
                wire(ReceiptType.ACCEPTANCE, 0),
                wire(ReceiptType.DELIVERY, 2, TWO[0]),
                wire(ReceiptType.DELIVERY_TIMEOUT, 12 * 60, TWO[1]),  # 12 h warning
            ],
            PecState.ACCEPTED,
            "delivered",
        ),
        (
            [
                wire(ReceiptType.ACCEPTANCE, 0),
                wire(ReceiptType.DELIVERY_TIMEOUT, 12 * 60, TWO[0]),  # warning only
            ],
            PecState.ACCEPTED,
            "delayed",
        ),
        ([wire(ReceiptType.NON_ACCEPTANCE, 0)], PecState.NOT_ACCEPTED, "not_accepted"),
    ],
)
def test_derived_states_per_send_and_per_recipient(items, state, a_state) -> None:
    send = PecSend.objects.create(
        mailbox=mailbox(), recipients=TWO, subject="Atto", body_html="x",
        status=DispatchStatus.SENT, provider_code="1",
    )  # fmt: skip
    receipts.store_new(send, items)
    receipts.apply_state(send)
    assert send.state == state
    assert dict(receipts.recipient_states(send))[TWO[0]] == a_state
    if items and items[0].type == ReceiptType.ACCEPTANCE:
        assert send.accepted_at == T0
        assert send.warning_at == T0 + timedelta(hours=12)
        assert send.final_at == T0 + timedelta(hours=24)


def test_refresh_from_the_sandbox_pending_then_delivered_and_not_delivered(
    pec_live, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    alice = UserFactory(username="alice", email="alice@example.fr")
    box = mailbox(operators=[alice])
    send = draft(box, recipients=["ok@pec.example.it", "nope@gmail.com"], user=alice)
    send = confirm_and_send(send, django_capture_on_commit_callbacks)

    # the send task fetched the acceptance receipt at once
    assert send.receipts.count() == 1 and send.state == PecState.ACCEPTED
    assert send.accepted_at is not None and send.next_check_at is not None
    assert mailoutbox == []

    pec_live.advance(pec_live.settle_seconds + 1)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.send_refresh(send=send)
    send.refresh_from_db()
    kinds = list(send.receipts.values_list("kind", flat=True))
    assert kinds == ["accettazione", "avvenuta-consegna", "errore-consegna"]
    assert second.new_receipts == 2
    assert send.state == PecState.PARTIALLY_DELIVERED
    assert send.delivered_to == ["ok@pec.example.it"]
    assert send.not_delivered_to == ["nope@gmail.com"]
    assert send.next_check_at is None  # final: polling stops
    [email] = mailoutbox
    assert email.to == ["alice@example.fr"]
    assert "not delivered" in email.subject.lower() or "non" in email.subject.lower()


def test_receipts_are_kept_after_deleting_the_mailbox_copies(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    pec_live.advance(pec_live.settle_seconds + 1)
    services.send_refresh(send=send)
    services.send_delete_at_provider(send=send)
    send.refresh_from_db()
    assert send.deleted_at_provider is not None
    # the provider now answers 404 "Result empty" ...
    outcome = services.send_refresh(send=send)
    send.refresh_from_db()
    # ... yet the evidence and the state stay
    assert outcome.new_receipts == 0 and outcome.error == ""
    assert send.receipts.count() == 2 and send.state == PecState.DELIVERED
    with pytest.raises(Exception, match="protected"):
        send.delete()


def test_no_receipt_yet_is_pending_not_an_error(pec_live) -> None:
    send = PecSend.objects.create(
        mailbox=mailbox(), recipients=["a@pec.example.it"], subject="Atto",
        body_html="x", status=DispatchStatus.SENT, provider_code="999999",
        sent_at=T0,
    )  # fmt: skip
    outcome = services.send_refresh(send=send)
    assert outcome.error == "" and outcome.state == PecState.SUBMITTED


def test_refresh_errors_in_plain_words_and_backoff(pec_live, settings) -> None:
    box = mailbox(password="wrong")
    send = PecSend.objects.create(
        mailbox=box, recipients=["a@pec.example.it"], subject="Atto", body_html="x",
        status=DispatchStatus.SENT, provider_code="1", sent_at=datetime.now(UTC),
    )  # fmt: skip
    outcome = services.send_refresh(send=send)
    assert "token" in outcome.error and "mailbox" in outcome.error
    send.refresh_from_db()
    first_delay = send.next_check_at - datetime.now(UTC)
    services.send_refresh(send=send)
    send.refresh_from_db()
    assert send.next_check_at - datetime.now(UTC) > first_delay  # backs off


def test_reads_retry_a_500_then_succeed(pec_live) -> None:
    pec_live.set_faults(
        [{"fault": "http_500", "provider": "pec", "path": "/send/", "count": 2}]
    )
    send = PecSend.objects.create(
        mailbox=mailbox(), recipients=["a@pec.example.it"], subject="Atto",
        body_html="x", status=DispatchStatus.SENT, provider_code="1",
    )  # fmt: skip
    assert services.send_refresh(send=send).error == ""
    statuses = [r["status"] for r in pec_live.requests("pec", "/send/")]
    assert statuses == [500, 500, 404]


def test_a_persistent_500_is_reported_in_plain_words(pec_live) -> None:
    pec_live.set_faults([{"fault": "http_500", "provider": "pec", "path": "/send/"}])
    send = PecSend.objects.create(
        mailbox=mailbox(), recipients=["a@pec.example.it"], subject="Atto",
        body_html="x", status=DispatchStatus.SENT, provider_code="1",
    )  # fmt: skip
    assert "internal error" in services.send_refresh(send=send).error


def test_periodic_task_and_command_refresh_due_sends(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    PecSend.objects.filter(pk=send.pk).update(next_check_at=T0)
    from pec.tasks import refresh_pec_receipts

    assert refresh_pec_receipts() == 1
    assert PecReceipt.objects.filter(send=send).count() == 1
    PecSend.objects.filter(pk=send.pk).update(next_check_at=T0)
    pec_live.advance(pec_live.settle_seconds + 1)
    call_command("pec_refresh")
    send.refresh_from_db()
    assert send.state == PecState.DELIVERED


def test_refresh_schedule_is_declared() -> None:
    from partnerhub.schedules import PERIODIC_TASKS

    assert "pec.tasks.refresh_pec_receipts" in {t.func for t in PERIODIC_TASKS}


def test_non_acceptance_for_virus_is_final_and_emailed(
    pec_live, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    alice = UserFactory(username="alice", email="alice@example.fr")
    infected = SimpleUploadedFile("eicar.txt", b"X5O!P%@AP EICAR test", "text/plain")
    send = draft(mailbox(operators=[alice]), files=[infected], user=alice)
    send = confirm_and_send(send, django_capture_on_commit_callbacks)
    assert send.state == PecState.NOT_ACCEPTED and send.next_check_at is None
    assert send.receipts.get().kind == ReceiptKind.NON_ACCEPTANCE
    [email] = mailoutbox
    assert email.subject.startswith("[PartnerHub] PEC not accepted")
    assert "/pec/sends/" in email.body and "VIRUS" in email.body


def test_twelve_hour_warning_is_emailed_to_the_mailbox_operators(mailoutbox) -> None:
    from pec.notify import notify_alarming

    bob = UserFactory(username="bob", email="bob@example.fr")
    send = PecSend.objects.create(
        mailbox=mailbox(operators=[bob]), recipients=TWO, subject="Atto",
        body_html="x", status=DispatchStatus.SENT, provider_code="1",
    )  # fmt: skip
    rows = receipts.store_new(
        send,
        [wire(ReceiptType.ACCEPTANCE, 0), wire(ReceiptType.DELIVERY_TIMEOUT, 720)],
    )
    alarming = [r for r in rows if r.kind in receipts.ALERT_KINDS]
    assert notify_alarming(send, alarming) == 1
    assert mailoutbox[0].to == ["bob@example.fr"]
    assert "maximum time exceeded" in mailoutbox[0].subject


def test_pec_refresh_all_checks_every_open_send(
    pec_live, django_capture_on_commit_callbacks, capsys
) -> None:
    send = confirm_and_send(draft(mailbox()), django_capture_on_commit_callbacks)
    pec_live.advance(pec_live.settle_seconds + 1)
    call_command("pec_refresh", "--all")
    assert f"#{send.pk} {send.provider_code}: delivered" in capsys.readouterr().out


def test_demo_seed_gives_the_pec_login_a_mailbox_with_sends_in_several_states():
    from partnerhub.demo_data import ensure_demo_logins
    from pec import demo

    ensure_demo_logins()
    demo.seed()
    demo.seed()  # idempotent
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="pec")
    [box] = user.pec_mailboxes.all()
    states = {(s.status, s.state) for s in box.sends.all()}
    assert states == {
        ("sent", "delivered"),
        ("sent", "partially_delivered"),
        ("sent", "accepted"),
        ("sent", "not_accepted"),
        ("unknown", "submitted"),
    }
    warned = box.sends.get(subject="Notifica atto di precetto")
    assert warned.receipts.filter(kind="preavviso-errore-consegna").exists()
    assert box.sends.filter(next_check_at__isnull=False).count() == 0
    assert all(s.created_at == s.confirmed_at for s in box.sends.all())


HOUR = 3600


def test_a_never_delivered_recipient_is_delayed_at_12_h_then_not_delivered_at_24_h(
    pec_live, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    alice = UserFactory(username="alice", email="alice@example.fr")
    address = "never@pec.example.it"  # the sandbox never delivers to it
    send = draft(mailbox(operators=[alice]), recipients=[address], user=alice)
    send = confirm_and_send(send, django_capture_on_commit_callbacks)
    assert send.state == PecState.ACCEPTED

    pec_live.advance(13 * HOUR)
    with django_capture_on_commit_callbacks(execute=True):
        warned = services.send_refresh(send=send)
    send.refresh_from_db()
    assert (warned.new_receipts, warned.state) == (1, PecState.ACCEPTED)
    assert not send.is_final and send.next_check_at is not None  # still polled
    assert receipts.recipient_states(send) == [(address, "delayed")]
    warning = send.receipts.get(kind=ReceiptKind.DELIVERY_TIMEOUT)
    assert warning.recipient == address and "12 ore" in warning.text
    assert receipts.final_notice_ids(send) == set()
    assert send.not_delivered_to == []
    [email] = mailoutbox
    assert "delivery delayed" in email.subject

    pec_live.advance(11 * HOUR)  # 24 h after the send
    with django_capture_on_commit_callbacks(execute=True):
        final = services.send_refresh(send=send)
    send.refresh_from_db()
    assert (final.new_receipts, final.state) == (1, PecState.NOT_DELIVERED)
    assert send.is_final and send.next_check_at is None  # polling stops
    assert send.not_delivered_to == [address] and send.delivered_to == []
    assert receipts.recipient_states(send) == [(address, "not_delivered")]
    notices = list(send.receipts.filter(kind=ReceiptKind.DELIVERY_TIMEOUT))
    assert [n.subject for n in notices] == [warning.subject] * 2  # one subject
    assert receipts.final_notice_ids(send) == {notices[1].pk}
    assert "24 ore" in notices[1].text
    assert [m.subject.split(":")[0] for m in mailoutbox] == [
        "[PartnerHub] PEC delivery delayed",
        "[PartnerHub] PEC not delivered",
    ]


def test_a_slow_recipient_is_delayed_then_delivered(
    pec_live, django_capture_on_commit_callbacks
) -> None:
    address = "slow@pec.example.it"  # delivered after the 12 h warning
    send = confirm_and_send(
        draft(mailbox(), recipients=[address]), django_capture_on_commit_callbacks
    )

    pec_live.advance(13 * HOUR)
    services.send_refresh(send=send)
    send.refresh_from_db()
    delayed = receipts.recipient_states(send)
    pec_live.advance(6 * HOUR)
    services.send_refresh(send=send)
    send.refresh_from_db()

    assert delayed == [(address, "delayed")]
    assert send.state == PecState.DELIVERED and send.delivered_to == [address]
    assert receipts.recipient_states(send) == [(address, "delivered")]
    kinds = list(send.receipts.values_list("kind", flat=True))
    assert kinds == ["accettazione", "preavviso-errore-consegna", "avvenuta-consegna"]


def timeout(hours: float | None, text: str, about: str | None = None) -> WireReceipt:
    at = None if hours is None else T0 + timedelta(hours=hours)
    subject = "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO: Atto 1"
    return WireReceipt(
        ReceiptType.DELIVERY_TIMEOUT, subject, at, "", "posta-certificata@x", "",
        text, about,
    )  # fmt: skip


def test_a_notice_naming_no_recipient_is_about_the_only_recipient() -> None:
    send = PecSend.objects.create(
        mailbox=mailbox(), recipients=["Solo@pec.example.it"], subject="Atto",
        body_html="x", status=DispatchStatus.SENT, provider_code="1",
    )  # fmt: skip
    receipts.store_new(
        send, [wire(ReceiptType.ACCEPTANCE, 0), timeout(12, "Ritardo nella consegna.")]
    )
    receipts.apply_state(send)
    assert receipts.recipient_states(send) == [("Solo@pec.example.it", "delayed")]
    receipts.store_new(send, [timeout(23, "Mancata consegna.")])
    receipts.apply_state(send)
    assert send.state == PecState.NOT_DELIVERED
    assert send.not_delivered_to == ["solo@pec.example.it"]
    assert receipts.recipient_states(send)[0][1] == "not_delivered"


def test_the_final_notice_is_told_from_the_warning_without_dates() -> None:
    """Undated receipts (an unreadable `data`): the body decides, then the order."""
    send = PecSend.objects.create(
        mailbox=mailbox(), recipients=TWO, subject="Atto", body_html="x",
        status=DispatchStatus.SENT, provider_code="1",
    )  # fmt: skip
    rows = receipts.store_new(
        send,
        [
            wire(ReceiptType.ACCEPTANCE, 0),
            timeout(None, "preavviso: nessuna consegna entro 12 ore", TWO[0]),
            timeout(None, "nessuna consegna entro 24 ore: avviso definitivo", TWO[1]),
        ],
    )
    receipts.apply_state(send)
    assert receipts.final_notice_ids(send) == {rows[2].pk}
    assert dict(receipts.recipient_states(send)) == {
        TWO[0]: "delayed",
        TWO[1]: "not_delivered",
    }
    # a notice worded neither way: the second one about a recipient is the final
    [again] = receipts.store_new(send, [timeout(None, "Mancata consegna.", TWO[0])])
    receipts.apply_state(send)
    assert receipts.final_notice_ids(send) == {rows[2].pk, again.pk}
    assert send.state == PecState.NOT_DELIVERED
