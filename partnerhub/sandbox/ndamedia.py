"""Behaviour shared by the three NDA Media emulators (Mail, SMS and Voice Partner).

The providers share one platform: `apiKey` as a parameter (query for GET, JSON
body otherwise), codes 1 (missing key) and 10 (wrong key), `_format=json|xml`, the
`{success, code, message}` envelope, code 90 for a malformed JSON body, per-minute
rate limits answered with HTTP 429, and the `scheduledDeliveryDate`/`time`/`minute`
triple validated with codes 45-49. Keeping it in one base class keeps the three
emulators consistent with each other, as the real APIs are.

HTTP statuses of error answers are not documented (providers.md §8 Q5): the sandbox
answers 401 for codes 1 and 10, 404 for code 404, 429 for rate limits and 400 for
every other refusal, always with the JSON (or XML) error body.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from .state import (
    PARIS,
    Account,
    Batch,
    RateLimiter,
    SandboxConfig,
    as_decimal,
    as_int,
    blank,
    cancel_refusal,
    paris_text,
)
from .wire import Clock, SandboxRequest, SandboxResponse
from .xmlenvelope import render_xml

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

MESSAGES: dict[int, str] = {
    1: "La Clé API est requise",
    10: "Clé API incorrecte",
    11: "Crédits insuffisants",
    45: "La date d'envoi est requise",
    46: "L'heure d'envoi est requise",
    47: "Les minutes sont invalides",
    48: "Les minutes doivent être comprises entre 0 et 55 par pas de 5",
    49: "La date d'envoi est invalide",
    90: "Le JSON est mal formé",
    404: "Ressource introuvable",
    405: "Méthode non autorisée",
    429: "Trop de requêtes",
    500: "Problème de mise en file d'attente",
}
HTTP_STATUS: dict[int | str, int] = {
    1: 401,
    10: 401,
    404: 404,
    405: 405,
    429: 429,
    500: 500,
}


class ApiError(Exception):
    """A refusal the emulator answers with an error body (never a server fault)."""

    def __init__(
        self,
        code: int | str,
        message: str | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        default = MESSAGES.get(code, str(code)) if isinstance(code, int) else code
        text = default if message is None else message
        super().__init__(text)
        self.code = code
        self.message = text
        self.status = status or HTTP_STATUS.get(code, 400)
        self.headers = headers or {}
        self.extra = extra


@dataclass
class Call:
    """One request as the handlers see it: merged parameters and clock time."""

    request: SandboxRequest
    params: dict[str, Any]
    now: float
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], dict[str, Any]]


def _compile(pattern: str) -> re.Pattern[str]:
    """`/me/{apiKey}` -> a regex with named groups (path parameters)."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{regex}/?$")


