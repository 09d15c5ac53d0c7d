"""Suppression list services and selectors: normalisation, idempotence, CSV, scale."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from partnerhub import search
from partnerhub.csvio import CsvError
from unsubscribes import selectors, services
from unsubscribes.models import Source, Unsubscribe

pytestmark = pytest.mark.django_db


def csv(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def test_add_normalises_and_is_idempotent():
    first = services.unsubscribe_add(channel="email", address="  Jean@Example.FR ")
    again = services.unsubscribe_add(channel="email", address="jean@example.fr")
    assert first.created and not again.created
    assert first.unsubscribe.address == "jean@example.fr"
    phone = services.unsubscribe_add(channel="sms", address="06 12 34 56 78")
    assert phone.unsubscribe.address == "+33612345678"
    assert Unsubscribe.objects.count() == 2


@pytest.mark.parametrize(
    ("channel", "address", "message"),
    [
        ("email", "not-an-email", services.INVALID_EMAIL),
        ("sms", "12", services.INVALID_PHONE),
        ("sms", "jean@example.fr", services.INVALID_PHONE),
        ("fax", "0612345678", services.UNKNOWN_CHANNEL),
    ],
)
def test_add_refuses_unusable_addresses(channel, address, message):
    with pytest.raises(ValidationError) as caught:
        services.unsubscribe_add(channel=channel, address=address)
    assert caught.value.messages == [str(message)]
    assert not Unsubscribe.objects.exists()


def test_remove_stops_suppressing_and_adding_again_undoes_it():
    row = services.unsubscribe_add(channel="email", address="a@example.fr").unsubscribe
    services.unsubscribe_remove(unsubscribe=row)
    assert not selectors.is_unsubscribed(channel="email", address="a@example.fr")
    again = services.unsubscribe_add(channel="email", address="a@example.fr")
    assert again.unsubscribe.pk == row.pk and again.unsubscribe.removed_at is None
    assert selectors.is_unsubscribed(channel="email", address="a@example.fr")


def test_selector_checks_100000_addresses_in_one_query(django_assert_num_queries):
    Unsubscribe.objects.bulk_create(
        Unsubscribe(channel="email", address=f"u{n}@example.fr")
        for n in range(0, 100_000, 97)
    )
    Unsubscribe.objects.filter(address="u0@example.fr").update(
        removed_at=timezone.now()
    )
    wanted = [f"u{n}@example.fr" for n in range(100_000)]
    with django_assert_num_queries(1):
        found = selectors.unsubscribed_addresses(channel="email", addresses=wanted)
    assert len(found) == len(range(0, 100_000, 97)) - 1
    assert "u0@example.fr" not in found and "u97@example.fr" in found
    assert selectors.unsubscribed_addresses(channel="sms", addresses=wanted) == set()


def test_import_csv_counts_added_already_duplicates_and_invalid_lines():
    services.unsubscribe_add(channel="email", address="old@example.fr")
    data = (
        "\ufeffCourriel;Nom\n"
        "new@example.fr;A\n"
        "OLD@example.fr;B\n"
        "new@example.fr;C\n"
        "broken;D\n"
        ";E\n"
        "other@example.fr;F\n"
    )
    result = services.unsubscribes_import_csv(
        channel="email", file=csv(data), reason="salon"
    )
    assert (result.added, result.already, result.duplicates) == (2, 1, 1)
    assert sorted(e.line for e in result.invalid) == [5, 6]
    row = Unsubscribe.objects.get(address="new@example.fr")
    assert (row.source, row.reason) == (Source.CSV, "salon")


def test_import_reads_windows_1252_phones_and_revives_pending_removals():
    row = services.unsubscribe_add(channel="sms", address="0611111111").unsubscribe
    services.unsubscribe_remove(unsubscribe=row)
    data = "Téléphone,Prénom\n06 11 11 11 11,Zoé\n+33 6 22 22 22 22,Loïc\n"
    result = services.unsubscribes_import_csv(channel="sms", file=csv(data, "cp1252"))
    assert (result.added, result.already, len(result.invalid)) == (2, 0, 0)
    assert set(Unsubscribe.objects.active().values_list("address", flat=True)) == {
        "+33611111111",
        "+33622222222",
    }


def test_import_reads_our_own_export_address_column():
    data = "channel;address;source\nemail;x@example.fr;manual\n"
    result = services.unsubscribes_import_csv(channel="email", file=csv(data))
    assert result.added == 1


@pytest.mark.parametrize(
    "data", ["", "x@example.fr\ny@example.fr\n", "nom;ville\nA;Paris\n"]
)
def test_import_refuses_unreadable_files_whole(data):
    with pytest.raises(CsvError):
        services.unsubscribes_import_csv(channel="email", file=csv(data))
    assert not Unsubscribe.objects.exists()


def test_list_filters_and_counts():
    services.unsubscribe_add(channel="email", address="a@example.fr", reason="salon")
    services.unsubscribe_add(channel="sms", address="0611111111", source=Source.REPLY)
    gone = services.unsubscribe_add(channel="email", address="b@example.fr")
    services.unsubscribe_remove(unsubscribe=gone.unsubscribe)

    def addresses(**filters):
        rows = selectors.unsubscribes_filtered(**filters)
        return sorted(rows.values_list("address", flat=True))

    assert addresses(channel="sms") == ["+33611111111"]
    assert addresses(source="reply") == ["+33611111111"]
    # The reason is searched where a trigram index serves it (PostgreSQL);
    # SQLite finds addresses by their beginning.
    assert addresses(search="salon") == (["a@example.fr"] if search.anywhere() else [])
    assert addresses(search="A@EXA") == ["a@example.fr"]
    assert addresses(search="06 11 11 11 11") == ["+33611111111"]
    assert addresses(state="removal_pending") == ["b@example.fr"]
    assert addresses(state="active") == ["+33611111111", "a@example.fr"]
    today = timezone.localdate()
    assert len(addresses(since=today, until=today)) == 3
    assert addresses(until=today - timedelta(days=1)) == []
    assert selectors.list_counts() == {"email": 1, "sms": 1, "removing": 1}


def test_one_definition_of_state_for_the_row_the_filter_and_the_admin():
    """The state was written three ways (admin column, list badge, CSV/filter)."""
    from django.utils import timezone as tz

    from unsubscribes.admin import UnsubscribeAdmin
    from unsubscribes.models import STATE_QUERIES, UnsubscribeState

    rows = {
        UnsubscribeState.UNSYNCED: Unsubscribe.objects.create(
            channel="email", address="new@example.fr"
        ),
        UnsubscribeState.SYNCED: Unsubscribe.objects.create(
            channel="email", address="synced@example.fr", provider_id="12"
        ),
        UnsubscribeState.REFUSED: Unsubscribe.objects.create(
            channel="email", address="refused@example.fr", provider_error="code 9"
        ),
        UnsubscribeState.REMOVING: Unsubscribe.objects.create(
            channel="email",
            address="gone@example.fr",
            provider_id="13",
            provider_error="code 9",
            removed_at=tz.now(),
        ),
    }
    admin_column = UnsubscribeAdmin(Unsubscribe, None).state
    for state, row in rows.items():
        assert row.state == state
        assert admin_column(row) == row.state_label == str(state.label)
        filtered = selectors.unsubscribes_filtered(state=state.value)
        assert list(filtered) == [row]
        assert list(Unsubscribe.objects.filter(STATE_QUERIES[state])) == [row]


def test_add_many_does_what_add_does_for_each_address_in_a_few_statements(
    django_assert_max_num_queries,
):
    """The provider signals of a refresh: new, already there, pending removal, bad."""
    from partnerhub.audit import AuditEntry

    services.unsubscribe_add(channel="email", address="deja@example.fr", reason="old")
    removed = services.unsubscribe_add(channel="email", address="retour@example.fr")
    services.unsubscribe_remove(unsubscribe=removed.unsubscribe)
    entries = AuditEntry.objects.count()
    fresh = {f"bounce{i}@example.fr": "Hard bounce" for i in range(300)}
    reasons = {
        **fresh,
        "Deja@Example.fr": "new reason",
        "retour@example.fr": "STOP",
        "not-an-email": "Hard bounce",
    }
    with django_assert_max_num_queries(20):
        added = services.unsubscribes_add_many(
            channel="email", reasons=reasons, source=Source.PROVIDER
        )
    assert added == 300
    rows = Unsubscribe.objects.filter(address__in=fresh)
    assert {(r.source, r.reason) for r in rows} == {("provider", "Hard bounce")}
    assert rows.count() == 300
    assert Unsubscribe.objects.get(address="deja@example.fr").reason == "old"
    revived = Unsubscribe.objects.get(address="retour@example.fr")
    assert revived.removed_at is None and revived.reason == "STOP"
    assert not Unsubscribe.objects.filter(address="not-an-email").exists()
    # One audit entry per address now suppressed (300 new, 1 revived), as one by one.
    assert AuditEntry.objects.count() - entries == 301
    assert selectors.is_unsubscribed(channel="email", address="bounce7@example.fr")
