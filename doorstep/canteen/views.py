"""Canteen pages: the clerk's counter (find the diner or bill a walk-in, see the price
with the rule that set it, take cash and/or points, the receipt), the community's
canteens with the daily diner report, a canteen's dishes, rules and menus, and the
public menus with the price a signed-in resident would pay. Views call selectors and
services only; a row out of scope is 404."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from doorstep.accounts.rules import require_staff
from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import timeutils
from doorstep.core.api import query_date
from doorstep.core.errors import DomainError, ValidationError
from doorstep.core.inputs import key_from_text
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit
from doorstep.people.selectors import mask_name, own_person
from doorstep.points.selectors import own_account
from doorstep.sites.models import Site
from doorstep.sites.selectors import site_list

from .choices import DinerGroup, Meal
from .forms import (
    CanteenForm,
    DishForm,
    MenuForm,
    RefundForm,
    RuleForm,
    ServiceForm,
    fen,
)
from .models import Canteen, Dish, PriceRule
from .rules import can_bill, can_manage_canteen
from .selectors import (
    canteen_detail,
    canteen_list,
    counter_canteens,
    diner_balance,
    diner_find,
    diner_from_ticket,
    diner_report,
    dish_list,
    menu_items,
    menu_week,
    order_detail,
    order_list,
    own_orders,
    public_menus,
    rule_list,
)
from .services import (
    Quote,
    canteen_create,
    diner_of,
    dish_save,
    meal_at,
    menu_publish,
    order_create,
    order_quote,
    order_refund,
    price_lines,
    price_rule_set,
    rules_in_force,
)


def _error(exc: DomainError) -> str:
    return str(exc.message)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _fen(value: str) -> int | None:
    """Cash as the clerk typed it, in yuan (``12.5``), to fen; blank is None (the service
    works out what is due). Anything else is refused here, in the yuan the clerk typed:
    the service would speak of a whole number of fen."""
    from decimal import Decimal, InvalidOperation

    text = (value or "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
        # NaN, Infinity, or too many digits to count in fen (1e308) fail the quantize.
        if amount == amount.quantize(Decimal("0.01")):
            return int(amount * 100)
    except (InvalidOperation, ValueError):
        pass
    raise ValidationError(_("现金金额请按元填写，最多两位小数，如 12.50。"), field="cash_fen")


# --- The counter ----------------------------------------------------------------------------


def _counter_canteen(canteens: list[Canteen], value: Any) -> Canteen:
    if value in (None, ""):
        return canteens[0]
    for canteen in canteens:
        if str(canteen.pk) == str(value):
            return canteen
    raise Http404


def _meals(canteen: Canteen) -> list[tuple[str, str]]:
    return [(m, str(Meal(m).label)) for m in Meal.values if canteen.window(m)[0] is not None]


def _wanted(request: HttpRequest, items: list[Any]) -> list[tuple[int, str]]:
    wanted = []
    for item in items:
        raw = request.POST.get(f"qty_{item.dish_id}", "").strip()
        if raw and raw != "0":
            wanted.append((item.dish_id, raw))
    return wanted


@never_cache
@login_required
def counter(request: HttpRequest) -> HttpResponse:
    """Find the diner (or bill a walk-in), pick today's dishes, see the price and the
    rule that set it, take cash and/or points."""
    require_staff(request)
    canteens = counter_canteens(actor=request.user)
    if not canteens:
        return render(request, "canteen/counter_none.html", {})
    data = request.POST if request.method == "POST" else request.GET
    canteen = _counter_canteen(canteens, data.get("canteen"))
    meals = _meals(canteen)
    meal = data.get("meal") or meal_at(canteen, timeutils.now()) or meals[0][0]
    if meal not in dict(meals):
        meal = meals[0][0]
    today = timeutils.local_today()
    q = data.get("q", "").strip()
    ticket = data.get("ticket", "")
    walk_in = data.get("walkin") == "1"
    hits: list[Any] = []
    error = ""
    person = None
    if ticket:
        person = diner_from_ticket(actor=request.user, canteen=canteen, ticket=ticket)
    elif q:
        try:
            hits = diner_find(actor=request.user, canteen=canteen, q=q)
        except DomainError as exc:
            error = _error(exc)
        if len(hits) == 1:
            ticket = hits[0].ticket
            person = diner_from_ticket(actor=request.user, canteen=canteen, ticket=ticket)
    items = menu_items(canteen, today, meal)
    diner = diner_of(person, today)
    # The price each dish would have for this diner, one portion, before ordering.
    hints = {}
    if person is not None or walk_in:
        rules = rules_in_force(canteen, today, meal)
        for item in items:
            quote = price_lines(
                canteen=canteen, day=today, meal=meal, diner=diner, wanted=[(item.dish, 1)],
                rules=rules,
            )  # fmt: skip
            hints[item.dish_id] = quote.lines[0] if quote.lines else None
    bill: Quote | None = None
    balance = None
    if person is not None:
        balance = diner_balance(person)
    # A refused quote or payment is shown beside the buttons, with what was typed kept.
    bill_error = ""
    if request.method == "POST" and (person is not None or walk_in):
        wanted = _wanted(request, items)
        paying = request.POST.get("action") == "pay"
        try:
            if paying:
                order = order_create(
                    actor=request.user,
                    canteen=canteen,
                    meal=meal,
                    items=wanted,
                    person=person,
                    points=request.POST.get("points", "").strip() or 0,
                    cash_fen=_fen(request.POST.get("cash_yuan", "")),
                    idempotency_key=request.POST.get("key", ""),
                )
                return redirect("canteen:receipt", pk=order.pk)
            bill = order_quote(canteen=canteen, meal=meal, items=wanted, person=person)
        except DomainError as exc:
            bill_error = _error(exc)
        if bill_error and paying:
            # Keep the bill on screen so that the clerk can change points or cash and
            # take the payment again.
            try:
                bill = order_quote(canteen=canteen, meal=meal, items=wanted, person=person)
            except DomainError:
                bill = None
    context = {
        "canteens": canteens,
        "canteen": canteen,
        "meals": meals,
        "meal": meal,
        "today": today,
        "q": q,
        "hits": hits,
        "ticket": ticket,
        "walk_in": walk_in,
        "person": person,
        "holder": _holder(person, diner),
        "balance": balance,
        "items": [
            (item, hints.get(item.dish_id), request.POST.get(f"qty_{item.dish_id}", ""))
            for item in items
        ],
        "quote": bill,
        "typed_points": request.POST.get("points", "").strip() or "0",
        "typed_cash": request.POST.get("cash_yuan", "").strip(),
        "error": error,
        "bill_error": bill_error,
        # One key for one bill, kept from the quote to the payment; a refused bill gets a
        # fresh one, since the refusal may be that its key was already spent.
        "key": (request.POST.get("key") if not bill_error else "") or uuid.uuid4().hex,
    }
    return render(request, "canteen/counter.html", context, status=400 if bill_error else 200)


def _holder(person: Any, diner: Any) -> dict[str, Any] | None:
    if person is None:
        return None
    return {
        "name": mask_name(person.name),
        "place": person.unit.name,
        "age": diner.age,
        "tags": [str(DinerGroup(t).label) for t in sorted(diner.tags) if t in DinerGroup.values],
    }


@login_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """The bill on screen (print from the browser); managers may refund it. A refused
    refund comes back with its message beside the reason typed."""
    require_staff(request)
    order = order_detail(actor=request.user, order_id=pk)
    manages = can_manage_canteen(request.user, order.canteen)
    form = RefundForm()
    status = 200
    if request.method == "POST":
        if not manages:
            raise Http404
        form = RefundForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                order_refund(
                    actor=request.user,
                    order=order,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(request, _("已退款：积分已退回，现金请当面退还。"))
                return redirect("canteen:receipt", pk=pk)
    return render(
        request,
        "canteen/receipt.html",
        {
            "o": order,
            "diner": mask_name(order.person.name) if order.person_id else _("散客"),  # type: ignore[union-attr]
            "manages": manages,
            "serves": can_bill(request.user, order.canteen),
            "form": form,
        },
        status=status,
    )


# --- The community's canteens (staff) ------------------------------------------------------


def _managed_sites(request: HttpRequest) -> list[Site]:
    return [
        s
        for s in site_list(actor=request.user).select_related("unit")[:300]
        if can_manage_canteen(request.user, s)
    ]


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """Canteens of the user's subtree, a new canteen at a site, and the diner report:
    person-times per day and meal, meals at the age price, cash and points. A refused
    new canteen comes back with its messages and what was typed."""
    require_staff(request)
    unit = None
    if (unit_id := key_from_text(request.GET.get("unit", ""))) is not None:
        unit = get_scoped_or_404(request.user, Unit, pk=unit_id)
    error = ""
    sites = _managed_sites(request)
    form = CanteenForm(sites=sites)
    status = 200
    if request.method == "POST":
        form = CanteenForm(request.POST, sites=sites)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            site = get_scoped_or_404(request.user, Site, pk=key_from_text(data["site"]) or 0)
            try:
                canteen = canteen_create(
                    actor=request.user,
                    site=site,
                    name=data["name"],
                    lunch=(data["lunch_from"], data["lunch_until"]),
                    dinner=(data["dinner_from"], data["dinner_until"]),
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(request, _("食堂已设立。"))
                return redirect("canteen:canteen", pk=canteen.pk)
    try:
        report = diner_report(
            actor=request.user,
            unit=unit,
            start=query_date(request.GET.get("start"), "start"),
            end=query_date(request.GET.get("end"), "end"),
        )
    except DomainError as exc:
        label = {"start": _("起始日期"), "end": _("截止日期")}.get(exc.field or "")
        message = _error(exc)
        if label:
            message = _("%(field)s：%(message)s") % {"field": label, "message": message}
        error = message
        status = max(status, 400)
        report = diner_report(actor=request.user, unit=unit)
    chart = {
        "dates": [d["date"].isoformat() for d in report.days],
        "series": [
            {"name": str(Meal(m).label), "data": [d[m] for d in report.days]}
            for m in Meal.values
            if any(d[m] for d in report.days)
        ],
        "age": {"name": _("长者优惠餐"), "data": [d["age_meals"] for d in report.days]},
    }
    return render(
        request,
        "canteen/index.html",
        {
            "unit": unit,
            "units": scoped(request.user, Unit)
            .filter(kind__in=sorted(GRASSROOTS_KINDS))
            .order_by("path")[:300],
            "canteens": canteen_list(actor=request.user, unit=unit)[:200],
            "report": report,
            "chart": chart,
            "sites": sites,
            "form": form,
            "error": error,
        },
        status=status,
    )


# The forms of a canteen's page, by the ``action`` each posts.
CANTEEN_FORMS: dict[str, type[ServiceForm]] = {"dish": DishForm, "rule": RuleForm}


@login_required
def canteen_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A canteen: the week's menus, dishes (add, change), price rules (add, a new
    version, end one) with their history, and today's bills. A refused form comes back
    with its messages and what was typed (the other form empty); an accepted one
    redirects."""
    require_staff(request)
    canteen = canteen_detail(actor=request.user, canteen_id=pk)
    manages = can_manage_canteen(request.user, canteen)
    today = timeutils.local_today()
    dishes = list(dish_list(actor=request.user, canteen=canteen))
    rules = list(rule_list(actor=request.user, canteen=canteen))
    choices: dict[str, dict[str, Any]] = {
        "dish": {"dishes": dishes},
        "rule": {"dishes": dishes, "rules": rules, "today": today},
    }
    forms_ = {action: form_class(**choices[action]) for action, form_class in CANTEEN_FORMS.items()}
    bound: ServiceForm | None = None
    error = ""
    status = 200
    if request.method == "POST":
        if not manages:
            raise Http404
        action = request.POST.get("action", "")
        if action not in CANTEEN_FORMS:
            error, status = _("未知的操作。"), 400
        else:
            bound = forms_[action] = CANTEEN_FORMS[action](request.POST, **choices[action])
            status = 400
            if bound.is_valid():
                try:
                    _canteen_post(request, canteen, action, bound.cleaned_data)
                except DomainError as exc:
                    status = bound.refuse(exc)
                else:
                    messages.success(request, _("已保存。"))
                    return redirect(request.get_full_path())
    start = _date(request.GET.get("week")) or today
    return render(
        request,
        "canteen/canteen.html",
        {
            "canteen": canteen,
            "manages": manages,
            "serves": can_bill(request.user, canteen),
            "week": menu_week(actor=request.user, canteen=canteen, start=start),
            "start": start,
            "prev": start - dt.timedelta(days=7),
            "next": start + dt.timedelta(days=7),
            "dishes": dishes,
            "rules": rules,
            "history": rule_list(actor=request.user, canteen=canteen, history=True)[:50],
            "orders": order_list(actor=request.user, canteen=canteen, day=today).prefetch_related(
                "lines"
            )[:50],
            "dish_form": forms_["dish"],
            "rule_form": forms_["rule"],
            "bound": bound,
            "error": error,
        },
        status=status,
    )


