"""Reads of the canteen. Every protected read starts from :func:`scoped`; the public
menus read no personal data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import tickets, timeutils
from doorstep.core.errors import ValidationError
from doorstep.core.tree import per_branch
from doorstep.orgs.models import Unit
from doorstep.people.models import ON_REGISTER, Person
from doorstep.people.selectors import CounterCandidate, counter_candidates
from doorstep.people.services import counter_search
from doorstep.points.selectors import QR_TOKEN_CHARS, QR_TOKEN_LENGTH, counter_find

from .choices import GROUP_AGE, Meal, OrderState
from .models import Canteen, Dish, MealOrder, MealOrderLine, Menu, MenuItem, PriceRule
from .rules import can_bill

DINER_HITS = 8
DINER_TICKET_AGE = tickets.SHIFT
REPORT_DAYS = 370


# --- Canteens, dishes, menus, rules ------------------------------------------------------------


def canteen_list(*, actor: Any, unit: Unit | None = None) -> QuerySet[Canteen]:
    qs = scoped(actor, Canteen).select_related("unit", "site", "outlet")
    if unit is not None:
        qs = qs.filter(unit.subtree_q(field="unit__path"))
    return qs.order_by("unit__path", "name")


def canteen_detail(*, actor: Any, canteen_id: int) -> Canteen:
    return get_scoped_or_404(
        actor,
        Canteen,
        queryset=Canteen.objects.select_related("unit", "site", "outlet"),
        pk=canteen_id,
    )


def counter_canteens(*, actor: Any) -> list[Canteen]:
    """Canteens whose counter the user may serve: a clerk's, or those a manager runs."""
    rows = canteen_list(actor=actor).filter(is_active=True)[:200]
    return [c for c in rows if can_bill(actor, c)]


def dish_list(*, actor: Any, canteen: Canteen) -> QuerySet[Dish]:
    return scoped(actor, Dish).filter(canteen=canteen).order_by("-is_active", "kind", "name")


def menu_items(canteen: Canteen, day: dt.date, meal: str) -> list[MenuItem]:
    """The dishes of one meal of a canteen (menus are public information)."""
    return list(
        MenuItem.objects.filter(
            menu__canteen=canteen, menu__date=day, menu__meal=meal, dish__is_active=True
        )
        .select_related("dish")
        .order_by("dish__kind", "dish__name")
    )


def menu_week(*, actor: Any, canteen: Canteen, start: dt.date) -> list[dict[str, Any]]:
    """Seven days of a canteen's menus from ``start``: per day, per meal, the items."""
    days = [start + dt.timedelta(days=i) for i in range(7)]
    items = (
        MenuItem.objects.filter(
            menu__in=scoped(actor, Menu).filter(
                canteen=canteen, date__gte=days[0], date__lte=days[-1]
            )
        )
        .select_related("dish", "menu")
        .order_by("dish__kind", "dish__name")
    )
    grid: dict[tuple[dt.date, str], list[MenuItem]] = {}
    for item in items:
        grid.setdefault((item.menu.date, item.menu.meal), []).append(item)
    meals = [m for m in Meal.values if canteen.window(m)[0] is not None]
    return [
        {"date": day, "meals": [(Meal(m).label, m, grid.get((day, m), [])) for m in meals]}
        for day in days
    ]


def rule_list(*, actor: Any, canteen: Canteen, history: bool = False) -> QuerySet[PriceRule]:
    """The canteen's rules and those of the units above it; with ``history``, every
    version, else the versions in force or to come."""
    from doorstep.core.tree import ancestor_paths

    qs = scoped(actor, PriceRule).filter(
        Q(canteen=canteen) | Q(unit__path__in=ancestor_paths(canteen.unit.path))
    )
    if not history:
        qs = qs.filter(is_active=True, superseded_by__isnull=True).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=timeutils.local_today())
        )
    return qs.select_related("dish", "unit", "created_by", "supersedes").order_by(
        "-priority", "price_fen", "-id"
    )


# --- The public menus -----------------------------------------------------------------------


@dataclass
class PublicCanteen:
    canteen: Canteen
    meals: list[tuple[str, str, list[MenuItem]]] = field(default_factory=list)


