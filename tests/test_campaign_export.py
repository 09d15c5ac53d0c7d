"""Deliveries CSV: the download, `manage.py export_deliveries` and the benchmark."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns import selectors
from campaigns.models import Delivery, DeliveryStatus, Recipient
from partnerhub.csvio.export import neutralize
from partnerhub.formatting import csv_number
from partnerhub.provider_messages import delivery_problem, status_label
from tests.test_campaign_pages import sent_campaign

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
BOM = "\ufeff"
# SHA-256 (first 16 hex digits) of the benchmark's 2,000-row CSV: its data is
# fixed, so both CI passes (SQLite, PostgreSQL) must find these very bytes.
# A deliberate change of the export's format changes it.
EXPORT_2000_SHA256 = "e2f75e8e06f52bcf"


@pytest.fixture
def campaign():
    campaign = sent_campaign(
        3, statuses=[DeliveryStatus.DELIVERED, DeliveryStatus.NOT_DELIVERED]
    )
    hostile = campaign.audience.recipients.order_by("pk").first()
    Recipient.objects.filter(pk=hostile.pk).update(first_name="=cmd|' /C calc'!A0")
    Delivery.objects.filter(campaign=campaign, status="not_delivered").update(
        error="+33 boîte pleine"
    )
    return campaign


def download(client, campaign, **query) -> tuple[object, str]:
    response = client.get(reverse("campaigns:export", args=[campaign.pk]), query)
    assert response.status_code == 200
    return response, b"".join(response.streaming_content).decode("utf-8")


def parse(text: str, delimiter: str = ";") -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def test_download_is_an_excel_friendly_csv(role_client, campaign) -> None:
    response, text = download(role_client("Marketing"), campaign)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="campaign-{campaign.pk}-deliveries-'
    )
    rows = parse(text)
    assert len(rows) == 4 and len(rows[0]) == 9
    first = rows[1]
    assert first[0] == "client0@example.fr"
    assert first[1] == "'=cmd|' /C calc'!A0"  # neutralised formula
    assert first[2] == "Martin0"
    assert first[4] == "Delivered"  # the provider's word, translated (English)
    assert first[5] == "0,0105"  # French Excel reads a decimal comma
    assert first[6] == "2026-07-14T10:30:00+02:00"  # Europe/Paris, ISO
    assert first[8] == "msg-1"
    assert rows[2][7] == "'+33 boîte pleine"


@pytest.mark.parametrize(
    ("name", "delimiter"), [("comma", ","), ("tab", "\t"), ("semicolon", ";")]
)
def test_download_delimiter_option(role_client, campaign, name, delimiter) -> None:
    _response, text = download(role_client("Marketing"), campaign, delimiter=name)
    assert all(len(row) == 9 for row in parse(text, delimiter))


def test_download_of_a_campaign_without_deliveries_has_only_the_header(
    role_client,
) -> None:
    empty = sent_campaign(0)
    _response, text = download(role_client("Marketing"), empty)
    assert len(parse(text)) == 1


def test_export_deliveries_command_writes_the_file(campaign, tmp_path) -> None:
    target = tmp_path / "out.csv"
    out = io.StringIO()
    call_command("export_deliveries", campaign.pk, str(target), stdout=out)
    assert "Wrote 3 rows" in out.getvalue()
    rows = parse(target.read_text(encoding="utf-8"))
    assert [row[0] for row in rows[1:]] == [f"client{i}@example.fr" for i in range(3)]
    assert not (tmp_path / "out.csv.part").exists()


def test_export_deliveries_command_with_tab_delimiter(campaign, tmp_path) -> None:
    target = tmp_path / "out.tsv"
    call_command(
        "export_deliveries", campaign.pk, str(target), delimiter="tab",
        stdout=io.StringIO(),
    )  # fmt: skip
    assert len(parse(target.read_text(encoding="utf-8"), "\t")[0]) == 9


def test_export_deliveries_command_rejects_an_unknown_campaign(tmp_path) -> None:
    with pytest.raises(CommandError, match="No campaign with id 999"):
        call_command("export_deliveries", 999, str(tmp_path / "x.csv"))
    assert not list(tmp_path.iterdir())


def test_export_deliveries_command_rejects_bad_options(campaign, tmp_path) -> None:
    with pytest.raises(CommandError, match="Unknown delimiter"):
        call_command("export_deliveries", campaign.pk, "x.csv", delimiter="|")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_deliveries", campaign.pk, str(tmp_path / "no" / "x.csv"))


@pytest.mark.django_db(transaction=True)
def test_the_export_reads_in_one_transaction_on_postgresql_only(campaign) -> None:
    """PostgreSQL: `.iterator()`'s cursor is then declared without hold (rows
    flow as fetched, no stored result first), JIT off; SQLite: autocommit, as a
    transaction there would hold the write lock for the whole download."""
    postgres = connection.vendor == "postgresql"
    rows = selectors.delivery_export_rows(campaign_id=campaign.pk)
    assert next(rows)[0] == "client0@example.fr"
    assert connection.in_atomic_block is postgres
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
    rows.close()  # a download cut short ends the transaction
    assert not connection.in_atomic_block


@contextlib.contextmanager
def bench_database_url() -> Iterator[str]:
    """A fresh database of the suite's own vendor for the benchmark to build in:
    "" (its own SQLite file under --dir), or a PostgreSQL database beside the
    test database, dropped after."""
    if connection.vendor != "postgresql":
        yield ""
        return
    import psycopg

    conf = connection.settings_dict
    password = f":{conf['PASSWORD']}" if conf["PASSWORD"] else ""
    port = f":{conf['PORT']}" if conf["PORT"] else ""
    server = f"postgres://{conf['USER']}{password}@{conf['HOST']}{port}"
    name = f"{conf['NAME']}_export_bench_{os.getpid()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_export_benchmark(tmp_path: Path, url: str) -> list[str]:
    """The benchmark's `export via …` lines on a 2,000-row build."""
    argv = ["--rows", "2000", "--dir", str(tmp_path)]
    argv += ["--database-url", url] if url else []
    result = subprocess.run(
        [sys.executable, "benchmarks/export_deliveries.py", *argv],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("export")]


