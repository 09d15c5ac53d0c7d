"""Styled 403, 404 and 500 pages: the PartnerHub look, both languages, a way back."""

from __future__ import annotations

import pytest
from django.template import loader
from django.test import RequestFactory
from django.utils import translation
from django.views import defaults

pytestmark = pytest.mark.django_db


def test_marketing_forbidden_page_keeps_403_and_says_whom_to_ask(role_client) -> None:
    response = role_client("Marketing").get("/audit/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "You do not have access to this page" in html
    assert "ask a PartnerHub administrator" in html
    assert "/audit/" in html
    assert 'href="/admin/"' in html  # the way back home
    assert "ph-nav" in html  # the product navigation, not a bare page


def test_missing_page_keeps_404_and_offers_the_way_back(role_client) -> None:
    response = role_client("Marketing").get("/campaigns/99999999/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in html
    assert 'href="/admin/"' in html
    assert 'href="/campaigns/"' in html


def test_error_pages_speak_french(role_client, settings) -> None:
    settings.LANGUAGE_CODE = "fr"
    client = role_client("Marketing")
    with translation.override("fr"):
        forbidden = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        missing = client.get("/nowhere/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Vous n'avez pas accès à cette page" in forbidden
    assert "Cette page n'existe pas" in missing
    assert "Retour à l'accueil" in missing


def test_server_error_page_renders_without_any_context() -> None:
    html = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in html
    assert 'href="/"' in html
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