def public_menus(*, day: dt.date, unit: Unit | None = None) -> list[PublicCanteen]:
    """Active canteens (of ``unit``'s subtree) with their menus of ``day``: names,
    dishes, list prices and portions left. No personal data, so no scope."""
    canteens = Canteen.objects.filter(is_active=True).select_related("site", "unit")
    if unit is not None:
        canteens = canteens.filter(unit.subtree_q(field="unit__path"))
    canteens = canteens.order_by("unit__path", "name")[:50]
    items = (
        MenuItem.objects.filter(
            menu__canteen__in=list(canteens), menu__date=day, dish__is_active=True
        )
        .select_related("dish", "menu")
        .order_by("dish__kind", "dish__name")
    )
    by_canteen: dict[int, dict[str, list[MenuItem]]] = {}
    for item in items:
        by_canteen.setdefault(item.menu.canteen_id, {}).setdefault(item.menu.meal, []).append(item)
    out = []
    for canteen in canteens:
        meals = by_canteen.get(canteen.pk, {})
        out.append(
            PublicCanteen(
                canteen,
                [(str(Meal(m).label), m, meals[m]) for m in Meal.values if m in meals],
            )
        )
    return out


# --- The counter: find one diner, never browse ----------------------------------------------


def _salt(canteen: Canteen) -> str:
    return f"canteen.counter:{canteen.pk}"


def diner_ticket(*, actor: Any, canteen: Canteen, person_id: int) -> str:
    """A pass to one diner at one canteen's counter for the user who found them: the
    counter bills by ticket, never by a bare person id."""
    return tickets.issue(actor=actor, salt=_salt(canteen), value=person_id)


def diner_from_ticket(*, actor: Any, canteen: Canteen, ticket: str) -> Person:
    """The person a ticket opens; 404 for a forged, expired or someone else's ticket."""
    if not can_bill(actor, canteen):
        raise Http404
    person_id = tickets.redeem(
        actor=actor, salt=_salt(canteen), ticket=ticket, max_age=DINER_TICKET_AGE
    )
    if person_id is None:
        raise Http404
    person = (
        Person.objects.filter(ON_REGISTER, pk=person_id)
        .filter(canteen.unit.subtree_q(field="unit__path"))
        .select_related("unit")
        .first()
    )
    if person is None:
        raise Http404
    return person


def diner_balance(person: Person) -> int | None:
    """The diner's points balance, for the counter (None: no points account yet)."""
    from doorstep.points.choices import AccountKind
    from doorstep.points.models import Account

    return (
        Account.objects.filter(person=person, kind=AccountKind.RESIDENT)
        .values_list("balance", flat=True)
        .first()
    )


@dataclass(frozen=True)
class DinerHit:
    candidate: CounterCandidate
    ticket: str


def diner_find(*, actor: Any, canteen: Canteen, q: str) -> list[DinerHit]:
    """Residents of the canteen's community matching ``q`` (name, pinyin, phone, or the
    points QR code scanned into the box), at most a handful, masked, each with a ticket.
    A diner needs no points account to get the age price; the registry's counter lookup
    reads only what a till may show."""
    if not can_bill(actor, canteen):
        raise Http404
    text = (q or "").strip()
    if not text:
        raise ValidationError(_("请输入查询内容。"), field="q")
    if len(text) > 40:
        raise ValidationError(_("查询内容过长。"), field="q")
    if len(text) == QR_TOKEN_LENGTH and set(text) <= QR_TOKEN_CHARS and not text.isdigit():
        # counter_find audits the scan (under the canteen's outlet); reading the holder's
        # till line again by id adds nothing to what it recorded.
        hits = counter_find(actor=actor, outlet=canteen.outlet, q=text)
        ids = [hit.account.person_id for hit in hits if hit.account.person_id]
        found = counter_candidates(unit=canteen.unit, person_ids=ids, limit=1) if ids else []
    else:
        found = counter_search(
            actor=actor,
            counter=f"canteen:{canteen.pk}",
            unit=canteen.unit,
            q=text,
            limit=DINER_HITS,
        )
    return [
        DinerHit(c, diner_ticket(actor=actor, canteen=canteen, person_id=c.person_id))
        for c in found
    ]


# --- Orders and reports -------------------------------------------------------------------------


def order_list(
    *, actor: Any, canteen: Canteen | None = None, day: dt.date | None = None
) -> QuerySet[MealOrder]:
    qs = scoped(actor, MealOrder).select_related("canteen", "clerk")
    if canteen is not None:
        qs = qs.filter(canteen=canteen)
    if day is not None:
        qs = qs.filter(date=day)
    return qs.order_by("-id")


def order_detail(*, actor: Any, order_id: int) -> MealOrder:
    return get_scoped_or_404(
        actor,
        MealOrder,
        queryset=MealOrder.objects.select_related(
            "canteen__unit", "canteen__outlet", "person", "clerk", "account", "transfer"
        ).prefetch_related("lines__rule"),
        pk=order_id,
    )


