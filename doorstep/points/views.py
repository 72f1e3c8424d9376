"""Points pages: the clerk's counter and receipts, the community's points overview
(report, outlets, rules, leaderboard), an outlet's goods, a resident's account for staff,
the resident's own points, and the public leaderboard. Views call selectors and
services only; rows come through the scoping checkpoint and a row out of scope is 404."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from doorstep.accounts.roles import Role
from doorstep.accounts.rules import require_staff
from doorstep.accounts.scoping import get_scoped_or_404, has_role, scoped
from doorstep.core import timeutils
from doorstep.core.errors import DomainError, ValidationError
from doorstep.core.forms import ServiceForm
from doorstep.core.inputs import key_from_text
from doorstep.core.pages import render_page
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit
from doorstep.people.selectors import person_search

from .forms import GoodsForm, GrantForm, OutletForm, RestockForm, ReverseForm, RuleForm
from .models import Goods, Outlet, Transfer
from .rules import can_manage_points, can_serve_outlet, clerk_outlet_ids
from .selectors import (
    account_history,
    affordable_goods,
    counter_account,
    counter_find,
    counter_holder,
    history_rows,
    leaderboard,
    mask_name,
    monthly_redemptions,
    outlet_goods,
    outlet_list,
    own_account,
    points_report,
    receipt,
    rule_list,
)
from .services import (
    earning_rule_set,
    goods_restock,
    goods_save,
    outlet_create,
    points_grant,
    redemption_create,
    redemption_reverse,
    resident_account,
)

HISTORY_PAGE = 30


def _error(exc: DomainError) -> str:
    return str(exc.message)


def _date_param(request: HttpRequest, name: str) -> dt.date | None:
    """An optional report bound; one that is no date, or none a person means, is none."""
    value = request.GET.get(name, "")
    try:
        day = dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
    return day if day and timeutils.plausible_day(day) else None


# --- The counter ----------------------------------------------------------------------------


def _counter_outlets(request: HttpRequest) -> list[Outlet]:
    """Outlets whose counter the user may serve: a clerk's own, or those a manager runs."""
    user = request.user
    if has_role(user, Role.OUTLET_CLERK):
        return list(
            scoped(user, Outlet)
            .filter(pk__in=clerk_outlet_ids(user), is_active=True)
            .order_by("name")
        )
    outlets = outlet_list(actor=user).filter(is_active=True)[:200]
    return [o for o in outlets if can_manage_points(user, o.unit)]


def _counter_outlet(request: HttpRequest, outlets: list[Outlet], value: Any) -> Outlet:
    if not outlets:
        raise Http404
    if value in (None, ""):
        return outlets[0]
    for outlet in outlets:
        if str(outlet.pk) == str(value):
            return outlet
    raise Http404


@never_cache
@login_required
def counter(request: HttpRequest) -> HttpResponse:
    """Find a resident (name, pinyin, phone suffix, or the QR code scanned into the box),
    see the balance, pick goods, redeem."""
    require_staff(request)
    outlets = _counter_outlets(request)
    if not outlets:
        # A manager whose area has no outlet yet: say so, and where to add one.
        return render(request, "points/counter_none.html", {})
    outlet = _counter_outlet(request, outlets, request.GET.get("outlet"))
    q = request.GET.get("q", "").strip()
    hits: list[Any] = []
    error = ""
    account = None
    ticket = request.GET.get("ticket", "")
    if q:
        try:
            hits = counter_find(actor=request.user, outlet=outlet, q=q)
        except DomainError as exc:
            error = _error(exc)
        if len(hits) == 1 and not error:
            account, ticket = hits[0].account, hits[0].ticket
    if account is None and (ticket or request.GET.get("account", "")):
        account = counter_account(
            actor=request.user,
            outlet=outlet,
            account_id=_int_or_404(request.GET.get("account", "")),
            ticket=ticket,
        )
    context = _counter_context(
        request, outlets=outlets, outlet=outlet, account=account, ticket=ticket
    )
    context.update({"q": q, "hits": hits, "error": error})
    return render_page(
        request, "points/counter.html", context, fragment="points/_counter_panel.html"
    )


def _counter_context(
    request: HttpRequest,
    *,
    outlets: list[Outlet],
    outlet: Outlet,
    account: Any,
    ticket: str,
    quantities: dict[int, str] | None = None,
    redeem_error: str = "",
) -> dict[str, Any]:
    """What the counter page shows for a resident: the goods with the quantities typed
    (none at first), and the reason a redemption was refused beside its button. Each
    form gets a fresh idempotency key: a double tap sends one key twice, while a form
    shown again after a refusal never reuses a key that may already be spent."""
    quantities = quantities or {}
    return {
        "outlets": outlets,
        "outlet": outlet,
        "q": "",
        "hits": [],
        "error": "",
        "account": account,
        "ticket": ticket,
        "holder": counter_holder(account) if account is not None else None,
        "goods": [
            (goods, quantities.get(goods.pk, "0"))
            for goods in outlet_goods(actor=request.user, outlet=outlet, active_only=True)
        ],
        "redeem_error": redeem_error,
        "key": uuid.uuid4().hex,
    }