def _canteen_post(
    request: HttpRequest, canteen: Canteen, action: str, data: dict[str, Any]
) -> None:
    if action == "dish":
        dish_save(
            actor=request.user,
            canteen=canteen,
            dish=_own_dish(canteen, data["dish"]),
            name=data["name"],
            kind=data["kind"],
            price_fen=fen(data["price_yuan"]),
            is_active=(data["is_active"] or "1") == "1",
        )
        return
    supersedes = None
    if data["supersedes"]:
        rule_id = key_from_text(data["supersedes"]) or 0
        supersedes = PriceRule.objects.filter(pk=rule_id, canteen=canteen).first()
        if supersedes is None:
            raise ValidationError(_("所选价格规则不存在。"), field="supersedes")
    price_rule_set(
        actor=request.user,
        canteen=canteen,
        group=data["group"],
        target=data["target"],
        dish=_own_dish(canteen, data["dish"]),
        meal=data["meal"],
        price_fen=fen(data["price_yuan"]),
        priority=data["priority"] if data["priority"] is not None else 0,
        valid_from=data["valid_from"] or timeutils.local_today(),
        valid_until=data["valid_until"],
        supersedes=supersedes,
        is_active=(data["is_active"] or "1") == "1",
    )


def _own_dish(canteen: Canteen, raw: str) -> Dish | None:
    """The canteen's dish a form names (none when the field is empty), or the error."""
    if not raw:
        return None
    dish = Dish.objects.filter(pk=key_from_text(raw) or 0, canteen=canteen).first()
    if dish is None:
        raise ValidationError(_("所选菜品不存在。"), field="dish")
    return dish