def own_orders(*, actor: Any) -> QuerySet[MealOrder]:
    if not getattr(actor, "is_authenticated", False):
        return MealOrder.objects.none()
    return (
        scoped(actor, MealOrder)
        .filter(person__user_id=actor.pk)
        .select_related("canteen")
        .prefetch_related("lines__rule")
        .order_by("-id")
    )


@dataclass(frozen=True)
class DinerReport:
    start: dt.date
    end: dt.date
    days: list[dict[str, Any]]  # per day: date, per-meal person-times, total, age meals …
    canteens: list[dict[str, Any]]  # per canteen: person-times, age meals, cash, points
    person_times: int
    age_meals: int  # portions sold at an age price (60+ / 80+)
    cash_fen: int
    points: int

    @property
    def days_served(self) -> int:
        return sum(1 for d in self.days if d["total"])

    @property
    def daily_average(self) -> float:
        return self.person_times / self.days_served if self.days_served else 0.0


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    end = end or timeutils.local_today()
    start = start or end - dt.timedelta(days=29)
    if start > end:
        raise ValidationError(_("起始日期不能晚于截止日期。"), field="start")
    if (end - start).days > REPORT_DAYS:
        raise ValidationError(_("统计区间不能超过一年。"), field="start")
    return start, end


def diners_by_branch(*, actor: Any, unit: Unit, start: dt.date, end: dt.date) -> dict[str, int]:
    """``diner_report``'s person-times per unit directly below ``unit`` (keyed by its
    path; ``unit.path`` for canteens at the unit itself). One query."""
    start, end = _period(start, end)
    paid = scoped(actor, MealOrder).filter(state=OrderState.PAID, date__gte=start, date__lte=end)
    rows = per_branch(paid, field="canteen__unit__path", path=unit.path, n=Count("pk"))
    return {branch: row["n"] for branch, row in rows.items()}


def diner_report(
    *,
    actor: Any,
    unit: Unit | None = None,
    canteen: Canteen | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> DinerReport:
    """Diners per day and meal (person-times: one paid bill is one diner at one meal),
    portions sold at an age price, cash and points taken — per canteen, for a canteen
    or a community subtree and a period. Refunded bills do not count."""
    start, end = _period(start, end)
    orders = scoped(actor, MealOrder).filter(state=OrderState.PAID, date__gte=start, date__lte=end)
    lines = scoped(actor, MealOrderLine).filter(
        order__state=OrderState.PAID, order__date__gte=start, order__date__lte=end
    )
    if canteen is not None:
        orders = orders.filter(canteen=canteen)
        lines = lines.filter(order__canteen=canteen)
    if unit is not None:
        orders = orders.filter(unit.subtree_q(field="canteen__unit__path"))
        lines = lines.filter(unit.subtree_q(field="order__canteen__unit__path"))
    age_lines = lines.filter(rule__group__in=[g.value for g in GROUP_AGE])
    per_day_meal = orders.values("date", "meal").annotate(
        n=Count("pk"), cash=Sum("cash_fen"), pts=Sum("points")
    )
    age_per_day = dict(
        age_lines.values("order__date").annotate(n=Sum("quantity")).values_list("order__date", "n")
    )
    days: dict[dt.date, dict[str, Any]] = {}
    day = start
    while day <= end:
        days[day] = {"date": day, "total": 0, "age_meals": age_per_day.get(day, 0) or 0,
                     "cash_fen": 0, "points": 0, **{m: 0 for m in Meal.values}}  # fmt: skip
        day += dt.timedelta(days=1)
    for row in per_day_meal:
        bucket = days[row["date"]]
        bucket[row["meal"]] += row["n"]
        bucket["total"] += row["n"]
        bucket["cash_fen"] += row["cash"] or 0
        bucket["points"] += row["pts"] or 0
    age_by_canteen = dict(
        age_lines.values("order__canteen_id")
        .annotate(n=Sum("quantity"))
        .values_list("order__canteen_id", "n")
    )
    per_canteen = [
        {
            "canteen_id": row["canteen_id"],
            "name": row["canteen__name"],
            "person_times": row["n"],
            "age_meals": age_by_canteen.get(row["canteen_id"], 0) or 0,
            "cash_fen": row["cash"] or 0,
            "points": row["pts"] or 0,
        }
        for row in orders.values("canteen_id", "canteen__name")
        .annotate(n=Count("pk"), cash=Sum("cash_fen"), pts=Sum("points"))
        .order_by("canteen__name")
    ]
    rows = list(days.values())
    return DinerReport(
        start=start,
        end=end,
        days=rows,
        canteens=per_canteen,
        person_times=sum(r["total"] for r in rows),
        age_meals=sum(r["age_meals"] for r in rows),
        cash_fen=sum(r["cash_fen"] for r in rows),
        points=sum(r["points"] for r in rows),
    )