def _int_or_404(value: str) -> int | None:
    if not value:
        return None
    key = key_from_text(value)
    if key is None:
        raise Http404
    return key


@require_POST
@login_required
def counter_redeem(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    outlets = _counter_outlets(request)
    outlet = _counter_outlet(request, outlets, request.POST.get("outlet"))
    ticket = request.POST.get("ticket", "")
    account = counter_account(
        actor=request.user,
        outlet=outlet,
        account_id=_int_or_404(request.POST.get("account", "")),
        ticket=ticket,
    )
    items = []
    quantities: dict[int, str] = {}
    for goods in outlet_goods(actor=request.user, outlet=outlet, active_only=True):
        raw = request.POST.get(f"qty_{goods.pk}", "").strip()
        quantities[goods.pk] = raw or "0"
        if raw and raw != "0":
            items.append((goods.pk, raw))
    try:
        redemption = redemption_create(
            actor=request.user,
            outlet=outlet,
            account=account,
            items=items,
            idempotency_key=request.POST.get("key", ""),
        )
    except DomainError as exc:
        # The same form again, the refusal beside its button and the quantities as typed,
        # so that the clerk corrects them instead of starting over.
        context = _counter_context(
            request,
            outlets=outlets,
            outlet=outlet,
            account=account,
            ticket=ticket,
            quantities=quantities,
            redeem_error=_error(exc),
        )
        return render(request, "points/counter.html", context, status=400)
    return redirect("points:receipt", pk=redemption.pk)


@login_required
def receipt_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A receipt (print from the browser); managers may reverse it. A refused reversal
    comes back with its message beside the reason typed."""
    redemption = receipt(actor=request.user, redemption_id=pk)
    reversal = Transfer.objects.filter(reverses_id=redemption.transfer_id).first()
    form = ReverseForm()
    status = 200
    if request.method == "POST":
        if not can_manage_points(request.user, redemption.outlet.unit):
            raise Http404
        form = ReverseForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                redemption_reverse(
                    actor=request.user,
                    redemption=redemption,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(request, _("已撤销该兑换，积分已退回，商品已回库。"))
                return redirect("points:receipt", pk=pk)
    return render(
        request,
        "points/receipt.html",
        {
            "r": redemption,
            "holder": mask_name(redemption.account.person.name),  # type: ignore[union-attr]
            "balance_after": redemption.account.balance,
            "reversal": reversal,
            "can_reverse": reversal is None
            and can_manage_points(request.user, redemption.outlet.unit),
            "yuan": redemption.value_fen / 100,
            "form": form,
        },
        status=status,
    )


# --- The community's points (staff) ----------------------------------------------------------


def _managed_units(request: HttpRequest) -> list[Unit]:
    return [
        u
        for u in scoped(request.user, Unit)
        .filter(kind__in=sorted(GRASSROOTS_KINDS))
        .order_by("path")[:300]
        if can_manage_points(request.user, u)
    ]


@login_required
def points_home(request: HttpRequest) -> HttpResponse:
    """Report (issued, redeemed, yuan value, person-times per outlet), outlets, rules,
    the leaderboard of a community, and a resident search for grants. A refused new
    outlet or rule comes back with its messages and what was typed (the other form
    empty); an accepted one redirects."""
    require_staff(request)
    unit = None
    if (unit_id := key_from_text(request.GET.get("unit", ""))) is not None:
        unit = get_scoped_or_404(request.user, Unit, pk=unit_id)
    start = _date_param(request, "start")
    end = _date_param(request, "end")
    managed = _managed_units(request)
    forms_ = {action: form_class(units=managed) for action, form_class in HOME_FORMS.items()}
    bound: ServiceForm | None = None
    error = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in HOME_FORMS:
            error, status = _("未知的操作。"), 400
        else:
            bound = forms_[action] = HOME_FORMS[action](request.POST, units=managed)
            status = 400
            if bound.is_valid():
                try:
                    _points_home_post(request, action, bound.cleaned_data)
                except DomainError as exc:
                    status = bound.refuse(exc)
                else:
                    return redirect(request.get_full_path())
    report = points_report(actor=request.user, unit=unit, start=start, end=end)
    year = (end or timeutils.local_today()).year
    monthly = [
        {**row, "yuan": (row["value"] or 0) / 100}
        for row in monthly_redemptions(actor=request.user, unit=unit, year=year)
    ]
    people = []
    q = request.GET.get("q", "").strip()
    if q:
        try:
            people = list(person_search(actor=request.user, q=q).select_related("unit")[:20])
        except DomainError as exc:
            error = _error(exc)
    board_unit = unit if unit is not None and unit.kind in GRASSROOTS_KINDS else None
    return render(
        request,
        "points/home.html",
        {
            "unit": unit,
            "start": start,
            "end": end,
            "report": report,
            "yuan": report.value_fen / 100,
            "year": year,
            "monthly": monthly,
            "outlets": outlet_list(actor=request.user, unit=unit)[:200],
            "rules": rule_list(actor=request.user, unit=unit)[:300],
            "managed": managed,
            "outlet_form": forms_["outlet"],
            "rule_form": forms_["rule"],
            "bound": bound,
            "units": scoped(request.user, Unit)
            .filter(kind__in=sorted(GRASSROOTS_KINDS))
            .order_by("path")[:300],
            "board": leaderboard(unit=board_unit) if board_unit else [],
            "people": people,
            "q": q,
            "error": error,
        },
        status=status,
    )


# The forms of the overview, by the ``action`` each posts.
HOME_FORMS: dict[str, type[OutletForm | RuleForm]] = {"outlet": OutletForm, "rule": RuleForm}


def _posted_unit(request: HttpRequest, raw: str) -> Unit:
    """The community a form names: not an id is refused beside the field, an id out of
    the user's scope is 404."""
    unit_id = key_from_text(raw)
    if unit_id is None:
        raise ValidationError(_("请选择社区/村。"), field="unit")
    return get_scoped_or_404(request.user, Unit, pk=unit_id)


def _points_home_post(request: HttpRequest, action: str, data: dict[str, Any]) -> None:
    unit = _posted_unit(request, data["unit"])
    if action == "rule":
        earning_rule_set(
            actor=request.user,
            unit=unit,
            activity_type=data["activity_type"],
            points_per_time=data["points_per_time"],
            points_per_hour=data["points_per_hour"],
            daily_cap=data["daily_cap"],
            monthly_cap=data["monthly_cap"],
        )
        messages.success(request, _("积分规则已保存。"))
        return
    outlet_create(
        actor=request.user,
        unit=unit,
        kind=data["kind"],
        name=data["name"],
        address=data["address"],
    )
    messages.success(request, _("兑换点已设立。"))


@login_required
def outlet_page(request: HttpRequest, pk: int) -> HttpResponse:
    """An outlet's goods (add, restock) and its latest receipts. A refused form comes back
    with its messages and what was typed (in the goods' row for a restock; the other
    forms empty); an accepted one redirects."""
    require_staff(request)
    outlet = get_scoped_or_404(
        request.user, Outlet, queryset=Outlet.objects.select_related("unit"), pk=pk
    )
    manages = can_manage_points(request.user, outlet.unit)
    goods = list(outlet_goods(actor=request.user, outlet=outlet))
    goods_form = GoodsForm()
    bound: GoodsForm | RestockForm | None = None
    status = 200
    if request.method == "POST":
        if not manages:
            raise Http404
        status = 400
        if request.POST.get("action") == "restock":
            bound = RestockForm(request.POST, auto_id=_restock_id(request.POST.get("goods")))
            restocked = key_from_text(request.POST.get("goods", ""))
            for g in goods:
                if g.pk == restocked:  # the summary above the page names the goods
                    bound.fields["quantity"].label = _("%(goods)s的入库数量") % {"goods": g.name}
        else:
            bound = goods_form = GoodsForm(request.POST)
        if bound.is_valid():
            try:
                _outlet_post(request, outlet, bound)
            except DomainError as exc:
                status = bound.refuse(exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect("points:outlet", pk=pk)
    from .models import Redemption

    recent = (
        scoped(request.user, Redemption)
        .filter(outlet=outlet)
        .select_related("account__person")[:20]
    )
    return render(
        request,
        "points/outlet.html",
        {
            "outlet": outlet,
            "goods": [(g, _restock_form(g, bound)) for g in goods],
            "goods_form": goods_form,
            "bound": bound,
            "manages": manages,
            "serves": can_serve_outlet(request.user, outlet),
            "recent": recent,
            "report": points_report(actor=request.user, outlet=outlet),
        },
        status=status,
    )


def _restock_id(goods: Any) -> str:
    """The ids of a goods' row's restock form (``restock-7-quantity``)."""
    key = key_from_text(str(goods or ""))
    return f"restock-{key}-%s" if key is not None else "restock-%s"


def _restock_form(goods: Goods, bound: Any) -> RestockForm:
    """The restock form of a goods' row: the one refused, if it was this row's."""
    if (
        isinstance(bound, RestockForm)
        and key_from_text(str(bound.data.get("goods", ""))) == goods.pk
    ):
        return bound
    return RestockForm(initial={"goods": goods.pk}, auto_id=_restock_id(goods.pk))


def _outlet_post(request: HttpRequest, outlet: Outlet, form: GoodsForm | RestockForm) -> None:
    data = form.cleaned_data
    if isinstance(form, RestockForm):
        goods_id = key_from_text(data["goods"])
        goods = Goods.objects.filter(pk=goods_id or 0, outlet=outlet).first()
        if goods is None:
            raise ValidationError(_("所选商品不存在。"), field="goods")
        goods_restock(actor=request.user, goods=goods, quantity=data["quantity"])
        return
    goods_save(
        actor=request.user,
        outlet=outlet,
        name=data["name"],
        points_price=data["points_price"],
        value_fen=_fen(data["value_yuan"]),
        stock=data["stock"],
    )


def _fen(value: str) -> int:
    """A value as typed, in yuan (``12.5``), to fen; blank is none. Anything else is
    refused here, in the yuan that was typed: the service would speak of a whole number
    of fen. Whether the amount is too large, or below zero, is the service's to say."""
    from decimal import Decimal, InvalidOperation

    text = (value or "").strip()
    if not text:
        return 0
    try:
        amount = Decimal(text)
        # NaN, Infinity, or too many digits to count in fen (1e308) fail the quantize.
        if amount == amount.quantize(Decimal("0.01")):
            return int(amount * 100)
    except (InvalidOperation, ValueError):
        pass
    raise ValidationError(_("价值请按元填写，最多两位小数，如 12.50。"), field="value_yuan")


@login_required
def person_points(request: HttpRequest, person_pk: int) -> HttpResponse:
    """A resident's account as staff see it: balance, history, a manual grant. A refused
    grant comes back with its messages and what was typed."""
    require_staff(request)
    from doorstep.people.selectors import person_detail

    person = person_detail(actor=request.user, person_id=person_pk)
    try:
        account = resident_account(person=person)
    except DomainError as exc:
        messages.error(request, _error(exc))
        return redirect("points:home")
    get_scoped_or_404(request.user, type(account), pk=account.pk)
    manages = can_manage_points(request.user, account.unit)
    form = GrantForm()
    status = 200
    if request.method == "POST":
        if not manages:
            raise Http404
        form = GrantForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                points_grant(
                    actor=request.user,
                    account=account,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    idempotency_key=request.POST.get("key", ""),
                    request=request,
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(request, _("积分已发放。"))
                return redirect("points:person", person_pk=person_pk)
        account.refresh_from_db()
    page = Paginator(account_history(account), HISTORY_PAGE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "points/person.html",
        {
            "person": person,
            "account": account,
            "page": page,
            "rows": history_rows(account, page.object_list),
            "filters": request.GET,
            "manages": manages,
            "form": form,
            # A fresh key for each form shown: one refused may have been refused for its key.
            "key": uuid.uuid4().hex,
        },
        fragment="points/_history.html",
        status=status,
    )


# --- The resident's own points and the public board ------------------------------------------


@login_required
def my_points(request: HttpRequest) -> HttpResponse:
    """My balance, my QR code for the counter, my history, the goods I can afford."""
    account = own_account(actor=request.user)
    if account is None:
        from doorstep.people.selectors import own_person

        person = own_person(actor=request.user)
        if person is not None:
            resident_account(person=person)
            account = own_account(actor=request.user)
    if account is None:
        return render(request, "points/my_points.html", {"account": None})
    page = Paginator(account_history(account), HISTORY_PAGE).get_page(request.GET.get("page"))
    return render_page(
        request,
        "points/my_points.html",
        {
            "account": account,
            "qr": _qr_svg(account.qr_token or ""),
            "page": page,
            "rows": history_rows(account, page.object_list),
            "filters": request.GET,
            "affordable": affordable_goods(actor=request.user, account=account)[:30],
        },
        fragment="points/_history.html",
    )


def _qr_svg(token: str) -> str:
    import segno

    return segno.make(token, error="m").svg_inline(scale=6, dark="#111", light="#fff")


def public_leaderboard(request: HttpRequest, unit_pk: int) -> HttpResponse:
    """A community's points leaderboard, open to all: masked names and points only."""
    unit = get_object_or_404(Unit, pk=unit_pk, kind__in=sorted(GRASSROOTS_KINDS))
    return render(
        request,
        "points/leaderboard.html",
        {"unit": unit, "board": leaderboard(unit=unit, limit=20)},
    )
