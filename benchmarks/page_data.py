"""The data behind the page benchmark, also used small by the query-count tests.

`build(scale)` adds to the current database (once per scale: it is found again by
name): a big audience of `recipients`, one sent campaign with a delivery per
recipient, `campaigns - 1` small campaigns on a 100-recipient audience (sent,
scheduled, drafts, and one scheduled on the big audience), and `unsubscribes`
e-mail addresses, one in ten of them in the big audience. Rows are written by
`INSERT ... SELECT` over a recursive counter, which SQLite and PostgreSQL both
run, so a million rows take seconds rather than the minutes of `bulk_create`.

`build_more(scale)` adds the other lists' rows (once per scale, found again by
the mailbox's name): `sends` PEC sends on one mailbox with an acceptance receipt
each (the first one with a full set of receipts), and `moves` credit moves shared
by `SUBACCOUNTS` sub-accounts of the main Mail account, one every 90 seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

SMALL_AUDIENCE = 100
SUBACCOUNTS = 100


@dataclass(frozen=True)
class Scale:
    campaigns: int = 100
    deliveries: int = 1_000_000  # = recipients of the big audience
    unsubscribes: int = 100_000
    sends: int = 1_000_000  # PEC sends (and their acceptance receipts)
    moves: int = 1_000_000  # credit moves

    @property
    def name(self) -> str:
        return f"Pages {self.campaigns}/{self.deliveries}/{self.unsubscribes}"


@dataclass(frozen=True)
class Built:
    big_campaign: int
    big_audience: int
    small_campaign: int
    small_audience: int


@dataclass(frozen=True)
class BuiltMore:
    send: int  # a send with a full set of receipts
    mailbox: int
    subaccount: int


def build(scale: Scale) -> Built:
    """The benchmark's rows (built only if this scale is not there yet)."""
    from campaigns.models import Audience, Campaign

    found = Audience.objects.filter(name=scale.name).first()
    if found is None:
        with transaction.atomic():
            _build(scale)
        _analyze()
        found = Audience.objects.get(name=scale.name)
    big = Campaign.objects.get(name=f"{scale.name} big")
    small = Campaign.objects.filter(name__startswith=f"{scale.name} sent").first()
    assert small is not None
    return Built(big.pk, found.pk, small.pk, small.audience_id)


def _build(scale: Scale) -> None:
    from campaigns import counters
    from campaigns.models import Audience, Campaign
    from partnerhub.models import ProviderAccount

    account, _ = ProviderAccount.objects.get_or_create(provider="mail", name="Main")
    big_audience = Audience.objects.create(name=scale.name)
    small_audience = Audience.objects.create(name=f"{scale.name} small")
    _recipients(big_audience.pk, scale.deliveries, f"{big_audience.pk}-")
    _recipients(small_audience.pk, SMALL_AUDIENCE, f"{small_audience.pk}-")
    now = timezone.now()
    common: dict[str, Any] = {
        "channel": "email",
        "account": account,
        "sender": "news@example.fr",
        "subject": "Les soldes",
        "html": "<p>Bonjour</p>",
    }
    big = Campaign.objects.create(
        name=f"{scale.name} big",
        audience=big_audience,
        status="sent",
        snapshot_done=True,
        scheduled_at=now - timedelta(days=1),
        dispatch_started_at=now - timedelta(days=1),
        dispatched_at=now - timedelta(hours=23),
        **common,
    )
    _deliveries(big.pk, big_audience.pk)
    others = _small_campaigns(scale, small_audience, big_audience, common)
    for campaign_id in [big.pk, *others]:
        counters.recount(campaign_id=campaign_id)
    _unsubscribes(scale.unsubscribes, big_audience.pk)