class NdaMediaEmulator:
    """Routing, parameters, auth, envelopes, limits; subclasses add the endpoints."""

    prefix: ClassVar[str] = ""
    name: ClassVar[str] = ""
    # (method, path pattern, handler method name)
    ROUTES: ClassVar[list[tuple[str, str, str]]] = []

    def __init__(self, clock: Clock, config: SandboxConfig | None = None) -> None:
        self.clock = clock
        self.config = config or SandboxConfig()
        self.limiter = RateLimiter(clock, self.config.rate_limits)
        self._lock = threading.RLock()
        self._routes = [(m, _compile(p), h) for m, p, h in self.ROUTES]
        self.accounts: dict[str, Account] = {}
        self.reset()

    # --- Emulator protocol -------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.limiter.reset()
            self.accounts = {}
            self.setup()

    def setup(self) -> None:
        """Create the demo account and empty state (subclasses)."""

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "accounts": [
                    {"username": a.username, "credit": str(a.credit), "type": a.type}
                    for a in self.accounts.values()
                ],
                **self.state_summary(),
            }

    def state_summary(self) -> dict[str, Any]:
        return {}

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        fmt = request.query.get("_format", "json")
        call: Call | None = None
        try:
            handler, path_args = self._resolve(request)
            params = {**self._params(request), **path_args}
            fmt = str(params.get("_format") or fmt)
            call = Call(request, params, self.clock.now())
            with self._lock:
                data = handler(call)
            return self.render(data, fmt, 200, call.headers)
        except ApiError as exc:
            headers = {**(call.headers if call else {}), **exc.headers}
            return self.render(self.error_body(exc), fmt, exc.status, headers)

    def fault_response(self, kind: str, request: SandboxRequest) -> SandboxResponse:
        """A switched-on fault answered as the provider answers it (body and code).

        `http_500` is the documented "500: queueing problem" (providers.md §2.20,
        §4.1), `http_429` the rate-limit refusal with `Retry-After`; both in the
        format the caller asked for.
        """
        fmt = str(request.query.get("_format") or "")
        if not fmt and request.method != "GET":
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                body = request.json()
                fmt = str(body.get("_format") or "") if isinstance(body, dict) else ""
        if kind == "http_429":
            exc = ApiError(429, status=429, headers={"Retry-After": "1"})
        else:
            exc = ApiError(500)
        return self.render(self.error_body(exc), fmt or "json", exc.status, exc.headers)

    # --- plumbing ------------------------------------------------------------------
    def _resolve(self, request: SandboxRequest) -> tuple[Handler, dict[str, str]]:
        path_known = False
        for method, regex, name in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            path_known = True
            if method == request.method:
                return getattr(self, name), match.groupdict()
        raise ApiError(405 if path_known else 404)

    @staticmethod
    def _params(request: SandboxRequest) -> dict[str, Any]:
        """Query parameters, overlaid by the JSON body of any non-GET call."""
        params: dict[str, Any] = dict(request.query)
        if request.method != "GET" and request.body.strip():
            try:
                body = request.json()
            except (ValueError, UnicodeDecodeError):
                raise ApiError(90) from None
            if not isinstance(body, dict):
                raise ApiError(90)
            params.update(body)
        return params

    def render(
        self, data: dict[str, Any], fmt: str, status: int, headers: dict[str, str]
    ) -> SandboxResponse:
        if fmt.lower() == "xml":
            return SandboxResponse(status, render_xml(data), "application/xml", headers)
        return SandboxResponse.json(status, data, **headers)

    def error_body(self, exc: ApiError) -> dict[str, Any]:
        body: dict[str, Any] = {"success": False, "code": exc.code}
        if "errors" in exc.extra:
            body["errors"] = exc.extra["errors"]
        else:
            body["message"] = exc.message
        return body

    def account(self, call: Call) -> Account:
        """The caller's account, or codes 1 (no key) / 10 (unknown key)."""
        key = call.params.get("apiKey")
        if key in (None, ""):
            raise ApiError(1)
        account = self.accounts.get(str(key))
        if account is None:
            raise ApiError(10)
        return account

    def rate_limit(self, call: Call, name: str, who: str) -> None:
        """Count the call against `name`; HTTP 429 once the window is used up."""
        state = self.limiter.hit(name, who)
        if state is None:
            return
        call.headers.update(state.headers())
        if not state.allowed:
            retry = str(max(int(state.reset_at - call.now) + 1, 1))
            headers = {**state.headers(), "Retry-After": retry}
            raise self.rate_limited(state.limit, headers)

    def rate_limited(self, limit: int, headers: dict[str, str]) -> ApiError:
        message = f"Trop de requêtes : limite de {limit} requêtes atteinte"
        return ApiError(429, message, status=429, headers=headers)


