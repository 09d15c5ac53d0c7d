"""The messages a fresh sandbox mailbox already holds, so the inbox is never empty.

Dates are relative to the sandbox clock at reset, so the demo always looks recent.
"""

from __future__ import annotations

from .mailbox import Mailbox

HOUR = 3600.0
DAY = 24 * HOUR

# (age in seconds, sender, subject, HTML body), per mailbox address.
SEED_MESSAGES: dict[str, list[tuple[float, str, str, str]]] = {
    "demo@pecmassiva.com": [
        (
            9 * DAY,
            "Per conto di: amministrazione@pec.studiobianchi.it",
            "POSTA CERTIFICATA: Convocazione assemblea ordinaria - "
            "Condominio Via Garibaldi 12",
            "<p>Gentili condòmini,</p><p>l'assemblea ordinaria è convocata per "
            "giovedì 18 alle ore 18:30 presso lo studio.</p><p>Ordine del giorno: "
            "approvazione del rendiconto e nomina dell'amministratore.</p>",
        ),
        (
            7 * DAY,
            "Per conto di: fatturazione@pec.ferramentarossi.it",
            "POSTA CERTIFICATA: Fattura n. 2024/0187 - Ferramenta Rossi S.r.l.",
            "<p>Si trasmette in allegato la fattura n. 2024/0187 relativa alla "
            "fornitura del mese di marzo.</p><p>Cordiali saluti,<br>Ufficio "
            "amministrazione</p>",
        ),
        (
            5 * DAY,
            "Per conto di: m.verdi@gmail.com",
            "ANOMALIA MESSAGGIO: Richiesta preventivo fornitura cancelleria",
            "<p>Buongiorno, vorrei ricevere un preventivo per 20 risme di carta A4 "
            "e 10 confezioni di penne. Grazie, Marco Verdi</p>",
        ),
        (
            3 * DAY,
            "Per conto di: giulia.conti@milano.pecavvocati.it",
            "POSTA CERTIFICATA: Notifica ai sensi della Legge 53/1994 - "
            "Avv. Giulia Conti",
            "<p>Notificazione ai sensi della legge n. 53 del 1994.</p><p>Si "
            "notifica l'atto di citazione allegato, con relata di notifica "
            "sottoscritta digitalmente.</p>",
        ),
        (
            1 * DAY,
            "Per conto di: protocollo@pec.comune.esempio.it",
            "POSTA CERTIFICATA: Comunicazione avvio procedimento prot. 4471/2024",
            "<p>Con la presente si comunica l'avvio del procedimento relativo "
            "all'istanza da Voi presentata. Il responsabile è il dott. Russo.</p>",
        ),
        (
            2 * HOUR,
            "Per conto di: segreteria@pec.gruppoesposito.it",
            "POSTA CERTIFICATA: Conferma appuntamento sopralluogo",
            "<p>Confermiamo il sopralluogo di lunedì alle 9:00. Più tardi "
            "invieremo la documentazione tecnica.</p>",
        ),
    ],
    "ufficio@pecmassiva.com": [
        (
            6 * DAY,
            "Per conto di: segreteria@pec.gruppoesposito.it",
            "POSTA CERTIFICATA: Trasmissione verbale CdA del 14 marzo",
            "<p>In allegato il verbale del Consiglio di Amministrazione, già "
            "approvato dai consiglieri.</p>",
        ),
        (
            2 * DAY,
            "Per conto di: recupero.crediti@legalmail.it",
            "POSTA CERTIFICATA: Sollecito di pagamento - pratica n. 8812",
            "<p>Risulta ancora insoluta la fattura n. 311. Vi preghiamo di "
            "provvedere entro 15 giorni.</p>",
        ),
        (
            4 * HOUR,
            "Per conto di: luca.ferraro@libero.it",
            "ANOMALIA MESSAGGIO: Curriculum vitae - candidatura spontanea",
            "<p>Buongiorno, invio il mio curriculum per eventuali posizioni "
            "aperte. Cordialità, Luca Ferraro</p>",
        ),
    ],
}


def seed(mailbox: Mailbox, now: float) -> None:
    """Fill a fresh mailbox, oldest first so ids ascend with time.

    Senders are quoted with a trailing space, as the OAS example shows them.
    """
    for age, sender, subject, body in SEED_MESSAGES.get(mailbox.address, []):
        quoted = f'"{sender}" '
        mailbox.deliver(sender=quoted, date=now - age, subject=subject, body=body)
