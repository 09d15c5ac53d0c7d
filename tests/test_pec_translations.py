"""The PEC pages have their own French catalogue (pec/locale), complete and compiled."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest

from tests import test_translations as main_catalogue
from tests.factories import UserFactory
from tests.pec_helpers import mailbox
from tests.test_translations import unescape

LOCALE = (
    Path(__file__).resolve().parent.parent / "pec" / "locale" / "fr" / "LC_MESSAGES"
)


def test_every_pec_string_has_a_french_translation_and_is_compiled(
    monkeypatch,
) -> None:
    monkeypatch.setattr(main_catalogue, "LOCALE", LOCALE)
    po = main_catalogue.po_entries()
    assert len(po) > 200
    assert [k for k, v in po.items() if not v] == []
    with (LOCALE / "django.mo").open("rb") as handle:
        compiled = set(gettext.GNUTranslations(handle)._catalog)
    compiled = {k if isinstance(k, str) else k[0] for k in compiled}
    assert {unescape(k) for k in po} - compiled == set()


@pytest.mark.django_db
def test_pec_pages_are_in_french_by_default(client, settings) -> None:
    from django.utils import translation

    settings.LANGUAGE_CODE = "fr"
    user = UserFactory(username="op", groups=["PEC operators"])
    box = mailbox(operators=[user])
    client.force_login(user)
    with translation.override("fr"):
        home = client.get("/pec/").content.decode()
        compose = client.get(f"/pec/new/?mailbox={box.pk}").content.decode()
    assert "Vos boîtes" in home and "Nouvelle PEC" in home
    assert "Pas de copie cachée en PEC." in compose
