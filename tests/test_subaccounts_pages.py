"""Credits pages: Admins only, create shows the key once, credit moves confirm first."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.forms import EmailDraftForm
from campaigns.models import Campaign
from partnerhub.accounts import services
from partnerhub.models import CreditMove, CreditSnapshot, ProviderAccount
from partnerhub.services import accounts_ensure_main
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mains(sandbox_settings: Any) -> dict[str, ProviderAccount]:
    return {a.provider: a for a in accounts_ensure_main()}


@pytest.fixture
def boss(db: None) -> Any:
    return UserFactory(username="boss", groups=["Admins"])


@pytest.fixture
def admin_client(client: Any, boss: Any) -> Any:
    client.force_login(boss)
    return client


def _sub(main: ProviderAccount, boss: Any, **kwargs: Any) -> ProviderAccount:
    return services.subaccount_create(
        parent=main, account_type="simple", actor=boss, **kwargs
    ).account


def _urls(main: ProviderAccount, sub: ProviderAccount) -> list[str]:
    return [
        reverse("accounts:list"),
        reverse("accounts:moves"),
        reverse("accounts:moves_export"),
        reverse("accounts:detail", args=[sub.pk]),
        reverse("accounts:create", args=[main.pk]),
        reverse("accounts:add", args=[sub.pk]),
        reverse("accounts:remove", args=[sub.pk]),
        reverse("accounts:delete", args=[sub.pk]),
    ]


def _posts(main: ProviderAccount, sub: ProviderAccount) -> list[tuple[str, dict]]:
    return [
        (reverse("accounts:refresh"), {}),
        (reverse("accounts:sync", args=[main.pk]), {}),
        (reverse("accounts:threshold", args=[sub.pk]), {"low_credit_threshold": "1"}),
        (reverse("accounts:create", args=[main.pk]), {"account_type": "simple"}),
        (reverse("accounts:add", args=[sub.pk]), {"amount": "1", "confirm": "on"}),
        (reverse("accounts:remove", args=[sub.pk]), {"amount": "1", "confirm": "on"}),
        (reverse("accounts:delete", args=[sub.pk]), {}),
    ]


@pytest.mark.parametrize("role", ["Marketing", "PEC operators"])
def test_other_roles_get_403_on_every_page_and_post(
    client: Any, mains: dict, boss: Any, role: str, sandbox_settings: Any
) -> None:
    sub = _sub(mains["sms"], boss, initial_credit=Decimal("5"))
    client.force_login(UserFactory(username=f"u-{role[:3]}", groups=[role]))
    for url in _urls(mains["sms"], sub):
        assert client.get(url).status_code == 403, url
    before = len(sandbox_settings.requests(provider="sms"))
    for url, data in _posts(mains["sms"], sub):
        assert client.post(url, data).status_code == 403, url
    assert len(sandbox_settings.requests(provider="sms")) == before
    assert CreditMove.objects.count() == 1
    assert ProviderAccount.objects.get(pk=sub.pk).is_active


def test_admin_opens_every_page(admin_client: Any, mains: dict, boss: Any) -> None:
    sub = _sub(mains["mail"], boss, initial_credit=Decimal("5"))
    for url in _urls(mains["mail"], sub):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    detail = admin_client.get(reverse("accounts:detail", args=[mains["mail"].pk]))
    assert "e-mails" in detail.content.decode()  # the Mail main account's unit


def test_create_shows_the_key_once_then_only_its_last_four(
    admin_client: Any, mains: dict
) -> None:
    url = reverse("accounts:create", args=[mains["sms"].pk])
    response = admin_client.post(
        url,
        {"account_type": "simple", "name": "Agence Lyon", "initial_credit": "12.5"},
    )
    assert response.status_code == 200
    account = ProviderAccount.objects.get(name="Agence Lyon")
    page = response.content.decode()
    assert account.api_key in page
    assert response["Cache-Control"] == "no-store"
    for later in (
        admin_client.get(reverse("accounts:list")),
        admin_client.get(reverse("accounts:detail", args=[account.pk])),
    ):
        text = later.content.decode()
        assert account.api_key not in text
        assert f"••••{account.api_key[-4:]}" in text
    assert account.credits == Decimal("12.5")


def test_posting_the_create_form_twice_creates_one_subaccount(
    admin_client: Any, mains: dict
) -> None:
    url = reverse("accounts:create", args=[mains["sms"].pk])
    data = {"account_type": "simple", "name": "Once", "once": "abc123"}
    first = admin_client.post(url, data)
    again = admin_client.post(url, data)
    account = ProviderAccount.objects.get(name="Once")
    assert first.status_code == 200 and account.api_key in first.content.decode()
    assert again.status_code == 302
    assert again["Location"] == reverse("accounts:detail", args=[account.pk])


def test_create_refused_by_the_provider_says_why_and_keeps_nothing(
    admin_client: Any, mains: dict, boss: Any
) -> None:
    _sub(mains["mail"], boss, email="taken@example.fr")
    response = admin_client.post(
        reverse("accounts:create", args=[mains["mail"].pk]),
        {"account_type": "simple", "email": "taken@example.fr"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert ProviderAccount.objects.filter(email="taken@example.fr").count() == 1


def test_advanced_without_email_is_caught_by_the_form(
    admin_client: Any, mains: dict, sandbox_settings: Any
) -> None:
    response = admin_client.post(
        reverse("accounts:create", args=[mains["sms"].pk]),
        {"account_type": "advanced"},
    )
    assert "needs an email address" in response.content.decode()
    assert not sandbox_settings.requests(path="/subaccount/create")


def test_add_credit_asks_for_confirmation_then_moves(
    admin_client: Any, mains: dict, boss: Any
) -> None:
    sub = _sub(mains["sms"], boss)
    url = reverse("accounts:add", args=[sub.pk])
    confirm = admin_client.post(url, {"amount": "20"})
    assert "Yes, add the credit" in confirm.content.decode()
    assert not CreditMove.objects.filter(kind="add").exists()
    done = admin_client.post(url, {"amount": "20", "confirm": "on"}, follow=True)
    assert "20.00\u00a0€ added" in done.content.decode()
    sub.refresh_from_db()
    assert sub.credits == Decimal("20")
    twice = {"amount": "20", "confirm": "on", "once": "n1"}
    admin_client.post(url, twice)
    assert admin_client.post(url, twice).status_code == 302  # no second move
    sub.refresh_from_db()
    assert sub.credits == Decimal("40")
    too_much = admin_client.post(
        reverse("accounts:remove", args=[sub.pk]), {"amount": "45", "confirm": "on"}
    )
    assert "cannot be taken back" in too_much.content.decode()


def test_mail_delete_page_says_there_is_no_delete(
    admin_client: Any, mains: dict, boss: Any
) -> None:
    sub = _sub(mains["mail"], boss)
    page = admin_client.get(reverse("accounts:delete", args=[sub.pk])).content
    assert b"no way to delete" in page and b"Yes, delete it" not in page
    response = admin_client.post(reverse("accounts:delete", args=[sub.pk]))
    assert response.status_code == 400
    assert ProviderAccount.objects.get(pk=sub.pk).is_active


def test_sms_delete_confirmation_says_the_credit_returns(
    admin_client: Any, mains: dict, boss: Any
) -> None:
    sub = _sub(mains["sms"], boss, initial_credit=Decimal("8"))
    page = admin_client.get(reverse("accounts:delete", args=[sub.pk])).content.decode()
    assert "goes back to the main account" in page and "8.00" in page
    admin_client.post(reverse("accounts:delete", args=[sub.pk]))
    assert not ProviderAccount.objects.get(pk=sub.pk).is_active


def test_moves_filter_and_csv(admin_client: Any, mains: dict, boss: Any) -> None:
    sub = _sub(mains["sms"], boss, name="Lyon", initial_credit=Decimal("3"))
    services.subaccount_credit_add(account=sub, amount="2", actor=boss)
    other = _sub(mains["mail"], boss, name="Paris")
    page = admin_client.get(reverse("accounts:moves"), {"kind": "add"})
    assert page.context["page_obj"].paginator.count == 1
    csv = admin_client.get(
        reverse("accounts:moves_export"), {"account": other.pk}
    ).getvalue()
    text = csv.decode("utf-8-sig")
    assert "Paris" in text and "Lyon" not in text and "boss" in text


def test_chart_shows_snapshots_and_moves(
    admin_client: Any, mains: dict, boss: Any
) -> None:
    sub = _sub(mains["sms"], boss, initial_credit=Decimal("3"))
    for days in range(1, 10):
        CreditSnapshot.objects.create(
            account=sub,
            taken_at=timezone.now() - timedelta(days=days),
            credits=Decimal(days),
        )
    page = admin_client.get(reverse("accounts:detail", args=[sub.pk]), {"days": 7})
    text = page.content.decode()
    assert "<polyline" in text and 'class="ac-move ac-move-create"' in text
    assert page.context["chart"].days == 7
    assert len(page.context["chart"].rows) == 7  # today + days 1-6 (7 is just out)


def test_dashboard_card_shows_units_and_trend(
    admin_client: Any, mains: dict, boss: Any
) -> None:
    services.credits_refresh_all()
    services.credits_refresh_all()
    sub = _sub(mains["sms"], boss, initial_credit=Decimal("3"))
    ProviderAccount.objects.filter(pk=sub.pk).update(low_credit_threshold=10)
    services.credits_refresh_all()
    text = admin_client.get(reverse("admin:index")).content.decode()
    assert "e-mails" in text and "ph-card-trend" in text
    assert "Below their alert threshold" in text


def test_keyless_or_inactive_accounts_are_never_offered(mains: dict, boss: Any) -> None:
    good = _sub(mains["mail"], boss, name="Good")
    keyless = ProviderAccount.objects.create(
        provider="mail", parent=mains["mail"], name="Keyless"
    )
    off = _sub(mains["mail"], boss, name="Off")
    ProviderAccount.objects.filter(pk=off.pk).update(is_active=False)
    offered = set(
        EmailDraftForm(instance=Campaign(channel="email")).fields["account"].queryset
    )
    assert good in offered and mains["mail"] in offered
    assert keyless not in offered and off not in offered


def test_main_account_provider_and_parent_are_fixed_in_admin(
    admin_client: Any, mains: dict
) -> None:
    url = reverse("admin:partnerhub_provideraccount_change", args=[mains["sms"].pk])
    admin_client.post(
        url,
        {
            "provider": "mail",
            "name": "Renamed",
            "parent": mains["mail"].pk,
            "low_credit_threshold": "0",
            "is_active": "on",
        },
    )
    main = ProviderAccount.objects.get(pk=mains["sms"].pk)
    assert (main.provider, main.parent_id) == ("sms", None)


def test_long_histories_are_thinned_but_keep_their_dips() -> None:
    from partnerhub.accounts.charts import MAX_POINTS, _thin

    start = timezone.now() - timedelta(days=90)
    snaps = [
        (start + timedelta(hours=h), Decimal(1000 - (900 if h == 777 else 0)))
        for h in range(2160)
    ]
    thin = _thin(snaps, MAX_POINTS)
    assert len(thin) <= MAX_POINTS + 1
    assert snaps[777] in thin and thin[-1] == snaps[-1]
    assert [p[0] for p in thin] == sorted(p[0] for p in thin)
