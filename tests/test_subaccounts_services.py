"""Sub-account services against the live sandbox, Mail and SMS: actions and refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from partnerhub.accounts import services
from partnerhub.accounts.errors import SubaccountError
from partnerhub.models import CreditMove, CreditSnapshot, ProviderAccount
from partnerhub.providers import factory
from partnerhub.services import accounts_ensure_main
from partnerhub.tasks import refresh_all_credits
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PROVIDERS = ["mail", "sms"]


@pytest.fixture
def admin(db: None) -> Any:
    return UserFactory(username="boss", groups=["Admins"])


@pytest.fixture
def mains(sandbox_settings: Any) -> dict[str, ProviderAccount]:
    return {a.provider: a for a in accounts_ensure_main()}


def _client(main: ProviderAccount) -> Any:
    if main.provider == "mail":
        return factory.get_mailpartner_client(main)
    return factory.get_smspartner_client(main)


def _create(main: ProviderAccount, admin: Any, **kwargs: Any) -> Any:
    return services.subaccount_create(
        parent=main, account_type="simple", actor=admin, **kwargs
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_create_stores_the_key_encrypted_and_records_the_move(
    mains: dict, admin: Any, provider: str
) -> None:
    created = _create(
        mains[provider], admin, name="Agence Lyon", initial_credit=Decimal("25")
    )
    account = ProviderAccount.objects.get(pk=created.account.pk)
    assert created.api_key.startswith("sub-")
    assert account.api_key == created.api_key
    assert account.api_key_last4 == created.api_key[-4:]
    assert account.can_call_provider and account.credits == Decimal("25")
    assert account.credits_unit == "EUR" and account.credits_checked_at
    with connection.cursor() as cursor:
        table = ProviderAccount._meta.db_table
        sql = "SELECT encrypted_api_key FROM " + table + " WHERE id = %s"  # noqa: S608
        cursor.execute(sql, [account.pk])
        raw = cursor.fetchone()[0]
    assert created.api_key not in raw and raw.startswith("fernet:")
    move = CreditMove.objects.get(account=account)
    assert (move.kind, move.amount, move.actor) == ("create", Decimal("25"), admin)
    assert CreditSnapshot.objects.filter(account=account).exists()
    # The sub-account's own key works at the provider.
    assert _client(account).me() is not None


def test_advanced_needs_email_and_buyer_flag(mains: dict, admin: Any) -> None:
    with pytest.raises(SubaccountError) as missing:
        services.subaccount_create(
            parent=mains["sms"], account_type="advanced", actor=admin, is_buyer=True
        )
    assert missing.value.code == 6
    created = services.subaccount_create(
        parent=mains["sms"],
        account_type="advanced",
        actor=admin,
        email="lyon@example.fr",
        is_buyer=False,
        firstname="Léa",
        lastname="Martin",
    )
    assert created.account.subaccount_type == "advanced"
    assert created.account.email == "lyon@example.fr"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_email_already_exists_is_refused_and_nothing_stored(
    mains: dict, admin: Any, provider: str
) -> None:
    _create(mains[provider], admin, email="dup@example.fr")
    before = ProviderAccount.objects.count()
    with pytest.raises(SubaccountError) as refused:
        _create(mains[provider], admin, email="dup@example.fr")
    assert refused.value.code == 7
    assert "already exists" in str(refused.value)
    assert ProviderAccount.objects.count() == before
    assert CreditMove.objects.count() == 1


def test_bad_type_and_bad_amount_are_refused_before_the_provider(
    mains: dict, admin: Any, sandbox_settings: Any
) -> None:
    with pytest.raises(SubaccountError) as bad_type:
        services.subaccount_create(
            parent=mains["sms"], account_type="gold", actor=admin
        )
    assert bad_type.value.code == 5
    for amount in ("0", "-3", "abc", "1.0001"):
        with pytest.raises(SubaccountError):
            _create(mains["sms"], admin, initial_credit=amount)
    assert not sandbox_settings.requests(path="/subaccount/create")
    assert not ProviderAccount.objects.filter(parent__isnull=False).exists()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_initial_credit_above_the_parent_balance_is_refused(
    mains: dict, admin: Any, provider: str, sandbox_settings: Any
) -> None:
    with pytest.raises(SubaccountError) as refused:
        _create(mains[provider], admin, initial_credit=Decimal("9999999"))
    assert refused.value.code == 8 and "cannot give" in str(refused.value)
    assert not sandbox_settings.requests(path="/subaccount/create")


def test_create_not_enabled_for_a_subaccount_key(mains: dict, admin: Any) -> None:
    sub = _create(mains["sms"], admin).account
    # A sub-account used as a parent is refused locally ...
    with pytest.raises(SubaccountError):
        _create(sub, admin)
    # ... and the provider's own code 2 maps to a sentence too.
    with pytest.raises(Exception) as raw:
        _client(sub).subaccount_create(account_type="simple")
    assert "not enabled" in str(services.refusal("create", raw.value))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_add_and_remove_credit_update_both_balances(
    mains: dict, admin: Any, provider: str
) -> None:
    main = mains[provider]
    sub = _create(main, admin, initial_credit=Decimal("10")).account
    main.refresh_from_db()
    parent_before = main.credits
    move = services.subaccount_credit_add(account=sub, amount="15,5", actor=admin)
    sub.refresh_from_db()
    main.refresh_from_db()
    assert sub.credits == Decimal("25.5") and move.subaccount_balance == Decimal("25.5")
    assert main.credits < parent_before
    services.subaccount_credit_remove(account=sub, amount=Decimal("5.5"), actor=admin)
    sub.refresh_from_db()
    assert sub.credits == Decimal("20")
    kinds = list(CreditMove.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["create", "add", "remove"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_removing_more_than_the_provider_holds_is_refused(
    mains: dict, admin: Any, provider: str
) -> None:
    sub = _create(mains[provider], admin, initial_credit=Decimal("3")).account
    ProviderAccount.objects.filter(pk=sub.pk).update(credits=Decimal("500"))  # stale
    sub.refresh_from_db()
    with pytest.raises(SubaccountError) as refused:
        services.subaccount_credit_remove(account=sub, amount="100", actor=admin)
    assert refused.value.code == 8 and "Not enough credit" in str(refused.value)
    assert CreditMove.objects.count() == 1
    # Locally known balance too low: refused before the provider.
    sub.refresh_from_db()
    ProviderAccount.objects.filter(pk=sub.pk).update(credits=Decimal("3"))
    sub.refresh_from_db()
    with pytest.raises(SubaccountError, match="cannot be taken back"):
        services.subaccount_credit_remove(account=sub, amount="4", actor=admin)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_credit_on_a_subaccount_gone_at_the_provider_is_not_found(
    mains: dict, admin: Any, provider: str
) -> None:
    sub = _create(mains[provider], admin).account
    ProviderAccount.objects.filter(pk=sub.pk).update(provider_token="nope")
    sub.refresh_from_db()
    with pytest.raises(SubaccountError) as refused:
        services.subaccount_credit_add(account=sub, amount="1", actor=admin)
    assert refused.value.code == 7
    assert "no longer exists" in str(refused.value)


@pytest.mark.parametrize("amount", ["0", "-1", "", "x", "0.0001"])
def test_bad_amounts_are_refused(mains: dict, admin: Any, amount: str) -> None:
    sub = _create(mains["sms"], admin).account
    with pytest.raises(SubaccountError):
        services.subaccount_credit_add(account=sub, amount=amount, actor=admin)


def test_sms_delete_returns_the_credit_to_the_parent(mains: dict, admin: Any) -> None:
    main = mains["sms"]
    sub = _create(main, admin, initial_credit=Decimal("40")).account
    main.refresh_from_db()
    before = main.credits
    move = services.subaccount_delete(account=sub, actor=admin)
    sub.refresh_from_db()
    main.refresh_from_db()
    assert not sub.is_active and not sub.api_key and sub.credits == 0
    assert move.kind == "delete" and move.amount == Decimal("40")
    assert main.credits == before + Decimal("40")
    with pytest.raises(SubaccountError):  # inactive now
        services.subaccount_delete(account=sub, actor=admin)


def test_sms_delete_of_an_unknown_subaccount_is_not_found(
    mains: dict, admin: Any
) -> None:
    sub = _create(mains["sms"], admin).account
    ProviderAccount.objects.filter(pk=sub.pk).update(provider_token="gone")
    sub.refresh_from_db()
    with pytest.raises(SubaccountError) as refused:
        services.subaccount_delete(account=sub, actor=admin)
    assert refused.value.code == 404
    sub.refresh_from_db()
    assert sub.is_active and sub.api_key


def test_mail_has_no_delete(mains: dict, admin: Any, sandbox_settings: Any) -> None:
    sub = _create(mains["mail"], admin).account
    assert not services.subaccount_can_delete(sub)
    with pytest.raises(SubaccountError, match="no way to delete"):
        services.subaccount_delete(account=sub, actor=admin)
    assert ProviderAccount.objects.get(pk=sub.pk).is_active


@pytest.mark.parametrize("provider", PROVIDERS)
def test_sync_adds_updates_and_retires(mains: dict, admin: Any, provider: str) -> None:
    main = mains[provider]
    client = _client(main)
    for n in range(23):  # two pages at the provider
        client.subaccount_create(account_type="simple", email=f"s{n}@example.fr")
    kept = _create(main, admin).account
    gone = ProviderAccount.objects.create(
        provider=provider, parent=main, name="Gone", provider_token="old"
    )
    keyless = ProviderAccount.objects.create(provider=provider, parent=main, name="X")
    client.subaccount_credit_add(token=kept.provider_token, credit=Decimal("7"))
    result = services.subaccounts_sync(parent=main)
    assert (result.added, result.updated, result.deactivated) == (23, 1, 2)
    kept.refresh_from_db()
    assert kept.credits == Decimal("7")
    for row in (gone, keyless):
        row.refresh_from_db()
        assert not row.is_active
    new = ProviderAccount.objects.get(email="s22@example.fr")
    assert new.can_call_provider and new.api_key_last4 and new.credits == 0
    again = services.subaccounts_sync(parent=main)
    assert (again.added, again.updated, again.deactivated) == (0, 24, 0)


def test_refresh_all_reads_mains_and_subaccounts(mains: dict, admin: Any) -> None:
    sub = _create(mains["sms"], admin, initial_credit=Decimal("2")).account
    _client(mains["sms"]).subaccount_credit_add(
        token=sub.provider_token, credit=Decimal("3")
    )
    assert refresh_all_credits() == 4  # the hourly task: 3 mains + 1 sub-account
    sub.refresh_from_db()
    assert sub.credits == Decimal("5") and sub.credits_unit == "EUR"
    mail = ProviderAccount.objects.get(provider="mail", parent=None)
    assert mail.credits_unit == "emails" and mail.credits == Decimal("1000000")


def test_provider_down_changes_nothing(
    mains: dict, admin: Any, sandbox_settings: Any
) -> None:
    sandbox_settings.set_faults(
        [{"fault": "http_500", "provider": "sms", "path": "/subaccount"}]
    )
    with pytest.raises(SubaccountError, match="nothing was changed"):
        _create(mains["sms"], admin)
    assert not ProviderAccount.objects.filter(parent__isnull=False).exists()


def test_refusals_read_in_french(mains: dict, admin: Any) -> None:
    from django.utils import translation

    _create(mains["sms"], admin, email="dup@example.fr")
    with translation.override("fr"), pytest.raises(SubaccountError) as refused:
        _create(mains["sms"], admin, email="dup@example.fr")
    with translation.override("fr"):
        assert str(refused.value) == (
            "Un sous-compte avec cette adresse e-mail existe déjà."
        )
    with translation.override("fr"), pytest.raises(SubaccountError) as poor:
        _create(mains["sms"], admin, initial_credit=Decimal("60000"))
    assert "n'a que 50\xa0000,00 €" in str(poor.value)


def test_main_account_without_key_is_a_clear_refusal(
    mains: dict, admin: Any, settings: Any
) -> None:
    settings.SMSPARTNER_API_KEY = ""
    with pytest.raises(SubaccountError, match="no API key"):
        _create(mains["sms"], admin)
    with pytest.raises(SubaccountError, match="too large"):
        services.clean_amount("1e12")