@pytest.mark.slow
def test_benchmark_runs_on_a_tiny_database_of_the_suites_vendor(tmp_path) -> None:
    engine = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    with bench_database_url() as url:
        lines = run_export_benchmark(tmp_path, url)
        again = run_export_benchmark(tmp_path, url)  # the build is found, not redone
    assert len(lines) == len(again) == 2
    for line in lines + again:
        assert " 2000 rows" in line and "rows/s" in line and "peak RSS" in line
        assert f" {engine} " in line
    # the same data on every database gives the same bytes (view and command)
    digests = {line.rsplit("sha256 ", 1)[1] for line in lines + again}
    assert digests == {EXPORT_2000_SHA256}


def reference_rows(campaign) -> list[list[str]]:
    """The export's cells made the plain way: one ORM object per delivery, each
    cell formatted and neutralised by itself (what the fast export must equal)."""
    zone = timezone.get_default_timezone()
    labels = {status.value: str(status.label) for status in DeliveryStatus}
    rows = []
    for delivery in campaign.deliveries.select_related("recipient").order_by("pk"):
        recipient = delivery.recipient
        date = delivery.provider_date
        cells = (
            delivery.address,
            recipient.first_name if recipient else "",
            recipient.last_name if recipient else "",
            labels.get(delivery.status, delivery.status),
            status_label(delivery.provider_status),
            csv_number(delivery.cost, decimal_comma=True),
            date.astimezone(zone).isoformat() if date else "",
            delivery_problem(delivery.provider_status, delivery.error),
            delivery.provider_message_id,
        )
        rows.append([neutralize(cell) for cell in cells])
    return rows


def test_every_cell_equals_the_cell_formatted_alone(role_client, campaign) -> None:
    """Hostile text in every column, awkward characters (quoted cells), other
    dates (winter, microseconds, none), costs and a deleted recipient."""
    deliveries = list(campaign.deliveries.order_by("pk"))
    Delivery.objects.filter(pk=deliveries[0].pk).update(
        address="+33612345678",
        provider_status="=SUM(A1)",
        provider_message_id="@msg",
        provider_date=datetime(2026, 1, 5, 23, 59, 59, 999999, tzinfo=UTC),
        cost=Decimal("-1.5"),
    )
    Delivery.objects.filter(pk=deliveries[1].pk).update(
        provider_date=None, cost=None, provider_status="bounced", error=""
    )
    Delivery.objects.filter(pk=deliveries[2].pk).update(recipient=None, cost=2)
    Recipient.objects.filter(pk=deliveries[1].recipient_id).update(
        first_name='Jean "Jo"; né\nici', last_name="-Dupont\r"
    )
    _response, text = download(role_client("Marketing"), campaign)
    rows = parse(text)[1:]
    assert rows == reference_rows(campaign)
    assert rows[0][0] == "'+33612345678" and rows[0][4] == "'=SUM(A1)"
    assert rows[0][5] == "'-1,50" and rows[0][8] == "'@msg"
    assert rows[0][6] == "2026-01-06T00:59:59.999999+01:00"
    assert rows[1][1:3] == ['Jean "Jo"; né\nici', "'-Dupont\r"]
    assert rows[1][5] == rows[1][6] == "" and rows[1][7]  # the bounce explained
    assert rows[2][1:3] == ["", ""]


def test_a_plain_export_of_many_rows_equals_the_cells_formatted_alone(
    role_client,
) -> None:
    campaign = sent_campaign(
        2500, statuses=[DeliveryStatus.DELIVERED, DeliveryStatus.NOT_DELIVERED]
    )
    start = datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC)  # Paris: 01:59:59+01:00
    first = campaign.deliveries.order_by("pk")[:4].values_list("pk", flat=True)
    for i, pk in enumerate(first):
        moment = start + timedelta(microseconds=500_000 * i)
        Delivery.objects.filter(pk=pk).update(provider_date=moment)
    _response, text = download(role_client("Marketing"), campaign)
    rows = parse(text)[1:]
    assert len(rows) == 2500 and rows == reference_rows(campaign)
    assert rows[1][6] == "2026-03-29T01:59:59.500000+01:00"
    assert rows[2][6] == "2026-03-29T03:00:00+02:00"  # summer time from 01:00 UTC