@login_required
def menu_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish the menu of one meal of one day: dishes and the portions prepared. A
    refused menu comes back with the dishes ticked and the portions typed."""
    require_staff(request)
    canteen = canteen_detail(actor=request.user, canteen_id=pk)
    if not can_manage_canteen(request.user, canteen):
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    day = _date(data.get("date")) or timeutils.local_today()
    meals = _meals(canteen)
    meal = str(data.get("meal") or "")
    if meal not in dict(meals):
        meal = meals[0][0]
    dishes = list(dish_list(actor=request.user, canteen=canteen).filter(is_active=True))
    current = {item.dish_id: item for item in menu_items(canteen, day, meal)}
    form = MenuForm(dishes=dishes, current=current)
    status = 200
    if request.method == "POST":
        form = MenuForm(request.POST, dishes=dishes, current=current)
        status = 400
        if form.is_valid():
            try:
                menu_publish(
                    actor=request.user, canteen=canteen, date=day, meal=meal, items=form.wanted()
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(request, _("菜单已发布。"))
                return redirect(f"{reverse('canteen:canteen', args=[pk])}?week={day.isoformat()}")
    return render(
        request,
        "canteen/menu_edit.html",
        {
            "canteen": canteen,
            "day": day,
            "meal": meal,
            "meals": meals,
            "form": form,
            "rows": [(d, on, portions, current.get(d.pk)) for d, on, portions in form.rows()],
        },
        status=status,
    )


# --- Residents and the public ---------------------------------------------------------------


def public_page(request: HttpRequest) -> HttpResponse:
    """Today's menus of the canteens (of a community, with ``?unit=``), with list prices;
    a signed-in resident also sees the price they would pay and why."""
    day = _date(request.GET.get("date")) or timeutils.local_today()
    unit = None
    if (unit_id := key_from_text(request.GET.get("unit", ""))) is not None:
        unit = get_object_or_404(Unit, pk=unit_id)
    person = own_person(actor=request.user) if request.user.is_authenticated else None
    if unit is None and person is not None:
        from doorstep.points.services import community_of

        try:
            unit = community_of(person.unit)
        except DomainError:
            unit = None
    listing = public_menus(day=day, unit=unit)
    diner = diner_of(person, day)
    yours: dict[tuple[int, str, int], Any] = {}
    if person is not None:
        for entry in listing:
            for _label, meal, items in entry.meals:
                rules = rules_in_force(entry.canteen, day, meal)
                for item in items:
                    quote = price_lines(
                        canteen=entry.canteen, day=day, meal=meal, diner=diner,
                        wanted=[(item.dish, 1)], rules=rules,
                    )  # fmt: skip
                    yours[(entry.canteen.pk, meal, item.dish_id)] = quote.lines[0]
    rows = [
        {
            "canteen": entry.canteen,
            "meals": [
                (
                    label,
                    [(item, yours.get((entry.canteen.pk, meal, item.dish_id))) for item in items],
                )
                for label, meal, items in entry.meals
            ],
        }
        for entry in listing
    ]
    return render(
        request,
        "canteen/public.html",
        {"day": day, "unit": unit, "rows": rows, "signed_in": person is not None},
    )


@login_required
def my_meals(request: HttpRequest) -> HttpResponse:
    """My bills at the canteens: what I ate, what I paid and the rule that priced it."""
    account = own_account(actor=request.user)
    return render(
        request,
        "canteen/my_meals.html",
        {"orders": own_orders(actor=request.user)[:60], "account": account},
    )