def _small_campaigns(
    scale: Scale, small: Any, big: Any, common: dict[str, Any]
) -> list[int]:
    """Sent campaigns with deliveries, plus 5 scheduled and 5 drafts (one of the
    scheduled ones on the big audience: its list row counts that audience)."""
    from campaigns.models import Campaign

    now = timezone.now()
    sent: list[int] = []
    for i in range(scale.campaigns - 1):
        kind = (
            "sent"
            if i < max(1, scale.campaigns - 11)
            else ("scheduled", "draft")[i % 2]
        )
        campaign = Campaign.objects.create(
            name=f"{scale.name} {kind} {i}",
            audience=big if i == scale.campaigns - 2 else small,
            status=kind,
            snapshot_done=kind == "sent",
            scheduled_at=now + timedelta(days=1) if kind == "scheduled" else None,
            dispatched_at=now - timedelta(days=i + 2) if kind == "sent" else None,
            **common,
        )
        if kind == "sent":
            _deliveries(campaign.pk, small.pk)
            sent.append(campaign.pk)
    return sent


COUNTER = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s)"


def _recipients(audience_id: int, count: int, tag: str) -> None:
    json_empty = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"
    _execute(
        f"""{COUNTER}
        INSERT INTO campaigns_recipient
            (audience_id, email, phone, first_name, last_name, attributes,
             created_at, updated_at)
        SELECT %s, 'client' || i || '@exemple-' || %s || (i %% 97) || '.fr', '',
               'Zoé', 'Martin' || i, {json_empty}, %s, %s
        FROM n""",  # noqa: S608 - constant SQL; values are bound
        [count, audience_id, tag, timezone.now(), timezone.now()],
    )


def _deliveries(campaign_id: int, audience_id: int) -> None:
    """One per recipient: 6 delivered, 2 not delivered, 1 accepted, 1 suppressed in
    every 10, as a settled campaign looks."""
    _execute(
        """INSERT INTO campaigns_delivery
            (campaign_id, recipient_id, address, status, provider_message_id,
             provider_status, cost, provider_date, error, updated_at)
        SELECT %s, id, email,
               CASE WHEN id %% 10 < 6 THEN 'delivered'
                    WHEN id %% 10 < 8 THEN 'not_delivered'
                    WHEN id %% 10 = 8 THEN 'accepted' ELSE 'suppressed' END,
               'msg-1', '', CASE WHEN id %% 10 = 9 THEN NULL ELSE 0.0105 END,
               %s, '', %s
        FROM campaigns_recipient WHERE audience_id = %s""",
        [campaign_id, timezone.now(), timezone.now(), audience_id],
    )


def _unsubscribes(count: int, audience_id: int) -> None:
    """E-mail unsubscribes, one recipient of the big audience in ten, newest first."""
    start = timezone.now()
    _execute(
        f"""{COUNTER}
        INSERT INTO unsubscribes_unsubscribe
            (channel, address, source, reason, provider_id, created_at,
             provider_error)
        SELECT 'email', 'client' || (i * 10) || '@exemple-' || %s
                        || ((i * 10) %% 97) || '.fr',
               'manual', '', '', %s, ''
        FROM n""",  # noqa: S608 - constant SQL; values are bound
        [count, f"{audience_id}-", start],
    )


def build_more(scale: Scale) -> BuiltMore:
    """PEC sends and receipts, credit moves (built only if not there yet)."""
    from partnerhub.models import ProviderAccount
    from pec.models import PecMailbox

    label = f"{scale.name}/{scale.sends}/{scale.moves}"
    mailbox = PecMailbox.objects.filter(label=label).first()
    if mailbox is None:
        with transaction.atomic():
            mailbox = PecMailbox.objects.create(
                label=label,
                username=f"bench-{PecMailbox.objects.count()}@pec.exemple.it",
                password="bench",  # noqa: S106 - a benchmark's fake mailbox
            )
            _sends(mailbox.pk, scale.sends)
            _moves(scale.moves, label)
        _analyze()
    # Its quota counts as just read: the mailbox page would ask PEC Massiva.
    PecMailbox.objects.filter(pk=mailbox.pk).update(quota_checked_at=timezone.now())
    first = mailbox.sends.order_by("pk").values_list("pk", flat=True).first()
    sub = ProviderAccount.objects.filter(name__startswith=f"{label} sub").first()
    assert first is not None and sub is not None
    return BuiltMore(first, mailbox.pk, sub.pk)


def _json(value: str) -> str:
    return f"CAST({value} AS jsonb)" if connection.vendor == "postgresql" else value


