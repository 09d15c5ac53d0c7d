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
    # keys of entries with a msgctxt are "context\x04msgid", in both sets
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


@pytest.mark.django_db
def test_pec_words_are_not_taken_from_the_campaign_catalogue(client, settings) -> None:
    """ "delivery" is "envoi" for campaigns but "remise" for a PEC receipt."""
    from django.utils import timezone, translation

    from pec.models import DispatchStatus, PecReceipt, PecSend

    settings.LANGUAGE_CODE = "fr"
    user = UserFactory(username="op", groups=["PEC operators"])
    send = PecSend.objects.create(
        mailbox=mailbox(operators=[user]), recipients=["a@pec.example.it"],
        subject="Atto", body_html="x", status=DispatchStatus.SENT, provider_code="1",
    )  # fmt: skip
    PecReceipt.objects.create(
        send=send, kind="avvenuta-consegna", subject="CONSEGNA: Atto 1",
        date=timezone.now(), fingerprint="f",
    )  # fmt: skip
    client.force_login(user)
    with translation.override("fr"):
        html = client.get(f"/pec/sends/{send.pk}/").content.decode()
    assert ">Remise<" in html and ">Envoi<" not in html
