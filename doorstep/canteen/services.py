"""Writes of the canteen: canteens, dishes, menus, price rules, and meal orders with
their refunds. A meal's price is computed at billing from the registry (age on the meal
date, tags) and the rules in force, and snapshotted on the order line; points go
through the ledger's payment and reversal (docs/adr/0013-canteen-pricing-and-payment.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction
from doorstep.core import timeutils
from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from doorstep.core.inputs import idempotency_key, is_digits, order_lines, short_name
from doorstep.core.tree import ancestor_paths
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.people.selectors import active_tag_codes
from doorstep.points.choices import OutletKind, TransferKind
from doorstep.points.models import Outlet
from doorstep.points.services import (
    body_hash,
    community_of,
    outlet_account,
    outlet_create,
    payment_create,
    resident_account,
    transfer_create,
    transfer_reverse,
)
from doorstep.sites.models import Site

from .choices import (
    ELDERLY_SET_MEAL_FEN,
    GROUP_AGE,
    GROUP_TAG,
    DinerGroup,
    DishKind,
    EventKind,
    Meal,
    OrderState,
    RuleTarget,
)
from .models import (
    Canteen,
    CanteenEvent,
    Dish,
    MealDiscount,
    MealOrder,
    MealOrderLine,
    Menu,
    MenuItem,
    PriceRule,
)
from .rules import can_bill, can_manage_canteen

MAX_FEN = 1_000_000  # ¥10,000: far above any meal, far below any overflow
MAX_QUANTITY = 20
MAX_LINES = 30
MAX_PORTIONS = 10_000
MAX_KEY = 90
SOURCE_TYPE = "canteen.meal_order"


# --- Validation helpers ------------------------------------------------------------------


def _int(value: Any, field: str, *, minimum: int = 1, maximum: int = MAX_FEN) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("请输入整数。"), field=field)
    if not isinstance(value, int):
        text = str(value if value is not None else "").strip()
        digits = text[1:] if text.startswith("-") else text
        if not is_digits(digits):
            raise ValidationError(_("请输入整数。"), field=field)
        value = int(text)
    if value < 0 and minimum >= 0:
        raise ValidationError(_("不能为负数。"), field=field)
    if value < minimum:
        raise ValidationError(_("必须为正整数。"), field=field)
    if value > maximum:
        raise ValidationError(_("数值过大。"), field=field)
    return value


def _name(value: Any, field: str = "name") -> str:
    return short_name(value, field=field)


def _time(value: Any, field: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationError(_("时间格式应为 HH:MM。"), field=field) from None


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return timeutils.local(value).date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD。"), field=field) from None


def _meal(value: Any, canteen: Canteen) -> str:
    meal = str(value or "").strip()
    if meal not in Meal.values:
        raise ValidationError(_("未知的餐次。"), field="meal")
    start, _end = canteen.window(meal)
    if start is None:
        raise ValidationError(_("本食堂不供应该餐次。"), field="meal")
    return meal


def _key(value: Any) -> str:
    return idempotency_key(value, max_length=MAX_KEY)


def _event(
    canteen: Canteen,
    kind: str,
    actor: Any,
    *,
    order: MealOrder | None = None,
    at: dt.datetime | None = None,
    **detail: Any,
) -> CanteenEvent:
    event = CanteenEvent(
        canteen=canteen,
        kind=kind,
        order=order,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=at or timezone.now(),
        detail=detail,
    )
    event.save()
    return event


def _must_manage(actor: Any, canteen: Canteen) -> None:
    if actor is not None and not can_manage_canteen(actor, canteen):
        raise PermissionDenied(_("您无权管理该食堂。"), field="canteen")


def meal_at(canteen: Canteen, moment: dt.datetime) -> str | None:
    """The meal whose window holds ``moment`` (local time), else None."""
    clock = timeutils.local(moment).time()
    for meal in Meal.values:
        start, end = canteen.window(meal)
        if start is not None and end is not None and start <= clock <= end:
            return meal
    return None


# --- Canteens, dishes, menus ---------------------------------------------------------------


@transaction.atomic
def canteen_create(
    *,
    actor: Any,
    site: Site,
    name: str,
    outlet: Outlet | None = None,
    lunch: tuple[Any, Any] = ("11:00", "13:00"),
    dinner: tuple[Any, Any] = ("17:00", "19:00"),
    breakfast: tuple[Any, Any] | None = None,
    discounted_per_meal: Any = 1,
    fen_per_point: Any = 100,
    elderly_price_fen: Any = ELDERLY_SET_MEAL_FEN,
) -> Canteen:
    """A canteen at a site of a community, billed through a canteen outlet: ``outlet``
    when one exists, else a new one opened through the ledger. Starts with the default
    rule that residents aged 60 and over pay ``elderly_price_fen`` for a set lunch or
    dinner (None: no default rule)."""
    name = _name(name)
    unit = community_of(site.unit)
    if actor is not None and not can_manage_canteen(actor, _Place(unit)):
        raise PermissionDenied(_("您无权在该社区设立食堂。"), field="site")
    if outlet is None:
        outlet = outlet_create(
            actor=actor, unit=unit, kind=OutletKind.CANTEEN, name=name, address=site.name
        )
    else:
        if outlet.kind != OutletKind.CANTEEN:
            raise ValidationError(_("只能关联食堂类型的兑换点。"), field="outlet")
        if outlet.unit_id != unit.pk:
            raise ValidationError(_("兑换点须与阵地属于同一社区/村。"), field="outlet")
        if Canteen.objects.filter(outlet=outlet).exists():
            raise ValidationError(_("该兑换点已关联其他食堂。"), field="outlet")
    windows: dict[str, Any] = {}
    for meal, span in (("lunch", lunch), ("dinner", dinner), ("breakfast", breakfast)):
        if span is None:
            continue
        start, end = _time(span[0], f"{meal}_from"), _time(span[1], f"{meal}_until")
        if start >= end:
            raise ValidationError(_("用餐时段的开始时间须早于结束时间。"), field=f"{meal}_from")
        windows[f"{meal}_from"], windows[f"{meal}_until"] = start, end
    canteen = Canteen.objects.create(
        site=site,
        outlet=outlet,
        unit=unit,
        name=name,
        discounted_per_meal=_int(discounted_per_meal, "discounted_per_meal", maximum=10),
        fen_per_point=_int(fen_per_point, "fen_per_point", maximum=10_000),
        **windows,
    )
    _event(canteen, EventKind.CANTEEN_CREATED, actor, outlet=outlet.pk, site=site.pk)
    if elderly_price_fen is not None:
        price_rule_set(
            actor=actor,
            canteen=canteen,
            group=DinerGroup.AGE_60,
            target=RuleTarget.SET_MEALS,
            price_fen=elderly_price_fen,
            valid_from=timeutils.local_today() - dt.timedelta(days=3650),
        )
    return canteen


@dataclass(frozen=True)
class _Place:
    """A stand-in with the ``unit`` the permission predicates look at."""

    unit: Unit


@transaction.atomic
def dish_save(
    *,
    actor: Any,
    canteen: Canteen,
    name: str,
    kind: str,
    price_fen: Any,
    dish: Dish | None = None,
    is_active: bool = True,
) -> Dish:
    """Add a dish to a canteen, or change one (``dish``)."""
    _must_manage(actor, canteen)
    name = _name(name)
    if kind not in DishKind.values:
        raise ValidationError(_("未知的菜品类型。"), field="kind")
    price = _int(price_fen, "price_fen")
    clash = Dish.objects.filter(canteen=canteen, name=name)
    if dish is not None:
        if dish.canteen_id != canteen.pk:
            raise NotFound(_("未找到该菜品。"), field="dish")
        clash = clash.exclude(pk=dish.pk)
    if clash.exists():
        raise ValidationError(_("该食堂已有同名菜品。"), field="name")
    before = None if dish is None else {"name": dish.name, "price_fen": dish.price_fen}
    dish = dish or Dish(canteen=canteen)
    dish.name, dish.kind, dish.price_fen, dish.is_active = name, kind, price, bool(is_active)
    dish.save()
    _event(
        canteen,
        EventKind.DISH_SAVED,
        actor,
        dish=dish.pk,
        name=name,
        price_fen=price,
        before=before,
    )
    return dish


def menu_publish(
    *,
    actor: Any,
    canteen: Canteen,
    date: Any,
    meal: str,
    items: Iterable[tuple[Any, Any]] | Mapping[Any, Any],
) -> Menu:
    """Publish (or re-publish) what a meal of a day serves: dishes with the portions
    prepared (None or "" for as many as asked). A dish already sold stays on the menu
    and its portions cannot go below what was sold."""
    _must_manage(actor, canteen)
    day = _date(date, "date")
    meal = _meal(meal, canteen)
    pairs = items.items() if isinstance(items, Mapping) else items
    wanted: dict[int, int | None] = {}
    for dish_id, portions in pairs:
        pk = _int(dish_id, "items", maximum=2**62)
        wanted[pk] = (
            None
            if portions in (None, "")
            else _int(portions, "items", minimum=0, maximum=MAX_PORTIONS)
        )
    if not wanted:
        raise ValidationError(_("请至少选择一道菜品。"), field="items")
    if len(wanted) > MAX_LINES:
        raise ValidationError(_("菜品过多。"), field="items")
    with transaction.atomic():
        dishes = Dish.objects.filter(canteen=canteen, pk__in=list(wanted), is_active=True)
        if dishes.count() != len(wanted):
            raise ValidationError(_("所选菜品不存在或已停售。"), field="items")
        menu, _created = Menu.objects.get_or_create(canteen=canteen, date=day, meal=meal)
        if getattr(actor, "is_authenticated", False):
            menu.published_by = actor
            menu.save(update_fields=["published_by", "updated_at"])
        current = {item.dish_id: item for item in menu.items.select_for_update()}
        for dish_id, item in current.items():
            if dish_id not in wanted:
                if item.sold:
                    raise ValidationError(
                        _("“%(name)s”已有售出，不能从菜单中移除。") % {"name": item.dish.name},
                        field="items",
                    )
                item.delete()
        for dish_id, portions in wanted.items():
            kept = current.get(dish_id)
            if kept is None:
                MenuItem.objects.create(menu=menu, dish_id=dish_id, portions=portions)
                continue
            if portions is not None and portions < kept.sold:
                raise ValidationError(
                    _("“%(name)s”的供应份数不能少于已售的 %(sold)d 份。")
                    % {"name": kept.dish.name, "sold": kept.sold},
                    field="items",
                )
            if kept.portions != portions:
                kept.portions = portions
                kept.save(update_fields=["portions"])
        _event(
            canteen,
            EventKind.MENU_PUBLISHED,
            actor,
            menu=menu.pk,
            date=day.isoformat(),
            meal=meal,
            items={str(k): v for k, v in sorted(wanted.items())},
        )
    return menu


# --- Price rules ------------------------------------------------------------------------------


@transaction.atomic
def price_rule_set(
    *,
    actor: Any,
    group: str,
    target: str,
    price_fen: Any,
    valid_from: Any,
    canteen: Canteen | None = None,
    unit: Unit | None = None,
    dish: Dish | None = None,
    meal: str = "",
    priority: Any = 0,
    valid_until: Any = None,
    is_active: bool = True,
    supersedes: PriceRule | None = None,
) -> PriceRule:
    """A new price rule, or a new version of one (``supersedes``): rules are never
    edited, so what a diner paid can always be traced to the rule of the day. Ending a
    rule is a version with ``is_active`` False."""
    if (canteen is None) == (unit is None):
        raise ValidationError(_("价格规则须属于一个食堂或一个单元。"), field="canteen")
    if canteen is not None:
        _must_manage(actor, canteen)
    elif actor is not None and not can_manage_canteen(actor, _Place(unit)):  # type: ignore[arg-type]
        raise PermissionDenied(_("您无权设置该单元的价格规则。"), field="unit")
    if group not in DinerGroup.values:
        raise ValidationError(_("未知的适用人群。"), field="group")
    if target not in RuleTarget.values:
        raise ValidationError(_("未知的适用菜品。"), field="target")
    if target == RuleTarget.DISH:
        if dish is None:
            raise ValidationError(_("指定菜品的规则须选择菜品。"), field="dish")
        if canteen is None or dish.canteen_id != canteen.pk:
            raise ValidationError(_("所选菜品不属于该食堂。"), field="dish")
    else:
        dish = None
    if meal and meal not in Meal.values:
        raise ValidationError(_("未知的餐次。"), field="meal")
    price = _int(price_fen, "price_fen", minimum=0)
    rank = _int(priority, "priority", minimum=-100, maximum=100)
    start = _date(valid_from, "valid_from")
    end = None if valid_until in (None, "") else _date(valid_until, "valid_until")
    if end is not None and end < start:
        raise ValidationError(_("截止日期不能早于起始日期。"), field="valid_until")
    if supersedes is not None:
        locked = PriceRule.objects.select_for_update().get(pk=supersedes.pk)
        if PriceRule.objects.filter(supersedes=locked).exists():
            raise Conflict(_("该规则已有更新的版本，请刷新后再改。"), field="supersedes")
        if (locked.canteen_id, locked.unit_id) != (
            getattr(canteen, "pk", None),
            getattr(unit, "pk", None),
        ):
            raise ValidationError(_("新版本须属于原规则的食堂或单元。"), field="supersedes")
    rule = PriceRule(
        canteen=canteen,
        unit=unit,
        group=group,
        target=target,
        dish=dish,
        meal=meal,
        price_fen=price,
        priority=rank,
        valid_from=start,
        valid_until=end,
        is_active=bool(is_active),
        supersedes=supersedes,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise Conflict(_("该规则已有更新的版本，请刷新后再改。"), field="supersedes") from None
    for place in (
        [canteen]
        if canteen is not None
        else Canteen.objects.filter(
            unit.subtree_q(field="unit__path")  # type: ignore[union-attr]
        )[:50]
    ):
        _event(
            place,
            EventKind.RULE_SET,
            actor,
            rule=rule.pk,
            supersedes=getattr(supersedes, "pk", None),
            group=group,
            target=target,
            dish=getattr(dish, "pk", None),
            price_fen=price,
            is_active=rule.is_active,
        )
    return rule


def rules_in_force(canteen: Canteen, day: dt.date, meal: str) -> list[PriceRule]:
    """Rules of the canteen and of the units above it that apply on ``day`` at ``meal``:
    the active versions nobody superseded."""
    return list(
        PriceRule.objects.filter(
            Q(canteen=canteen) | Q(unit__path__in=ancestor_paths(canteen.unit.path)),
            Q(valid_until__isnull=True) | Q(valid_until__gte=day),
            Q(meal="") | Q(meal=meal),
            is_active=True,
            superseded_by__isnull=True,
            valid_from__lte=day,
        ).order_by("-priority", "price_fen", "id")
    )


# --- Pricing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Diner:
    """What pricing reads of a registry person: the age on the meal date, the tags."""

    person: Person | None
    age: int | None
    tags: frozenset[str]

    def is_in(self, group: str) -> bool:
        if group == DinerGroup.ALL:
            return True
        if self.person is None:
            return False
        if group in GROUP_AGE:
            return self.age is not None and self.age >= GROUP_AGE[DinerGroup(group)]
        return GROUP_TAG.get(DinerGroup(group)) in self.tags


def diner_of(person: Person | None, day: dt.date) -> Diner:
    if person is None:
        return Diner(None, None, frozenset())
    tags = active_tag_codes([person.pk]).get(person.pk, frozenset())
    return Diner(person, person.age_on(day), tags)


@dataclass(frozen=True)
class PricedLine:
    dish: Dish
    quantity: int
    unit_price_fen: int
    rule: PriceRule | None
    discounted: bool  # counts against the person's discounted portions of the meal

    @property
    def total_fen(self) -> int:
        return self.quantity * self.unit_price_fen

    @property
    def rule_label(self) -> str:
        return self.rule.label if self.rule is not None else ""


@dataclass(frozen=True)
class Quote:
    """What a diner pays for a meal, line by line, and which rule set each price."""

    canteen: Canteen
    date: dt.date
    meal: str
    diner: Diner
    lines: list[PricedLine]
    discounts_left: int  # discounted portions still open to the person at this meal

    @property
    def total_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)

    @property
    def list_total_fen(self) -> int:
        return sum(line.quantity * line.dish.price_fen for line in self.lines)

    @property
    def max_points(self) -> int:
        return self.total_fen // self.canteen.fen_per_point


def _applies(rule: PriceRule, dish: Dish) -> bool:
    if rule.target == RuleTarget.DISH:
        return rule.dish_id == dish.pk
    return dish.kind == DishKind.SET_MEAL


def discounts_used(canteen: Canteen, person: Person | None, day: dt.date, meal: str) -> int:
    if person is None:
        return 0
    return MealDiscount.objects.filter(
        canteen=canteen, person=person, date=day, meal=meal, released=False
    ).count()


def price_lines(
    *,
    canteen: Canteen,
    day: dt.date,
    meal: str,
    diner: Diner,
    wanted: list[tuple[Dish, int]],
    rules: list[PriceRule] | None = None,
    used: int | None = None,
) -> Quote:
    """Price each dish for the diner: the lowest applicable price wins (list price, a
    rule for all diners, a rule of the diner's group). A group price holds for at most
    the canteen's discounted portions per person and meal (one by default), so a
    resident cannot buy discounted meals for others; further portions pay the best
    price open to everyone."""
    rules = rules if rules is not None else rules_in_force(canteen, day, meal)
    if used is None:
        used = discounts_used(canteen, diner.person, day, meal)
    left = max(0, canteen.discounted_per_meal - used)
    plans = []
    for dish, quantity in wanted:
        base_price, base_rule = dish.price_fen, None
        group_price, group_rule = dish.price_fen, None
        for rule in rules:  # ordered by priority, then price: the first of a price wins
            if not _applies(rule, dish) or not diner.is_in(rule.group):
                continue
            if rule.group == DinerGroup.ALL:
                if rule.price_fen < base_price:
                    base_price, base_rule = rule.price_fen, rule
            elif rule.price_fen < group_price:
                group_price, group_rule = rule.price_fen, rule
        plans.append((dish, quantity, base_price, base_rule, group_price, group_rule))
    lines: list[PricedLine] = []
    # The discounted portions go where they save the diner most.
    for dish, quantity, base_price, base_rule, group_price, group_rule in sorted(
        plans, key=lambda p: (p[4] - p[2], p[0].pk)
    ):
        if group_rule is not None and group_price < base_price and left > 0:
            n = min(quantity, left)
            left -= n
            lines.append(PricedLine(dish, n, group_price, group_rule, True))
            quantity -= n
        if quantity:
            lines.append(PricedLine(dish, quantity, base_price, base_rule, False))
    lines.sort(
        key=lambda line: (line.dish.kind != DishKind.SET_MEAL, line.dish.name, line.unit_price_fen)
    )
    return Quote(canteen, day, meal, diner, lines, left)


def _wanted(items: Iterable[tuple[Any, Any]] | Mapping[Any, Any]) -> dict[int, int]:
    return order_lines(
        items,
        parse_id=lambda value: _int(value, "items", maximum=2**62),
        parse_quantity=lambda value: _int(value, "items", maximum=MAX_QUANTITY),
        max_lines=MAX_LINES,
        empty=_("请选择菜品。"),
        too_many=_("一次点的菜品种类过多。"),
    )


def _menu_dishes(
    canteen: Canteen, day: dt.date, meal: str, wanted: dict[int, int]
) -> list[tuple[Dish, int, MenuItem]]:
    known = Dish.objects.filter(canteen=canteen, pk__in=list(wanted)).in_bulk()
    if len(known) != len(wanted):
        raise ValidationError(_("所选菜品不存在。"), field="items")
    on_menu = {
        item.dish_id: item
        for item in MenuItem.objects.filter(
            menu__canteen=canteen, menu__date=day, menu__meal=meal, dish_id__in=list(wanted)
        )
    }
    rows = []
    for pk in sorted(wanted):
        dish = known[pk]
        item = on_menu.get(pk)
        if item is None or not dish.is_active:
            raise ValidationError(
                _("“%(name)s”不在本餐菜单上。") % {"name": dish.name}, field="items"
            )
        if item.portions is not None and item.portions - item.sold < wanted[pk]:
            raise _sold_out(dish, item)
        rows.append((dish, wanted[pk], item))
    return rows


def _sold_out(dish: Dish, item: MenuItem) -> ValidationError:
    left = max(0, (item.portions or 0) - item.sold)
    return ValidationError(
        _("“%(name)s”已售罄（剩余 %(left)d 份）。") % {"name": dish.name, "left": left},
        field="items",
        code="sold_out",
    )


def order_quote(
    *,
    canteen: Canteen,
    meal: str,
    items: Iterable[tuple[Any, Any]] | Mapping[Any, Any],
    person: Person | None = None,
    date: Any = None,
) -> Quote:
    """What the diner would pay for these dishes now, and why: nothing is written."""
    day = timeutils.local_today() if date in (None, "") else _date(date, "date")
    meal = _meal(meal, canteen)
    rows = _menu_dishes(canteen, day, meal, _wanted(items))
    return price_lines(
        canteen=canteen,
        day=day,
        meal=meal,
        diner=diner_of(person, day),
        wanted=[(dish, quantity) for dish, quantity, _item in rows],
    )


# --- Orders -----------------------------------------------------------------------------------


def _replay(key: str, digest: str) -> MealOrder | None:
    existing = MealOrder.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if existing.body_hash != digest:
        raise Conflict(
            _("该幂等键已用于另一笔不同的请求。"),
            field="idempotency_key",
            code="idempotency_conflict",
        )
    return existing


def _source_id(key: str) -> str:
    return key if len(key) <= 40 else hashlib.sha1(key.encode()).hexdigest()  # noqa: S324


def order_create(
    *,
    actor: Any,
    canteen: Canteen,
    meal: str,
    items: Iterable[tuple[Any, Any]] | Mapping[Any, Any],
    idempotency_key: str,
    person: Person | None = None,
    points: Any = 0,
    cash_fen: Any = None,
    date: Any = None,
    at: dt.datetime | None = None,
) -> MealOrder:
    """Bill a meal at the counter: price every line from the registry and the rules,
    take the portions off the menu, take ``points`` through the ledger (a payment from
    the resident's account to the canteen's outlet) and the rest in cash — all in one
    transaction, or nothing. ``cash_fen``, when given, must be what remains after the
    points. The same key again returns the first bill; the same key for another bill is
    refused. ``actor`` None is the system loading historical books (the demo); ``at``
    backdates only for it."""
    if actor is None and at is None:
        raise PermissionDenied(_("您不能在此食堂收款。"), field="canteen")
    if actor is not None and not can_bill(actor, canteen):
        raise PermissionDenied(_("您不能在此食堂收款。"), field="canteen")
    if not canteen.is_active:
        raise ValidationError(_("该食堂已停业。"), field="canteen")
    moment = at if actor is None and at is not None else timezone.now()
    today = timeutils.local(moment).date()
    day = today if date in (None, "") else _date(date, "date")
    if day != today:
        raise ValidationError(_("只能为当天的餐次收款。"), field="date")
    meal = _meal(meal, canteen)
    if person is not None and person.left_on is not None:
        raise ValidationError(_("该居民已迁出或去世，不在册。"), field="person")
    if person is not None and (
        person.pseudonymized_at is not None or not person.unit.path.startswith(canteen.unit.path)
    ):
        raise ValidationError(_("该居民不属于本食堂所在的社区/村。"), field="person")
    wanted = _wanted(items)
    paid_points = _int(points, "points", minimum=0, maximum=MAX_FEN)
    cash_given = None if cash_fen in (None, "") else _int(cash_fen, "cash_fen", minimum=0)
    if paid_points and person is None:
        raise ValidationError(_("散客不能使用积分付款。"), field="points")
    key = "meal:" + _key(idempotency_key)
    digest = body_hash(
        {
            "canteen": canteen.pk,
            "date": day.isoformat(),
            "meal": meal,
            "person": getattr(person, "pk", None),
            "items": sorted(wanted.items()),
            "points": paid_points,
            "cash_fen": cash_given,
        }
    )
    existing = _replay(key, digest)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _order_insert(
                actor=actor,
                canteen=canteen,
                day=day,
                meal=meal,
                person=person,
                wanted=wanted,
                paid_points=paid_points,
                cash_given=cash_given,
                key=key,
                digest=digest,
                moment=moment,
                backdated=actor is None,
            )
    except IntegrityError:
        existing = _replay(key, digest)
        if existing is not None:
            return existing
        raise ValidationError(
            _("该就餐者本餐的优惠份数已用完。"), field="items", code="discount_used"
        ) from None


def _order_insert(
    *,
    actor: Any,
    canteen: Canteen,
    day: dt.date,
    meal: str,
    person: Person | None,
    wanted: dict[int, int],
    paid_points: int,
    cash_given: int | None,
    key: str,
    digest: str,
    moment: dt.datetime,
    backdated: bool,
) -> MealOrder:
    rows = _menu_dishes(canteen, day, meal, wanted)
    quote = price_lines(
        canteen=canteen,
        day=day,
        meal=meal,
        diner=diner_of(person, day),
        wanted=[(dish, quantity) for dish, quantity, _item in rows],
    )
    total = quote.total_fen
    points_fen = paid_points * canteen.fen_per_point
    if points_fen > total:
        raise ValidationError(
            _("积分抵扣不能超过应付金额（最多 %(max)d 积分）。") % {"max": quote.max_points},
            field="points",
        )
    cash = total - points_fen
    if cash_given is not None and cash_given != cash:
        raise ValidationError(
            _("现金应为 ¥%(cash).2f（应付 ¥%(total).2f，积分抵扣 ¥%(points).2f）。")
            % {"cash": cash / 100, "total": total / 100, "points": points_fen / 100},
            field="cash_fen",
        )
    # Portions first: a sold-out dish refuses the bill before any point moves.
    for dish, quantity, item in rows:
        if item.portions is not None:
            taken = MenuItem.objects.filter(pk=item.pk, sold__lte=F("portions") - quantity).update(
                sold=F("sold") + quantity
            )
        else:
            taken = MenuItem.objects.filter(pk=item.pk).update(sold=F("sold") + quantity)
        if taken != 1:
            item.refresh_from_db(fields=["sold", "portions"])
            raise _sold_out(dish, item)
    account = transfer = None
    if paid_points and person is not None:
        account = resident_account(person=person)
        reason = _("%(canteen)s %(date)s %(meal)s 就餐") % {
            "canteen": canteen.name,
            "date": day.isoformat(),
            "meal": Meal(meal).label,
        }
        try:
            if backdated:
                transfer = transfer_create(
                    debit=account,
                    credit=outlet_account(canteen.outlet),
                    amount=paid_points,
                    kind=TransferKind.PAYMENT,
                    reason=reason,
                    idempotency_key="pay:" + key,
                    unit=canteen.unit,
                    source_type=SOURCE_TYPE,
                    source_id=_source_id(key),
                    at=moment,
                )
            else:
                transfer = payment_create(
                    actor=actor,
                    outlet=canteen.outlet,
                    account=account,
                    amount=paid_points,
                    reason=reason,
                    idempotency_key=key,
                    source_type=SOURCE_TYPE,
                    source_id=_source_id(key),
                )
        except ValidationError as exc:
            if exc.code == "insufficient_points":
                raise ValidationError(
                    _("积分余额不足（可用 %(balance)d）。") % {"balance": account.balance},
                    field="points",
                    code="insufficient_points",
                ) from None
            raise
    order = MealOrder(
        canteen=canteen,
        date=day,
        meal=meal,
        person=person,
        total_fen=total,
        cash_fen=cash,
        points=paid_points,
        points_fen=points_fen,
        account=account,
        transfer=transfer,
        clerk=actor if getattr(actor, "is_authenticated", False) else None,
        idempotency_key=key,
        body_hash=digest,
        created_at=moment,
    )
    order.save()
    needed = sum(line.quantity for line in quote.lines if line.discounted)
    free: list[int] = []
    if needed and person is not None:
        # The lowest free slots of the person's meal. Slots run 1..limit, so the unique
        # index on an active slot caps the discounted portions even when two counters
        # price the same person at once (the later insert fails and is refused).
        held = set(
            MealDiscount.objects.filter(
                canteen=canteen, person=person, date=day, meal=meal, released=False
            ).values_list("slot", flat=True)
        )
        free = [n for n in range(1, canteen.discounted_per_meal + 1) if n not in held]
        if len(free) < needed:
            raise ValidationError(
                _("该就餐者本餐的优惠份数已用完。"), field="items", code="discount_used"
            )
    for line in quote.lines:
        row = MealOrderLine.objects.create(
            order=order,
            dish=line.dish,
            name=line.dish.name,
            quantity=line.quantity,
            list_price_fen=line.dish.price_fen,
            unit_price_fen=line.unit_price_fen,
            rule=line.rule,
            rule_label=line.rule_label,
            total_fen=line.total_fen,
        )
        if line.discounted and person is not None:
            MealDiscount.objects.bulk_create(
                MealDiscount(
                    line=row,
                    canteen=canteen,
                    person=person,
                    date=day,
                    meal=meal,
                    slot=free.pop(0),
                )
                for _i in range(line.quantity)
            )
    _event(
        canteen,
        EventKind.ORDER_PAID,
        actor,
        order=order,
        at=moment,
        total_fen=total,
        cash_fen=cash,
        points=paid_points,
        lines=[
            [line.dish.pk, line.quantity, line.unit_price_fen, getattr(line.rule, "pk", None)]
            for line in quote.lines
        ],
    )
    return order


def order_refund(
    *, actor: Any, order: MealOrder, reason: str, request: HttpRequest | None = None
) -> MealOrder:
    """Undo a bill (a meal not served, a wrong dish rung up): the points go back through
    the ledger's reversing transfer, the cash is recorded as handed back, the portions
    return to the menu and the discounted portions are freed — in one transaction,
    audited. Refunding a refunded bill returns it unchanged."""
    canteen = order.canteen
    if not can_manage_canteen(actor, canteen):
        raise PermissionDenied(_("您无权为该食堂办理退款。"), field="order")
    text = str(reason or "").strip()
    if not text:
        raise ValidationError(_("请填写退款事由。"), field="reason")
    if len(text) > 200:
        raise ValidationError(_("事由不能超过200字。"), field="reason")
    with transaction.atomic():
        locked = MealOrder.objects.select_for_update().get(pk=order.pk)
        if locked.state == OrderState.REFUNDED:
            return locked
        reversal = None
        if locked.transfer_id is not None:
            reversal = transfer_reverse(
                actor=actor,
                transfer=locked.transfer,  # type: ignore[arg-type]
                reason=text,
                idempotency_key=f"refund-meal:{locked.pk}",
                request=request,
            )
        lines = list(locked.lines.all())
        for line in lines:
            MenuItem.objects.filter(
                menu__canteen=canteen,
                menu__date=locked.date,
                menu__meal=locked.meal,
                dish_id=line.dish_id,
            ).update(sold=F("sold") - line.quantity)
        MealDiscount.objects.filter(line__in=lines, released=False).update(released=True)
        locked.state = OrderState.REFUNDED
        locked.refund_transfer = reversal
        locked.cash_refunded_fen = locked.cash_fen
        locked.save(update_fields=["state", "refund_transfer", "cash_refunded_fen"])
        _event(
            canteen,
            EventKind.ORDER_REFUNDED,
            actor,
            order=locked,
            reason=text,
            cash_fen=locked.cash_fen,
            points=locked.points,
            reversal=getattr(reversal, "pk", None),
        )
        audit_record(
            action=AuditAction.CANTEEN_REFUNDED,
            actor=actor,
            obj=locked,
            request=request,
            detail={
                "op": "meal_refund",
                "order": locked.pk,
                "cash_fen": locked.cash_fen,
                "points": locked.points,
                "reason": text,
            },
        )
    return locked


# --- Historical books ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PastBill:
    """One cash bill of a canteen's past books (a paper register, the demo's history)."""

    at: dt.datetime
    meal: str
    items: Mapping[int, int]
    person: Person | None = None


def orders_load(*, canteen: Canteen, bills: list[PastBill], key_prefix: str) -> int:
    """Load past cash bills in bulk, all or none: each priced by the rules of its day as
    :func:`order_create` prices it (the age on the meal date, the tags, one discounted
    portion per person and meal), on that day's menu, portions and discounted portions
    counted, one event for the register. Points are never loaded this way: they move only through
    :func:`order_create` and the ledger. A bad bill is refused with its line number."""
    if not bills:
        return 0
    prefix = f"meal:{_key(key_prefix)}#"
    with transaction.atomic():
        if MealOrder.objects.filter(idempotency_key__startswith=prefix).exists():
            raise Conflict(_("该账目已经载入。"), field="key_prefix", code="already_loaded")
        dishes = Dish.objects.filter(canteen=canteen).in_bulk()
        days = {timeutils.local(bill.at).date() for bill in bills}
        items = {
            (item.menu.date, item.menu.meal, item.dish_id): item
            for item in MenuItem.objects.filter(
                menu__canteen=canteen, menu__date__in=sorted(days)
            ).select_related("menu")
        }
        person_ids = {bill.person.pk for bill in bills if bill.person is not None}
        tags = active_tag_codes(person_ids)
        active: dict[tuple[int, dt.date, str], set[int]] = {}
        for person_id, day, meal, slot_no in MealDiscount.objects.filter(
            canteen=canteen, date__in=sorted(days), released=False
        ).values_list("person_id", "date", "meal", "slot"):
            active.setdefault((person_id, day, meal), set()).add(slot_no)
        used = {key: len(taken) for key, taken in active.items()}
        rules: dict[tuple[dt.date, str], list[PriceRule]] = {}
        sold: dict[int, int] = {}
        orders: list[MealOrder] = []
        priced: list[Quote] = []
        for number, bill in enumerate(bills, start=1):
            day = timeutils.local(bill.at).date()
            if bill.meal not in Meal.values or not bill.items:
                raise ValidationError(
                    _("第 %(n)d 笔：餐次或菜品有误。") % {"n": number}, field="bills"
                )
            wanted = []
            for dish_id, quantity in sorted(bill.items.items()):
                item = items.get((day, bill.meal, dish_id))
                if item is None or dish_id not in dishes or quantity <= 0:
                    raise ValidationError(
                        _("第 %(n)d 笔：菜品不在当餐菜单上。") % {"n": number}, field="bills"
                    )
                sold[item.pk] = sold.get(item.pk, 0) + quantity
                wanted.append((dishes[dish_id], quantity))
            person = bill.person
            diner = (
                Diner(None, None, frozenset())
                if person is None
                else Diner(person, person.age_on(day), tags.get(person.pk, frozenset()))
            )
            slot = (getattr(person, "pk", 0), day, bill.meal)
            if (day, bill.meal) not in rules:
                rules[(day, bill.meal)] = rules_in_force(canteen, day, bill.meal)
            quote = price_lines(
                canteen=canteen,
                day=day,
                meal=bill.meal,
                diner=diner,
                wanted=wanted,
                rules=rules[(day, bill.meal)],
                used=used.get(slot, 0),
            )
            used[slot] = used.get(slot, 0) + sum(p.quantity for p in quote.lines if p.discounted)
            priced.append(quote)
            orders.append(
                MealOrder(
                    canteen=canteen,
                    date=day,
                    meal=bill.meal,
                    person=person,
                    total_fen=quote.total_fen,
                    cash_fen=quote.total_fen,
                    idempotency_key=f"{prefix}{number}",
                    body_hash=body_hash({"load": key_prefix, "n": number}),
                    created_at=bill.at,
                )
            )
        for item_id, quantity in sold.items():
            taken = MenuItem.objects.filter(
                Q(portions__isnull=True) | Q(sold__lte=F("portions") - quantity), pk=item_id
            ).update(sold=F("sold") + quantity)
            if taken != 1:
                raise ValidationError(_("供应份数不足以载入这些账目。"), field="bills")
        MealOrder.objects.bulk_create(orders, batch_size=500)
        lines = [
            (
                MealOrderLine(
                    order=order,
                    dish=line.dish,
                    name=line.dish.name,
                    quantity=line.quantity,
                    list_price_fen=line.dish.price_fen,
                    unit_price_fen=line.unit_price_fen,
                    rule=line.rule,
                    rule_label=line.rule_label,
                    total_fen=line.total_fen,
                ),
                line,
                order,
            )
            for order, quote in zip(orders, priced, strict=True)
            for line in quote.lines
        ]
        MealOrderLine.objects.bulk_create([row for row, _l, _o in lines], batch_size=500)
        claims: list[MealDiscount] = []
        for row, line, order in lines:
            if not line.discounted or order.person is None:
                continue
            held = active.setdefault((order.person.pk, order.date, order.meal), set())
            for _i in range(line.quantity):
                slot_no = min(set(range(1, len(held) + 2)) - held)
                held.add(slot_no)
                claims.append(
                    MealDiscount(
                        line=row,
                        canteen=canteen,
                        person=order.person,
                        date=order.date,
                        meal=order.meal,
                        slot=slot_no,
                    )
                )
        MealDiscount.objects.bulk_create(claims, batch_size=500)
        # One event for the register loaded (as an import is one act), naming its bills.
        _event(
            canteen,
            EventKind.ORDER_PAID,
            None,
            at=max(order.created_at for order in orders),
            load=key_prefix,
            orders=len(orders),
            first=orders[0].pk,
            last=orders[-1].pk,
            total_fen=sum(order.total_fen for order in orders),
        )
    return len(orders)
