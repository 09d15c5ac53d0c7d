"""Demo data for `manage.py demo`: a mailbox granted to the `pec` login, with sends
already in different states so the PEC role is alive on first login.

The credentials are the sandbox's published demo mailboxes (written out here: no
product module imports the sandbox). Receipts of the demo sends are written as the
provider words them; those sends are settled, so nothing polls for them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import DispatchStatus, PecMailbox, PecReceipt, PecSend, ReceiptKind
from .receipts import apply_state

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEMO_BOXES = (
    ("Studio — PEC principale", "demo@pecmassiva.com", "demo-password", True),
    ("Ufficio legale", "ufficio@pecmassiva.com", "ufficio-password", False),
)
ISSUER = "posta-certificata@pecmassiva.com"


@transaction.atomic
def seed() -> None:
    user = get_user_model().objects.filter(username="pec").first()
    for label, address, password, granted in DEMO_BOXES:
        box, created = PecMailbox.objects.get_or_create(
            username=address, defaults={"label": label, "password": password}
        )
        if granted and user is not None:
            box.operators.add(user)
        if created and granted:
            _demo_sends(box, user)


def _stamp(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y alle ore %H:%M:%S")


def _receipt(
    send: PecSend, kind: str, prefix: str, at: datetime, text: str, about: str = ""
) -> None:
    subject = f"{prefix}: {send.subject} {send.provider_code}"
    PecReceipt.objects.create(
        send=send,
        kind=kind,
        subject=subject,
        date=at,
        date_raw=at.strftime("%a, %d %b %Y %H:%M:%S %z"),
        issuer=ISSUER,
        recipient=about,
        text=text,
        fingerprint=hashlib.sha256(f"{subject}{at}{about}".encode()).hexdigest(),
    )


def _send(box: PecMailbox, user: User | None, subject: str, to: list[str],
          ago: timedelta, code: str,
          status: str = DispatchStatus.SENT) -> PecSend:  # fmt: skip
    at = timezone.now() - ago
    send = PecSend.objects.create(
        mailbox=box,
        recipients=to,
        subject=subject,
        body_html=f"<p>Gentili,</p><p>{subject}.</p><p>Cordiali saluti,<br>Studio</p>",
        status=status,
        provider_code=code if status == DispatchStatus.SENT else "",
        sent_count=len(to) if status == DispatchStatus.SENT else None,
        created_by=user,
        confirmed_at=at,
        submitted_at=at,
        sent_at=at if status == DispatchStatus.SENT else None,
    )
    PecSend.objects.filter(pk=send.pk).update(created_at=at)
    send.created_at = at  # later saves write the in-memory value back
    return send


def _accept(send: PecSend) -> datetime:
    at = send.sent_at or timezone.now()
    text = (
        f"Ricevuta di accettazione\n\nIl giorno {_stamp(at)} il messaggio\n"
        f'"{send.subject}" proveniente da "{send.mailbox.username}"\n'
        f"ed indirizzato a:\n"
        + "\n".join(send.recipients)
        + "\nè stato accettato dal sistema ed inoltrato."
    )
    _receipt(send, ReceiptKind.ACCEPTANCE, "ACCETTAZIONE", at, text)
    return at


def _outcome(send: PecSend, to: str, at: datetime, delivered: bool) -> None:
    if delivered:
        text = (
            f"Ricevuta di avvenuta consegna\n\nIl giorno {_stamp(at)} il messaggio "
            f'"{send.subject}" proveniente da\n"{send.mailbox.username}" ed '
            f'indirizzato a "{to}"\nè stato consegnato nella casella di destinazione.'
        )
        _receipt(send, ReceiptKind.DELIVERY, "CONSEGNA", at, text, to)
        return
    text = (
        f"Avviso di mancata consegna\n\nIl giorno {_stamp(at)} nel messaggio "
        f'"{send.subject}" proveniente da\n"{send.mailbox.username}" ed indirizzato '
        f'a "{to}"\nè stato rilevato un problema che ne impedisce la consegna.\n'
        "Errore: 5.1.1 - utente non valido."
    )
    _receipt(send, ReceiptKind.NON_DELIVERY, "AVVISO DI MANCATA CONSEGNA", at, text, to)


def _settle(send: PecSend) -> None:
    apply_state(send)
    send.checked_at = timezone.now()
    send.next_check_at = None
    send.save()


def _demo_sends(box: PecMailbox, user: User | None) -> None:
    day = timedelta(days=1)
    rossi = ["amministrazione@pec.ferramentarossi.it", "legale@pec.ferramentarossi.it"]
    one = _send(box, user, "Diffida ad adempiere - contratto n. 118/2024", rossi,
                3 * day, "202611291015221")  # fmt: skip
    at = _accept(one)
    for address in one.recipients:
        _outcome(one, address, at + timedelta(minutes=2), delivered=True)
    _settle(one)

    two = _send(box, user, "Comunicazione variazione sede legale",
                ["protocollo@pec.comune.esempio.it", "info@studioverdi.it"],
                day, "202612010930452")  # fmt: skip
    at = _accept(two)
    _outcome(two, two.recipients[0], at + timedelta(minutes=3), delivered=True)
    _outcome(two, two.recipients[1], at + timedelta(minutes=4), delivered=False)
    _settle(two)

    three = _send(box, user, "Trasmissione fattura n. 2024/311",
                  ["fatture@pec.gruppoesposito.it"], timedelta(hours=3),
                  "202612020714383")  # fmt: skip
    _accept(three)
    _settle(three)

    court = ["cancelleria@pec.tribunale.example.it"]
    late = _send(box, user, "Notifica atto di precetto", court,
                 timedelta(hours=13), "202612011305104")  # fmt: skip
    at = _accept(late)
    warning = (
        f"Avviso di mancata consegna per superamento dei tempi massimi previsti\n\n"
        f"Il giorno {_stamp(at + timedelta(hours=12))} nel messaggio "
        f'"{late.subject}" proveniente da\n"{box.username}" ed indirizzato a\n'
        f'"{late.recipients[0]}" non è pervenuta entro 12 ore la ricevuta di '
        "consegna.\nLa consegna potrebbe ancora avvenire entro 24 ore."
    )
    _receipt(late, ReceiptKind.DELIVERY_TIMEOUT,
             "AVVISO DI MANCATA CONSEGNA PER SUP. TEMPO MASSIMO",
             at + timedelta(hours=12), warning, late.recipients[0])  # fmt: skip
    _settle(late)

    virus = _send(box, user, "Invio documentazione tecnica", ["tecnico@pec.esempio.it"],
                  timedelta(hours=30), "202611301005125")  # fmt: skip
    assert virus.sent_at is not None  # _send stamps sent_at on a SENT send
    text = (
        f"Avviso di non accettazione per virus\n\nIl giorno {_stamp(virus.sent_at)} "
        f'nel messaggio\n"{virus.subject}" è stato rilevato un virus: il messaggio '
        "non è stato accettato."
    )
    _receipt(virus, ReceiptKind.NON_ACCEPTANCE, "AVVISO DI NON ACCETTAZIONE PER VIRUS",
             virus.sent_at, text)  # fmt: skip
    _settle(virus)

    four = _send(box, user, "Sollecito di pagamento - pratica 8812",
                 ["recupero@pec.esempio.it"], timedelta(minutes=40), "",
                 status=DispatchStatus.UNKNOWN)  # fmt: skip
    four.error_code = "unknown_outcome"
    four.error = "the request was sent but no answer came back: connection reset"
    four.error_detail = four.error
    four.save(update_fields=["error_code", "error", "error_detail"])