def parse_schedule(params: dict[str, Any], now: float) -> float | None:
    """`scheduledDeliveryDate` (dd/mm/YYYY) + `time` + `minute` -> unix time, or None.

    Codes: 45 date missing, 46 hour missing or not 0-23, 47 minute missing or not a
    number, 48 minute not 0-55 in steps of 5, 49 date invalid or not in the future.
    """
    date, hour_raw, minute_raw = (
        params.get(k) for k in ("scheduledDeliveryDate", "time", "minute")
    )
    if blank(date) and blank(hour_raw) and blank(minute_raw):
        return None
    if blank(date):
        raise ApiError(45)
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", str(date).strip())
    if match is None:
        raise ApiError(49)
    hour = as_int(hour_raw)
    if hour is None or not 0 <= hour <= 23:
        raise ApiError(46)
    minute = as_int(minute_raw)
    if minute is None:
        raise ApiError(47)
    if minute % 5 or not 0 <= minute <= 55:
        raise ApiError(48)
    day, month, year = (int(g) for g in match.groups())
    try:
        when = datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp()
    except ValueError:
        raise ApiError(49) from None
    if when <= now:
        raise ApiError(49, "La date d'envoi doit être dans le futur")
    return when


class SubaccountEndpoints:
    """`/subaccount/*`, identical on SMS and Mail Partner (§2.16, §4).

    Credit moved by `credit`/`creditToAttribute` is in the account's own unit (€ on
    SMS Partner, mail credits on Mail Partner: INFERRED, the docs only say "€").
    """

    accounts: dict[str, Account]
    SUBACCOUNT_DOMAIN: ClassVar[str] = "smspartner.fr"
    PAGE_SIZE: ClassVar[int] = 20
    account: Callable[[Call], Account]

    def reset(self) -> None:
        super().reset()  # type: ignore[misc]
        self._preset_subaccounts()

    def _preset_subaccounts(self) -> None:
        """Sub-accounts listed in the config (the demo's) exist from the start."""
        config: SandboxConfig = self.config  # type: ignore[attr-defined]
        parent = next(iter(self.accounts.values()), None)
        for number, preset in enumerate(config.subaccounts, start=1):
            if parent is None or preset.get("provider") != self.name:  # type: ignore[attr-defined]
                continue
            sub = Account(
                api_key=str(preset["api_key"]),
                username=str(preset["email"]),
                credit=Decimal(str(preset.get("credit", 0))),
                parent_key=parent.api_key,
                token=str(preset["token"]),
                number=number,
                type=str(preset.get("type", "simple")),
                created=self.clock.now(),  # type: ignore[attr-defined]
                quiet_hours=parent.quiet_hours,
            )
            self.accounts[sub.api_key] = sub

    def subaccount_credits(self, account: Account) -> dict[str, Any]:
        return {"balance": f"{account.credit:.3f}", "currency": "EUR"}

    def _main_account(self, call: Call, refusal: int) -> Account:
        account = self.account(call)
        if account.parent_key is not None:
            raise ApiError(refusal, "Action non autorisée pour un sous-compte")
        return account

    def _subaccounts(self, parent: Account) -> list[Account]:
        subs = [a for a in self.accounts.values() if a.parent_key == parent.api_key]
        return sorted(subs, key=lambda a: a.number)

    def subaccount_create(self, call: Call) -> dict[str, Any]:
        parent = self._main_account(call, 2)
        kind, options = call.params.get("type"), call.params.get("parameters")
        options = options if isinstance(options, dict) else {}
        if blank(kind):
            raise ApiError(4, "Le type est requis")
        if kind not in ("simple", "advanced"):
            raise ApiError(5, "Le type doit être simple ou advanced")
        email = str(options.get("email") or "").strip()
        if kind == "advanced" and blank(options.get("isBuyer")):
            raise ApiError(3, "isBuyer est requis")
        if (kind == "advanced" or email) and not EMAIL_RE.match(email):
            raise ApiError(6, "L'email est requis")
        number = 1 + max((a.number for a in self.accounts.values()), default=0)
        email = email or f"{9875500 + number}@{self.SUBACCOUNT_DOMAIN}"
        if any(a.username.lower() == email.lower() for a in self.accounts.values()):
            raise ApiError(7, "L'email existe déjà")
        credit = self._initial_credit(options, parent)
        sub = Account(
            api_key=f"sub-{secrets.token_hex(12)}",
            username=email,
            credit=credit,
            parent_key=parent.api_key,
            token=secrets.token_hex(10),
            number=number,
            type=str(kind),
            created=call.now,
            quiet_hours=parent.quiet_hours,  # INFERRED: support lifts it per customer
        )
        parent.credit -= credit
        self.accounts[sub.api_key] = sub
        return {
            "success": True,
            "code": 200,
            "subaccount": {"email": sub.username, "token": sub.token},
            "sendConfirmMailTo": sub.username,
            "parent_email": parent.username,
        }

    @staticmethod
    def _initial_credit(options: dict[str, Any], parent: Account) -> Decimal:
        raw = options.get("creditToAttribute")
        if blank(raw):
            return Decimal(0)
        credit = as_decimal(raw)
        if credit is None or credit <= 0:
            raise ApiError(8, "creditToAttribute doit être supérieur à 0")
        if parent.credit < credit:
            raise ApiError(9, "Le solde doit être supérieur à 0")
        return credit

    def subaccount_list(self, call: Call) -> dict[str, Any]:
        parent = self._main_account(call, 2)
        page = max(as_int(call.params.get("page")) or 1, 1)
        subs = self._subaccounts(parent)
        start = (page - 1) * self.PAGE_SIZE
        data = [
            {
                "id": sub.number,
                "email": sub.username,
                "type": sub.type,
                "token": sub.token,
                "apiKey": sub.api_key,
                "createdAt": paris_text(sub.created),
                "credits": self.subaccount_credits(sub),
            }
            for sub in subs[start : start + self.PAGE_SIZE]
        ]
        return {
            "success": True,
            "code": 200,
            "total": len(subs),
            "nb_per_page": self.PAGE_SIZE,
            "page": page,
            "data": data,
        }

    def subaccount_credit_add(self, call: Call) -> dict[str, Any]:
        return self._credit_move(call, to_sub=True)

    def subaccount_credit_remove(self, call: Call) -> dict[str, Any]:
        return self._credit_move(call, to_sub=False)

    def _credit_move(self, call: Call, *, to_sub: bool) -> dict[str, Any]:
        parent = self._main_account(call, 4)
        raw, token = call.params.get("credit"), call.params.get("tokenSubaccount")
        if blank(raw):
            raise ApiError(2, "Le crédit est requis")
        if blank(token):
            raise ApiError(3, "L'identifiant du sous-compte est requis")
        credit = as_decimal(raw)
        if credit is None or credit <= 0:
            raise ApiError(5, "Le crédit doit être supérieur à 0")
        sub = next((s for s in self._subaccounts(parent) if s.token == token), None)
        if sub is None:
            raise ApiError(7, "Sous-compte introuvable")
        source, target = (parent, sub) if to_sub else (sub, parent)
        if source.credit < credit:
            raise ApiError(8, "Crédit insuffisant")
        source.credit -= credit
        target.credit += credit
        return {
            "success": True,
            "code": 200,
            "credit": float(parent.credit),
            "subaccountCredit": float(sub.credit),
            "currency": "EUR",
        }

    def subaccount_remove(self, call: Call) -> dict[str, Any]:
        """Delete a sub-account; its remaining credit goes back to the parent (I)."""
        parent = self._main_account(call, 2)
        token = call.params.get("token")
        if blank(token):
            raise ApiError(1, "Le token est requis")
        sub = next((s for s in self._subaccounts(parent) if s.token == token), None)
        if sub is None:
            raise ApiError(404, "Sous-compte introuvable")
        parent.credit += sub.credit
        del self.accounts[sub.api_key]
        return {"success": True, "code": 200}


def cancel_scheduled(
    batch: Batch,
    account: Account,
    now: float,
    refusals: dict[str, tuple[int, str]],
) -> None:
    """Cancel a scheduled send and refund it, or raise the provider's refusal."""
    refusal = cancel_refusal(batch, now)
    if refusal is not None:
        raise ApiError(*refusals[refusal])
    batch.cancelled_at = now
    if not batch.sandbox:
        account.credit += batch.cost
