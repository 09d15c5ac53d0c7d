"""Admin pages for provider accounts and sub-accounts (product.md §3 flow 6).

Thin views: they bind forms and call `partnerhub.accounts.services`. Every view,
GET or POST, needs `partnerhub.change_provideraccount`, which only Admins hold
(Marketing and PEC operators get 403).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from partnerhub import formatting
from partnerhub.models import CreditMove, ProviderAccount
from partnerhub.pages import csv_download, delimiter_from, page_context
from partnerhub.paging import page_of
from partnerhub.streamed_reads import streamed_read

from . import charts, selectors, services
from .errors import SubaccountError
from .forms import AmountForm, MoveFilterForm, SubaccountCreateForm, ThresholdForm

PERMISSION = "partnerhub.change_provideraccount"
CREATED_KEY = "subaccounts_created"  # session: form nonce -> sub-account created
MOVED_KEY = "subaccounts_moved"  # session: nonces of confirmed credit moves
MOVES_PER_PAGE = 50


def admins_only(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    return permission_required(PERMISSION, raise_exception=True)(view)


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return redirect(target)


def _main(pk: int) -> ProviderAccount:
    return get_object_or_404(
        ProviderAccount,
        pk=pk,
        parent__isnull=True,
        provider__in=services.SUBACCOUNT_PROVIDERS,
    )


def _sub(pk: int) -> ProviderAccount:
    return get_object_or_404(
        ProviderAccount.objects.select_related("parent"), pk=pk, parent__isnull=False
    )


# --- list, detail ------------------------------------------------------------------
@require_GET
@admins_only
def account_list(request: HttpRequest) -> HttpResponse:
    include_inactive = request.GET.get("inactive") == "1"
    context = page_context(
        request,
        title=_("Provider accounts and sub-accounts"),
        groups=selectors.account_groups(include_inactive=include_inactive),
        include_inactive=include_inactive,
        low=selectors.low_accounts(),
    )
    return render(request, "accounts/list.html", context)


@require_GET
@admins_only
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(
        ProviderAccount.objects.select_related("parent").exclude(provider="pec"),
        pk=pk,
    )
    days = charts.clean_days(request.GET.get("days", charts.DEFAULT_DAYS))
    context = page_context(
        request,
        title=account.name,
        account=account,
        chart=charts.balance_chart(account, days=days),
        ranges=charts.RANGES,
        moves=charts.moves_for(account)[:20],
        threshold_form=ThresholdForm(instance=account),
        can_delete=services.subaccount_can_delete(account),
        is_low=selectors.alerts.is_low(account),
        subaccounts=account.subaccounts.filter(is_active=True).order_by("name"),
    )
    return render(request, "accounts/detail.html", context)


@require_POST
@admins_only
def account_threshold(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ProviderAccount, pk=pk)
    form = ThresholdForm(request.POST, instance=account)
    if form.is_valid():
        form.save()
        selectors.alerts.low_credit_check(account=account)
        messages.success(request, _("Alert threshold saved."))
    else:
        messages.error(request, _("Enter a threshold of zero or more."))
    return redirect("accounts:detail", pk=pk)


@require_POST
@admins_only
def refresh_now(request: HttpRequest) -> HttpResponse:
    report = services.credits_refresh_all()
    if report.failed:
        messages.warning(
            request,
            _("Some balances could not be refreshed: %(failed)s")
            % {"failed": "; ".join(report.failed)},
        )
    else:
        messages.success(
            request,
            _("Balances refreshed at %(time)s.")
            % {"time": timezone.localtime().strftime("%H:%M")},
        )
    return _back(request, reverse("accounts:list"))


@require_POST
@admins_only
def sync(request: HttpRequest, pk: int) -> HttpResponse:
    parent = _main(pk)
    try:
        result = services.subaccounts_sync(parent=parent)
    except SubaccountError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _(
                "Synced with %(provider)s: %(added)s new, %(updated)s updated, "
                "%(deactivated)s marked inactive."
            )
            % {
                "provider": parent.get_provider_display(),
                "added": result.added,
                "updated": result.updated,
                "deactivated": result.deactivated,
            },
        )
    return _back(request, reverse("accounts:list"))


# --- create --------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@admins_only
def create(request: HttpRequest, pk: int) -> HttpResponse:
    parent = _main(pk)
    form = SubaccountCreateForm(
        request.POST or None, initial={"once": uuid.uuid4().hex}
    )
    done: dict[str, int] = request.session.get(CREATED_KEY, {})
    once = request.POST.get("once", "")
    if once and once in done:
        # The same form posted again (reload, double click): never a second one.
        return redirect("accounts:detail", pk=done[once])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.subaccount_create(
                parent=parent,
                account_type=data["account_type"],
                actor=request.user,
                name=data["name"],
                email=data["email"],
                is_buyer=data["is_buyer"],
                title=data["title"],
                firstname=data["firstname"],
                lastname=data["lastname"],
                initial_credit=data["initial_credit"],
                low_credit_threshold=data["low_credit_threshold"] or Decimal(0),
            )
        except SubaccountError as exc:
            form.add_error(None, str(exc))
        else:
            if once:
                request.session[CREATED_KEY] = {**done, once: created.account.pk}
            context = page_context(
                request,
                title=_("Sub-account created"),
                account=created.account,
                api_key=created.api_key,
            )
            response = render(request, "accounts/created.html", context)
            response["Cache-Control"] = "no-store"
            return response
    context = page_context(
        request,
        title=_("New %(provider)s sub-account")
        % {"provider": parent.get_provider_display()},
        parent=parent,
        form=form,
    )
    return render(request, "accounts/create.html", context)


# --- credit moves ---------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@admins_only
def credit(request: HttpRequest, pk: int, direction: str) -> HttpResponse:
    account = _sub(pk)
    add = direction == "add"
    form = AmountForm(request.POST or None)
    confirming = False
    once = request.POST.get("once", "")
    used: list[str] = request.session.get(MOVED_KEY, [])
    if once and once in used:
        # The confirmation posted twice (double click): the credit moved once.
        return redirect("accounts:detail", pk=pk)
    if request.method == "POST" and form.is_valid():
        amount = form.cleaned_data["amount"]
        if form.cleaned_data["confirm"]:
            move_credit = (
                services.subaccount_credit_add
                if add
                else services.subaccount_credit_remove
            )
            try:
                move = move_credit(account=account, amount=amount, actor=request.user)
            except SubaccountError as exc:
                form.add_error(None, str(exc))
            else:
                if once:
                    request.session[MOVED_KEY] = [*used[-50:], once]
                messages.success(request, _moved_sentence(move, add))
                return redirect("accounts:detail", pk=pk)
        else:
            confirming = True
    title = _("Add credit") if add else _("Remove credit")
    context = page_context(
        request,
        title=f"{title} · {account.name}",
        account=account,
        form=form,
        add=add,
        confirming=confirming,
        once=uuid.uuid4().hex,
        amount=form.cleaned_data.get("amount")
        if form.is_bound and form.is_valid()
        else None,
    )
    return render(request, "accounts/credit.html", context)


def _moved_sentence(move: CreditMove, add: bool) -> str:
    values = {
        "amount": formatting.money(move.amount),
        "sub": formatting.money(move.subaccount_balance or Decimal(0)),
        "main": formatting.money(move.parent_balance or Decimal(0)),
    }
    if add:
        text = _("%(amount)s added. Sub-account: %(sub)s; main account: %(main)s.")
    else:
        text = _("%(amount)s taken back. Sub-account: %(sub)s; main account: %(main)s.")
    return text % values


# --- delete --------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@admins_only
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    account = _sub(pk)
    error = ""
    if request.method == "POST":
        try:
            move = services.subaccount_delete(account=account, actor=request.user)
        except SubaccountError as exc:
            error = str(exc)
        else:
            messages.success(
                request,
                _("%(name)s deleted; %(amount)s went back to the main account.")
                % {"name": account.name, "amount": formatting.money(move.amount)},
            )
            return redirect("accounts:list")
    context = page_context(
        request,
        title=_("Delete %(name)s") % {"name": account.name},
        account=account,
        can_delete=services.subaccount_can_delete(account),
        error=error,
    )
    return render(
        request, "accounts/delete.html", context, status=400 if error else 200
    )


# --- moves ---------------------------------------------------------------------------
@require_GET
@admins_only
def move_list(request: HttpRequest) -> HttpResponse:
    form = MoveFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = page_of(
        selectors.moves_for_list(data), MOVES_PER_PAGE, request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = page_context(
        request,
        title=_("Credit moves"),
        form=form,
        page_obj=page,
        query=query.urlencode(),
    )
    return render(request, "accounts/moves.html", context)


@require_GET
@admins_only
def move_export(request: HttpRequest) -> StreamingHttpResponse:
    form = MoveFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    header = [
        _("When"),
        _("Action"),
        _("Sub-account"),
        _("Provider"),
        _("Amount"),
        _("Unit"),
        _("By"),
        _("Main account after"),
        _("Sub-account after"),
        _("Provider answer"),
    ]
    return csv_download(
        _move_rows(selectors.moves_filtered(data)),
        header=header,
        filename="credit-moves.csv",
        delimiter=delimiter_from(request),
    )


def _move_rows(moves: QuerySet[CreditMove]) -> Iterator[list[Any]]:
    with streamed_read():  # PostgreSQL: rows as fetched, no stored result
        for m in moves.iterator(chunk_size=2000):
            yield [
                timezone.localtime(m.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                m.get_kind_display(),
                m.account.name,
                m.account.get_provider_display(),
                m.amount,
                m.unit,
                m.actor.get_username() if m.actor else "",
                "" if m.parent_balance is None else m.parent_balance,
                "" if m.subaccount_balance is None else m.subaccount_balance,
                m.provider_answer,
            ]