def _ago(unit_seconds: int) -> str:
    """SQL for the bound time minus `i * unit_seconds`, as each database writes it."""
    if connection.vendor == "postgresql":
        return f"%s - (i * INTERVAL '{unit_seconds} seconds')"
    shift = f"'-' || (i * {unit_seconds}) || ' seconds'"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, {shift})"


# One send in a thousand still awaiting its receipts, one not delivered, one in
# doubt: the home card counts them, and the databases' statistics see a mix.
MIXED_STATE = """CASE i %% 1000 WHEN 1 THEN 'accepted' WHEN 2 THEN 'not_delivered'
                 ELSE 'delivered' END"""
MIXED_STATUS = "CASE i %% 1000 WHEN 3 THEN 'unknown' ELSE 'sent' END"
ONE_ADDRESS = """'["ufficio' || i || '@pec.exemple.it"]'"""


def _sends(mailbox_id: int, count: int) -> None:
    """Accepted and delivered sends, one a minute back from now, each with its
    acceptance receipt; the oldest also has its delivery receipt."""
    now = timezone.now()
    at = _ago(60)
    address, empty = _json(ONE_ADDRESS), _json("'[]'")
    _execute(
        f"""{COUNTER}
        INSERT INTO pec_pecsend
            (mailbox_id, recipients, subject, body_html, status, state,
             provider_code, error_code, error, error_detail, delivered_to,
             not_delivered_to, created_at, sent_at, accepted_at, checks)
        SELECT %s, {address}, 'Diffida ' || i, '<p>Gentile cliente</p>',
               {MIXED_STATUS}, {MIXED_STATE}, 'PM' || i, '', '', '', {address}, {empty},
               {at}, {at}, {at}, 1
        FROM n""",  # noqa: S608 - constant SQL; values are bound
        [count, mailbox_id, now, now, now],
    )
    _execute(
        """INSERT INTO pec_pecreceipt
            (send_id, kind, subject, date_raw, issuer, recipient, text,
             fingerprint, fetched_at, date)
        SELECT id, 'accettazione', 'ACCETTAZIONE: ' || subject, '', 'pec.exemple.it',
               '', '', 'acc-' || id, created_at, created_at
        FROM pec_pecsend WHERE mailbox_id = %s""",
        [mailbox_id],
    )
    _execute(
        """INSERT INTO pec_pecreceipt
            (send_id, kind, subject, date_raw, issuer, recipient, text,
             fingerprint, fetched_at, date)
        SELECT id, 'avvenuta-consegna', 'CONSEGNA: ' || subject, '',
               'pec.exemple.it', 'ufficio1@pec.exemple.it', '', 'con-' || id,
               created_at, created_at
        FROM pec_pecsend WHERE mailbox_id = %s ORDER BY id LIMIT 1""",
        [mailbox_id],
    )


def _moves(count: int, label: str) -> None:
    """Credit added to `SUBACCOUNTS` sub-accounts of the Mail main account, in
    turn, one every 90 seconds back from now."""
    from partnerhub.models import ProviderAccount

    main, _ = ProviderAccount.objects.get_or_create(provider="mail", name="Main")
    subs = [
        ProviderAccount.objects.create(
            provider="mail",
            name=f"{label} sub {i}",
            parent=main,
            credits_unit="EUR",
            subaccount_type="standard",
        ).pk
        for i in range(SUBACCOUNTS)
    ]
    now = timezone.now()
    at = _ago(90)
    _execute(
        f"""{COUNTER}
        INSERT INTO partnerhub_creditmove
            (account_id, kind, amount, unit, created_at, provider_answer,
             subaccount_balance)
        SELECT %s + (i %% %s), 'add', 10, 'EUR', {at}, 'OK', i %% 1000
        FROM n""",  # noqa: S608 - constant SQL; values are bound
        [count, min(subs), SUBACCOUNTS, now],
    )
    assert max(subs) - min(subs) == SUBACCOUNTS - 1  # ids in one run


def _execute(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _analyze() -> None:
    """Fresh statistics, as a production database has them."""
    if connection.in_atomic_block:  # a test's transaction: nothing to plan for
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE"
        )
