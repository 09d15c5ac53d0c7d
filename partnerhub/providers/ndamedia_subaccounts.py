"""Sub-account operations shared by SMS Partner and Mail Partner (same wire shapes).

Kept apart from `ndamedia` so the transport base stays small; Voice Partner has no
sub-accounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import errors
from .ndamedia import (
    ErrorClass,
    NdaMediaClient,
    compact,
    parse_datetime,
    to_decimal,
    to_int,
    to_str,
)
from .xmlenvelope import Keys, ListOf, Obj, keys

SUBACCOUNT_ERRORS: dict[str, dict[int | str, ErrorClass]] = {
    "subaccount_create": {
        2: errors.AccessDenied,  # sub-accounts not enabled
        **dict.fromkeys((3, 4, 5, 6, 8, 9), errors.InvalidRequest),
        7: errors.AlreadyExists,  # email exists
    },
    "subaccount_credit": {
        **dict.fromkeys((2, 3, 5), errors.InvalidRequest),
        4: errors.AccessDenied,
        6: errors.InsufficientCredits,  # balance must be > 0
        7: errors.NotFound,  # sub-account not found
        8: errors.InsufficientCredits,
        9: errors.InvalidApiKey,
    },
    "subaccount_remove": {1: errors.InvalidRequest, 404: errors.NotFound},
}


@dataclass(frozen=True)
class SubaccountCreated:
    email: str
    token: str
    send_confirm_mail_to: str
    parent_email: str


@dataclass(frozen=True)
class Subaccount:
    """One sub-account; its own API key is exposed by the provider, never by repr."""

    id: int | None
    email: str
    type: str
    token: str
    created_at: datetime | None
    balance: Decimal | None
    currency: str
    api_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class SubaccountPage:
    total: int
    per_page: int
    page: int
    items: tuple[Subaccount, ...]


@dataclass(frozen=True)
class CreditTransfer:
    """Balances after moving credit (EUR) between the main account and a sub-account."""

    credit: Decimal | None
    subaccount_credit: Decimal | None
    currency: str


SUBACCOUNT_CREATE_KEYS: Keys = keys(
    "success code",
    ("subaccount", Obj(keys("email token"))),
    "sendConfirmMailTo parent_email",
)
SUBACCOUNT_ITEM_KEYS: Keys = keys(
    "id email type token apiKey createdAt", ("credits", Obj(keys("balance currency")))
)
SUBACCOUNT_LIST_KEYS: Keys = keys(
    "success code total nb_per_page page", ("data", ListOf(SUBACCOUNT_ITEM_KEYS))
)
CREDIT_KEYS: Keys = keys("success code credit subaccountCredit currency")


class SubaccountMixin(NdaMediaClient):
    """Sub-account operations, identical on SMS Partner and Mail Partner."""

    def subaccount_create(
        self,
        *,
        account_type: str = "simple",
        email: str | None = None,
        is_buyer: bool | None = None,
        credit_to_attribute: Decimal | None = None,
        title: str | None = None,
        firstname: str | None = None,
        lastname: str | None = None,
    ) -> SubaccountCreated:
        """Create a `simple` or `advanced` sub-account (the type is final)."""
        if account_type not in ("simple", "advanced"):
            raise ValueError("account_type must be 'simple' or 'advanced'")
        parameters = compact(
            {
                "email": email,
                "isBuyer": None if is_buyer is None else int(is_buyer),
                "creditToAttribute": _wire_amount(credit_to_attribute),
                "title": title,
                "firstname": firstname,
                "lastname": lastname,
            }
        )
        data = self._post(
            "subaccount/create",
            body={"type": account_type, "parameters": parameters},
            keys=SUBACCOUNT_CREATE_KEYS,
            op="subaccount_create",
            is_send=True,
        )
        sub = data.get("subaccount") or {}
        return SubaccountCreated(
            email=to_str(sub.get("email")),
            token=to_str(sub.get("token")),
            send_confirm_mail_to=to_str(data.get("sendConfirmMailTo")),
            parent_email=to_str(data.get("parent_email")),
        )

    def subaccount_list(self, *, page: int = 1) -> SubaccountPage:
        """One page (20 per page) of sub-accounts."""
        data = self._get(
            "subaccount/list", query={"page": page}, keys=SUBACCOUNT_LIST_KEYS
        )
        items = tuple(_subaccount(item) for item in data.get("data") or ())
        return SubaccountPage(
            total=to_int(data.get("total")) or 0,
            per_page=to_int(data.get("nb_per_page")) or 0,
            page=to_int(data.get("page")) or page,
            items=items,
        )

    def subaccount_credit_add(self, *, token: str, credit: Decimal) -> CreditTransfer:
        """Move `credit` EUR from the main account to the sub-account `token`."""
        return self._credit_move("subaccount/credit/add", token, credit)

    def subaccount_credit_remove(
        self, *, token: str, credit: Decimal
    ) -> CreditTransfer:
        """Move `credit` EUR from the sub-account `token` back to the main account."""
        return self._credit_move("subaccount/credit/remove", token, credit)

    def _credit_move(self, path: str, token: str, credit: Decimal) -> CreditTransfer:
        if Decimal(credit) <= 0:
            raise ValueError("credit must be positive")
        data = self._post(
            path,
            body={"credit": _wire_amount(credit), "tokenSubaccount": token},
            keys=CREDIT_KEYS,
            op="subaccount_credit",
            is_send=True,
        )
        parent = data.get("credit", data.get("total"))  # docs vs GO SDK spelling
        return CreditTransfer(
            credit=to_decimal(parent),
            subaccount_credit=to_decimal(data.get("subaccountCredit")),
            currency=to_str(data.get("currency")),
        )


def _subaccount(item: Mapping[str, Any]) -> Subaccount:
    credits = item.get("credits") or {}
    return Subaccount(
        id=to_int(item.get("id")),
        email=to_str(item.get("email")),
        type=to_str(item.get("type")),
        token=to_str(item.get("token")),
        created_at=parse_datetime(item.get("createdAt")),
        balance=to_decimal(credits.get("balance")),
        currency=to_str(credits.get("currency")),
        api_key=to_str(item.get("apiKey")),
    )


def _wire_amount(value: Decimal | float | None) -> float | None:
    """JSON has no decimal type: amounts travel as numbers, as in the docs."""
    return None if value is None else float(Decimal(str(value)))
