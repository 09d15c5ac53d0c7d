"""`manage.py import_recipients`: progress, summary, error file, exit status."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Audience, Recipient
from tests.import_helpers import make_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.RECIPIENT_IMPORT_DIR = tmp_path / "imports"


def test_command_imports_and_writes_the_rejected_rows(tmp_path, capsys) -> None:
    audience = Audience.objects.create(name="Clients")
    source = tmp_path / "list.csv"
    source.write_bytes(
        make_csv(
            [["Courriel", "Nom"], ["a@x.fr", "Roux"], ["bad", "X"]], encoding="cp1252"
        )
    )
    errors = tmp_path / "errors.csv"
    call_command("import_recipients", "Clients", str(source), errors=errors)
    out = capsys.readouterr().out
    assert "1 created" in out and "1 invalid" in out
    assert Recipient.objects.get(audience=audience).email == "a@x.fr"
    assert "invalid_email" in errors.read_text(encoding="utf-8-sig")


def test_command_fails_with_a_clear_message_on_a_bad_file(tmp_path) -> None:
    Audience.objects.create(name="Clients")
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command("import_recipients", "Clients", str(source))


def test_command_refuses_an_unknown_audience(tmp_path) -> None:
    with pytest.raises(CommandError, match="No audience"):
        call_command("import_recipients", "Nope", str(tmp_path / "x.csv"))
