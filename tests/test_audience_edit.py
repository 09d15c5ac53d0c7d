"""Audiences are created and renamed on the product pages, not in the admin form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import Audience
from partnerhub.audit import Action, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketing(role_client):
    return role_client("Marketing")


def test_new_audience_button_opens_the_product_form(marketing) -> None:
    page = marketing.get(reverse("audiences:list")).content.decode()
    assert f'href="{reverse("audiences:create")}"' in page
    assert "/admin/campaigns/audience/add/" not in page
    form = marketing.get(reverse("audiences:create")).content.decode()
    assert 'id="nav-sidebar"' not in form  # one navigation, no model sidebar


def test_creating_an_audience_lands_on_its_page_to_import(marketing) -> None:
    response = marketing.post(
        reverse("audiences:create"),
        {"name": "Salon de Lyon", "description": "Contacts du stand"},
        follow=True,
    )
    audience = Audience.objects.get(name="Salon de Lyon")
    assert response.redirect_chain[-1][0] == reverse(
        "audiences:detail", args=[audience.pk]
    )
    assert "import its recipients" in response.content.decode()
    assert AuditEntry.objects.filter(action=Action.AUDIENCE_SAVED).exists()


def test_a_taken_name_is_refused_and_nothing_is_created(marketing) -> None:
    Audience.objects.create(name="Clients")
    response = marketing.post(reverse("audiences:create"), {"name": "Clients"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Audience.objects.count() == 1


def test_renaming_in_place_keeps_the_recipients(marketing) -> None:
    audience = Audience.objects.create(name="Ancien nom")
    audience.recipients.create(email="a@exemple.fr")
    detail = marketing.get(reverse("audiences:detail", args=[audience.pk]))
    assert reverse("audiences:edit", args=[audience.pk]) in detail.content.decode()
    marketing.post(
        reverse("audiences:edit", args=[audience.pk]),
        {"name": "Nouveau nom", "description": ""},
    )
    audience.refresh_from_db()
    assert audience.name == "Nouveau nom"
    assert audience.recipients.count() == 1


def test_pec_operators_cannot_create_audiences(role_client) -> None:
    client = role_client("PEC operators")
    assert client.get(reverse("audiences:create")).status_code == 403
    response = client.post(reverse("audiences:create"), {"name": "X"})
    assert response.status_code == 403
    assert not Audience.objects.exists()
