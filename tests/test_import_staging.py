"""The import's staging of new rows: the database path of each engine, and rows
that became duplicates while the file was parsed."""

from __future__ import annotations

import pytest
from django.db import connection

from campaigns.audiences import services, staging
from campaigns.models import Audience, ImportStatus, Recipient
from tests.import_helpers import make_csv, run_import
from unsubscribes.models import Unsubscribe

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"
    return settings.RECIPIENT_IMPORT_DIR


@pytest.fixture
def audience() -> Audience:
    return Audience.objects.create(name="Clients")


def file_of(count: int) -> bytes:
    rows = [["email", "phone", "first_name"]]
    rows += [[f"p{i}@x.fr", f"+3361234{i:04d}", "P"] for i in range(count)]
    return make_csv(rows)


def test_new_rows_are_staged_and_inserted_in_one_statement(
    audience, monkeypatch
) -> None:
    staged: list[int] = []
    real = staging.Staging.add

    def spy(self, rows):
        staged.append(len(rows))
        real(self, rows)

    monkeypatch.setattr(staging.Staging, "add", spy)
    result = run_import(audience, file_of(12000))
    assert result.status == ImportStatus.DONE
    # All but the filter's few false positives (matched as possible duplicates).
    assert 11880 <= sum(staged) <= 12000 == result.created
    assert Recipient.objects.filter(audience=audience).count() == 12000


def test_recipient_added_while_parsing_is_joined_not_duplicated(
    audience, monkeypatch
) -> None:
    Unsubscribe.objects.create(channel="email", address="p5@x.fr")
    real = services._parse

    def parse_then_someone_adds(*args, **kwargs):
        real(*args, **kwargs)
        # Saved by someone else after the filter was primed, before the merge.
        Recipient.objects.create(audience=audience, email="p5@x.fr", first_name="Web")
        Recipient.objects.create(audience=audience, phone="+33612340007")

    monkeypatch.setattr(services, "_parse", parse_then_someone_adds)
    result = run_import(audience, file_of(10), mode="update")

    assert result.status == ImportStatus.DONE, result.error_message
    assert (result.created, result.updated, result.duplicates) == (8, 2, 0)
    assert result.unsubscribed == 1
    assert Recipient.objects.filter(audience=audience).count() == 10
    joined = Recipient.objects.get(audience=audience, email="p5@x.fr")
    assert (joined.first_name, joined.phone) == ("P", "+33612340005")
    assert Recipient.objects.get(phone="+33612340007").email == "p7@x.fr"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's path")
def test_sqlite_stages_in_an_attached_private_database(audience, monkeypatch) -> None:
    """Outside a transaction (as the task runs) a fresh file, detached after."""
    tables: list[str] = []
    real = staging.Staging.insert_into_audience

    def spy(self, audience_id, now):
        tables.append(self.table)
        return real(self, audience_id, now)

    monkeypatch.setattr(staging.Staging, "insert_into_audience", spy)
    result = run_import(audience, file_of(300))
    assert result.status == ImportStatus.DONE
    assert tables == ["import_staging.rows"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA database_list")
        assert "import_staging" not in {row[1] for row in cursor.fetchall()}
    assert Recipient.objects.filter(audience=audience).count() == 300


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's path")
def test_postgresql_loads_the_staging_table_with_copy(audience, monkeypatch) -> None:
    import psycopg

    statements: list[str] = []
    real = psycopg.Cursor.copy

    def spy(self, statement, *args, **kwargs):
        statements.append(str(statement))
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    result = run_import(audience, file_of(12000))
    assert result.status == ImportStatus.DONE
    assert result.created == 12000
    assert len(statements) >= 2  # one COPY per parsed batch
    assert all(s.startswith("COPY pg_temp.import_staging_rows") for s in statements)
    assert Recipient.objects.filter(audience=audience).count() == 12000
