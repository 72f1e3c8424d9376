"""Pricing from the registry and the rules, orders paid in cash and points through the
ledger, refunds, and every refusal leaving everything as it was."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import translation

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError
from doorstep.orgs.services import unit_create
from doorstep.points.checking import ledger_check
from doorstep.points.choices import OutletKind, TransferKind
from doorstep.points.models import Account, Transfer
from doorstep.points.services import outlet_create

from ..choices import DinerGroup, Meal, OrderState, RuleTarget
from ..models import CanteenEvent, MealDiscount, MealOrder, MenuItem, PriceRule
from ..services import (
    canteen_create,
    diner_of,
    dish_save,
    menu_publish,
    order_create,
    order_quote,
    order_refund,
    price_rule_set,
)
from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db: Any) -> dict[str, Any]:
    city = unit_create(kind="city", name="白银市", code="620400", lat=36.5, lng=104.1)
    district = unit_create(kind="district", name="白银区", code="620402", parent=city)
    street = unit_create(kind="street", name="人民路街道", code="620402001000", parent=district)
    community = unit_create(kind="community", name="颐和社区", code="620402001001", parent=street)
    compound = unit_create(kind="compound", name="棉纺厂小区", parent=community)
    other = unit_create(kind="community", name="四龙社区", code="620402001002", parent=street)
    canteen = f.canteen(community, "颐和食堂")
    dishes = f.dishes(canteen)
    f.menu(canteen, dishes)
    clerk = make_user("canteen_clerk", Role.OUTLET_CLERK, canteen.outlet)
    staff = make_user("yihe_staff", Role.COMMUNITY_STAFF, community)
    return {
        "street": street,
        "community": community,
        "compound": compound,
        "other": other,
        "canteen": canteen,
        "dishes": dishes,
        "clerk": clerk,
        "staff": staff,
    }


def _quote(place: dict[str, Any], person: Any, **items: int) -> Any:
    dishes = place["dishes"]
    return order_quote(
        canteen=place["canteen"],
        meal=Meal.LUNCH,
        items={dishes[k].pk: n for k, n in items.items()},
        person=person,
    )


def _state() -> tuple[Any, ...]:
    """Everything a refused order must leave as it was."""
    return (
        MealOrder.objects.count(),
        MealDiscount.objects.count(),
        Transfer.objects.count(),
        tuple(Account.objects.order_by("pk").values_list("balance", flat=True)),
        tuple(MenuItem.objects.order_by("pk").values_list("sold", flat=True)),
        CanteenEvent.objects.count(),
    )


# --- Pricing ---------------------------------------------------------------------------------


def test_new_canteen_is_an_outlet_with_the_default_elderly_price(place: dict[str, Any]) -> None:
    canteen = place["canteen"]
    assert canteen.outlet.kind == OutletKind.CANTEEN
    assert canteen.unit == place["community"]
    rule = PriceRule.objects.get(canteen=canteen)
    assert (rule.group, rule.target, rule.price_fen) == (
        DinerGroup.AGE_60,
        RuleTarget.SET_MEALS,
        1000,
    )
    assert rule.label == "60岁以上 ¥10"


def test_sixty_plus_pays_ten_yuan_for_a_set_meal_and_list_price_for_a_dish(
    place: dict[str, Any],
) -> None:
    elder = f.resident(place["compound"], "王秀英", age=72)
    quote = _quote(place, elder, set=1, noodles=1)
    prices = {(line.dish.name, line.unit_price_fen, line.rule_label) for line in quote.lines}
    assert prices == {("荤素套餐", 1000, "60岁以上 ¥10"), ("牛肉面", 1200, "")}
    assert quote.total_fen == 2200


@pytest.mark.parametrize(
    "days,expected", [(0, 1000), (1, 1800), (-1, 1000)], ids=["birthday", "eve", "day-after"]
)
def test_sixty_counts_from_the_sixtieth_birthday_in_shanghai(
    place: dict[str, Any], days: int, expected: int
) -> None:
    """Turning 60 today gets the price; turning 60 tomorrow does not."""
    person = f.resident(place["compound"], "李建国", born=f.born_years_ago(60, days=days))
    assert _quote(place, person, set=1).total_fen == expected


def test_walk_in_and_unknown_age_pay_the_list_price(place: dict[str, Any]) -> None:
    assert _quote(place, None, set=1).total_fen == 1800
    unknown = f.resident(place["compound"], "赵无名")
    assert _quote(place, unknown, set=1).total_fen == 1800


def test_tags_and_lowest_price_win(place: dict[str, Any]) -> None:
    canteen = place["canteen"]
    price_rule_set(
        actor=None, canteen=canteen, group=DinerGroup.DISABILITY, target=RuleTarget.SET_MEALS,
        price_fen=800, valid_from=f.today(),
    )  # fmt: skip
    price_rule_set(
        actor=None, unit=place["street"], group=DinerGroup.AGE_80, target=RuleTarget.SET_MEALS,
        price_fen=500, valid_from=f.today(),
    )  # fmt: skip
    disabled = f.resident(place["compound"], "孙残", age=40, tags=["disability"])
    line = _quote(place, disabled, set=1).lines[0]
    assert (line.unit_price_fen, line.rule.group) == (800, DinerGroup.DISABILITY)
    # 60+ and disability: the lower of ¥10 and ¥8.
    both = f.resident(place["compound"], "钱两", age=65, tags=["disability"])
    assert _quote(place, both, set=1).total_fen == 800
    # 80+ gets the street's ¥5 rule, lower than the canteen's ¥10.
    old = f.resident(place["compound"], "周老", age=85)
    line = _quote(place, old, set=1).lines[0]
    assert (line.unit_price_fen, line.rule_label) == (500, "80岁以上 ¥5")


def test_a_rule_for_all_diners_and_a_dish_rule(place: dict[str, Any]) -> None:
    canteen, dishes = place["canteen"], place["dishes"]
    price_rule_set(
        actor=None, canteen=canteen, group=DinerGroup.ALL, target=RuleTarget.DISH,
        dish=dishes["noodles"], price_fen=1000, valid_from=f.today(),
    )  # fmt: skip
    assert _quote(place, None, noodles=2).total_fen == 2000  # no per-meal limit for all


def test_one_discounted_set_meal_per_person_per_meal(place: dict[str, Any]) -> None:
    """A resident cannot buy ten discounted meals for others: one at ¥10, the rest at
    the list price; and a second bill at the same meal pays the list price."""
    elder = f.resident(place["compound"], "王秀英", age=72)
    quote = _quote(place, elder, set=3)
    assert sorted((line.quantity, line.unit_price_fen) for line in quote.lines) == [
        (1, 1000),
        (2, 1800),
    ]
    dishes = place["dishes"]
    order_create(
        actor=place["clerk"], canteen=place["canteen"], meal=Meal.LUNCH,
        items={dishes["set"].pk: 1}, person=elder, idempotency_key="first",
    )  # fmt: skip
    assert _quote(place, elder, set_light=1).total_fen == 1500
    # Dinner is another meal.
    dinner = order_quote(
        canteen=place["canteen"], meal=Meal.DINNER, items={dishes["set"].pk: 1}, person=elder
    )
    assert dinner.total_fen == 1000


def test_discounted_portions_per_meal_are_configurable(place: dict[str, Any]) -> None:
    site = f.site(place["community"])
    canteen = canteen_create(
        actor=None, site=site, name="第二食堂", lunch=f.ALL_DAY, dinner=f.EVENING,
        discounted_per_meal=2,
    )  # fmt: skip
    dish = dish_save(actor=None, canteen=canteen, name="套餐", kind="set_meal", price_fen=1600)
    menu_publish(
        actor=None, canteen=canteen, date=f.today(), meal=Meal.LUNCH, items={dish.pk: None}
    )
    elder = f.resident(place["compound"], "王秀英", age=72)
    quote = order_quote(canteen=canteen, meal=Meal.LUNCH, items={dish.pk: 3}, person=elder)
    assert quote.total_fen == 1000 * 2 + 1600


def test_rules_are_versions_never_edits(place: dict[str, Any]) -> None:
    canteen = place["canteen"]
    first = PriceRule.objects.get(canteen=canteen)
    second = price_rule_set(
        actor=place["staff"], canteen=canteen, group=DinerGroup.AGE_60,
        target=RuleTarget.SET_MEALS, price_fen=900, valid_from=f.today(), supersedes=first,
    )  # fmt: skip
    elder = f.resident(place["compound"], "王秀英", age=72)
    assert _quote(place, elder, set=1).total_fen == 900
    with pytest.raises(Conflict, match="更新的版本"):
        price_rule_set(
            actor=None, canteen=canteen, group=DinerGroup.AGE_60, target=RuleTarget.SET_MEALS,
            price_fen=700, valid_from=f.today(), supersedes=first,
        )  # fmt: skip
    price_rule_set(
        actor=None, canteen=canteen, group=DinerGroup.AGE_60, target=RuleTarget.SET_MEALS,
        price_fen=900, valid_from=f.today(), supersedes=second, is_active=False,
    )  # fmt: skip
    assert _quote(place, elder, set=1).total_fen == 1800
    assert PriceRule.objects.filter(canteen=canteen).count() == 3
    first.refresh_from_db()
    assert first.price_fen == 1000  # the old version is kept as it was
    assert CanteenEvent.objects.filter(kind="rule_set").count() == 3  # default, two versions


def test_rule_dates_bound_it(place: dict[str, Any]) -> None:
    canteen = place["canteen"]
    price_rule_set(
        actor=None, canteen=canteen, group=DinerGroup.ALL, target=RuleTarget.SET_MEALS,
        price_fen=100, valid_from=f.today() + dt.timedelta(days=1),
    )  # fmt: skip
    assert _quote(place, None, set=1).total_fen == 1800
    with pytest.raises(ValidationError, match="截止日期"):
        price_rule_set(
            actor=None, canteen=canteen, group=DinerGroup.ALL, target=RuleTarget.SET_MEALS,
            price_fen=100, valid_from=f.today(), valid_until=f.today() - dt.timedelta(days=1),
        )  # fmt: skip


def test_diner_reads_age_on_the_meal_date(place: dict[str, Any]) -> None:
    from doorstep.people.services import person_create

    person = person_create(
        name="钱秀兰",
        unit=place["compound"],
        birth_date=dt.date(1966, 3, 1),
        tags=["living_alone"],
    )
    assert not diner_of(person, dt.date(2026, 2, 28)).is_in(DinerGroup.AGE_60)
    assert diner_of(person, dt.date(2026, 3, 1)).is_in(DinerGroup.AGE_60)
    assert diner_of(person, dt.date(2026, 3, 1)).is_in(DinerGroup.LIVING_ALONE)
    assert not diner_of(person, dt.date(2026, 3, 1)).is_in(DinerGroup.LOW_INCOME)


# --- Orders ----------------------------------------------------------------------------------


def test_cash_order_snapshots_prices_and_takes_portions(place: dict[str, Any]) -> None:
    elder = f.resident(place["compound"], "王秀英", age=72)
    dishes = place["dishes"]
    order = order_create(
        actor=place["clerk"], canteen=place["canteen"], meal=Meal.LUNCH,
        items={dishes["set"].pk: 1, dishes["noodles"].pk: 1}, person=elder,
        cash_fen=2200, idempotency_key="k1",
    )  # fmt: skip
    assert (order.total_fen, order.cash_fen, order.points, order.state) == (
        2200,
        2200,
        0,
        OrderState.PAID,
    )
    line = order.lines.get(dish=dishes["set"])
    assert (line.unit_price_fen, line.list_price_fen, line.rule_label) == (
        1000,
        1800,
        "60岁以上 ¥10",
    )
    assert MenuItem.objects.get(menu__meal=Meal.LUNCH, dish=dishes["set"]).sold == 1
    assert order.clerk == place["clerk"]
    assert CanteenEvent.objects.filter(order=order, kind="order_paid").exists()
    # A later rule change does not rewrite what was paid.
    price_rule_set(
        actor=None, canteen=place["canteen"], group=DinerGroup.AGE_60,
        target=RuleTarget.SET_MEALS, price_fen=500, valid_from=f.today(),
        supersedes=PriceRule.objects.get(canteen=place["canteen"]),
    )  # fmt: skip
    line.refresh_from_db()
    assert line.unit_price_fen == 1000


def test_points_and_cash_through_the_ledger_then_refund(place: dict[str, Any]) -> None:
    elder = f.resident(place["compound"], "王秀英", age=72)
    account = f.funded(elder, 30, "p1")
    dishes = place["dishes"]
    order = order_create(
        actor=place["clerk"], canteen=place["canteen"], meal=Meal.LUNCH,
        items={dishes["set"].pk: 1, dishes["noodles"].pk: 1}, person=elder,
        points=15, cash_fen=700, idempotency_key="k2",
    )  # fmt: skip
    assert (order.total_fen, order.points_fen, order.cash_fen) == (2200, 1500, 700)
    transfer = order.transfer
    assert transfer is not None and transfer.kind == TransferKind.PAYMENT
    assert transfer.credit.outlet_id == place["canteen"].outlet_id
    account.refresh_from_db()
    assert account.balance == 15
    check = ledger_check()
    assert check.ok and check.total == 0

    with pytest.raises(PermissionDenied):
        order_refund(actor=place["clerk"], order=order, reason="菜品有误")
    refunded = order_refund(actor=place["staff"], order=order, reason="菜品有误")
    assert refunded.state == OrderState.REFUNDED
    assert refunded.cash_refunded_fen == 700
    assert refunded.refund_transfer is not None
    assert refunded.refund_transfer.reverses_id == transfer.pk
    account.refresh_from_db()
    assert account.balance == 30
    assert MenuItem.objects.get(menu__meal=Meal.LUNCH, dish=dishes["set"]).sold == 0
    assert not MealDiscount.objects.filter(released=False).exists()
    # Refunding again changes nothing; the discounted meal is open again.
    again = order_refund(actor=place["staff"], order=order, reason="再退")
    assert again.refund_transfer_id == refunded.refund_transfer_id
    assert _quote(place, elder, set=1).total_fen == 1000
    rebought = order_create(
        actor=place["clerk"], canteen=place["canteen"], meal=Meal.LUNCH,
        items={dishes["set"].pk: 1}, person=elder, idempotency_key="k2-again",
    )  # fmt: skip
    assert rebought.total_fen == 1000
    assert MealDiscount.objects.filter(person=elder, released=False).get().slot == 1
    check = ledger_check()
    assert check.ok and check.total == 0
    from doorstep.accounts.models import AuditEvent

    assert AuditEvent.objects.filter(action="canteen_refunded").count() == 1


def test_replay_returns_the_first_bill_and_other_body_is_refused(place: dict[str, Any]) -> None:
    elder = f.resident(place["compound"], "王秀英", age=72)
    f.funded(elder, 30, "p2")
    dishes = place["dishes"]
    args = {
        "actor": place["clerk"], "canteen": place["canteen"], "meal": Meal.LUNCH,
        "items": {dishes["set"].pk: 1}, "person": elder, "points": 10, "idempotency_key": "same",
    }  # fmt: skip
    first = order_create(**args)
    before = _state()
    assert order_create(**args).pk == first.pk
    assert _state() == before
    with pytest.raises(Conflict, match="幂等键"):
        order_create(**{**args, "points": 5})
    assert _state() == before


def _refused(place: dict[str, Any], match: str, field: str, **overrides: Any) -> None:
    dishes = place["dishes"]
    args = {
        "actor": place["clerk"], "canteen": place["canteen"], "meal": Meal.LUNCH,
        "items": {dishes["set"].pk: 1}, "person": None, "idempotency_key": "bad",
    }  # fmt: skip
    args.update(overrides)
    before = _state()
    with pytest.raises((ValidationError, PermissionDenied)) as caught:
        order_create(**args)
    assert match in str(caught.value.message)
    assert caught.value.field == field
    assert _state() == before


def test_bad_orders_are_refused_and_change_nothing(place: dict[str, Any]) -> None:
    dishes = place["dishes"]
    elder = f.resident(place["compound"], "王秀英", age=72)
    f.funded(elder, 12, "p3")
    canteen = place["canteen"]
    stranger = dish_save(
        actor=None, canteen=canteen, name="红烧肉", kind="a_la_carte", price_fen=2000
    )
    _refused(place, "不存在", "items", items={999999: 1})
    _refused(place, "不在本餐菜单上", "items", items={stranger.pk: 1})
    _refused(place, "请选择菜品", "items", items={})
    _refused(place, "必须为正整数", "items", items={dishes["set"].pk: 0})
    _refused(place, "请输入整数", "items", items={dishes["set"].pk: "two"})
    both = {dishes["set"].pk: 1, dishes["noodles"].pk: 1}  # ¥22: up to 22 points
    _refused(place, "积分余额不足", "points", person=elder, points=13, items=both)
    _refused(place, "不能超过应付金额", "points", person=elder, points=11)
    _refused(place, "不能为负数", "points", person=elder, points=-1)
    _refused(place, "不能为负数", "cash_fen", cash_fen=-100)
    _refused(place, "现金应为", "cash_fen", cash_fen=100)
    _refused(place, "散客不能使用积分", "points", points=1)
    _refused(place, "缺少幂等键", "idempotency_key", idempotency_key=" ")
    _refused(place, "未知的餐次", "meal", meal="supper")
    _refused(place, "只能为当天", "date", date=f.today() + dt.timedelta(days=1))
    outsider = f.resident(place["other"], "外社区居民", age=70)
    _refused(place, "不属于本食堂", "person", person=outsider)
    departed = f.resident(place["compound"], "已迁出居民", age=70)
    departed.left_on, departed.left_reason = f.today(), "moved_away"
    departed.save(update_fields=["left_on", "left_reason"])
    _refused(place, "已迁出或去世", "person", person=departed)
    # Sold out: portions are counted.
    menu_publish(
        actor=None, canteen=canteen, date=f.today(), meal=Meal.LUNCH,
        items={d.pk: 1 for d in dishes.values()},
    )  # fmt: skip
    _refused(place, "已售罄", "items", items={dishes["set"].pk: 2})


def test_a_clerk_of_another_outlet_is_refused(place: dict[str, Any]) -> None:
    shop = outlet_create(
        actor=None, unit=place["community"], kind=OutletKind.CHARITY_SHOP, name="颐和爱心屋"
    )
    other_clerk = make_user("shop_clerk", Role.OUTLET_CLERK, shop)
    _refused(place, "不能在此食堂收款", "canteen", actor=other_clerk)
    other_staff = make_user("silong_staff", Role.COMMUNITY_STAFF, place["other"])
    _refused(place, "不能在此食堂收款", "canteen", actor=other_staff)


def test_messages_follow_the_language(place: dict[str, Any]) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        order_create(
            actor=place["clerk"], canteen=place["canteen"], meal=Meal.LUNCH,
            items={place["dishes"]["set"].pk: 1}, points=1, idempotency_key="en",
        )  # fmt: skip
    assert "points" in str(caught.value.message).lower()
    assert caught.value.field == "points"


def test_canteen_links_an_existing_canteen_outlet(place: dict[str, Any]) -> None:
    outlet = outlet_create(
        actor=None, unit=place["community"], kind=OutletKind.CANTEEN, name="老年食堂"
    )
    canteen = canteen_create(
        actor=None, site=f.site(place["compound"]), name="老年食堂", outlet=outlet
    )
    assert canteen.outlet == outlet and canteen.unit == place["community"]
    with pytest.raises(ValidationError, match="已关联"):
        canteen_create(actor=None, site=f.site(place["community"]), name="又一个", outlet=outlet)
    shop = outlet_create(actor=None, unit=place["community"], kind="charity_shop", name="爱心屋")
    with pytest.raises(ValidationError, match="食堂类型"):
        canteen_create(actor=None, site=f.site(place["community"]), name="错", outlet=shop)


def test_menu_publish_keeps_what_was_sold(place: dict[str, Any]) -> None:
    dishes, canteen = place["dishes"], place["canteen"]
    order_create(
        actor=place["clerk"], canteen=canteen, meal=Meal.LUNCH,
        items={dishes["noodles"].pk: 2}, idempotency_key="m1",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="已有售出"):
        menu_publish(
            actor=None, canteen=canteen, date=f.today(), meal=Meal.LUNCH,
            items={dishes["set"].pk: 10},
        )  # fmt: skip
    with pytest.raises(ValidationError, match="不能少于已售"):
        menu_publish(
            actor=None, canteen=canteen, date=f.today(), meal=Meal.LUNCH,
            items={dishes["noodles"].pk: 1},
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        menu_publish(
            actor=place["clerk"], canteen=canteen, date=f.today(), meal=Meal.LUNCH,
            items={dishes["noodles"].pk: 5},
        )  # fmt: skip


# --- Past books ------------------------------------------------------------------------------


def test_past_cash_bills_load_priced_like_the_counter(place: dict[str, Any]) -> None:
    import datetime as dt_

    from doorstep.core import timeutils

    from ..services import PastBill, orders_load

    elder = f.resident(place["compound"], "王秀英", age=72)
    dishes = place["dishes"]
    at = timeutils.now().replace(microsecond=0) - dt_.timedelta(minutes=1)
    loaded = orders_load(
        canteen=place["canteen"],
        bills=[
            PastBill(at=at, meal=Meal.LUNCH, items={dishes["set"].pk: 2}, person=elder),
            PastBill(at=at, meal=Meal.LUNCH, items={dishes["noodles"].pk: 1}),
        ],
        key_prefix="book-1",
    )
    assert loaded == 2
    totals = sorted(MealOrder.objects.values_list("total_fen", flat=True))
    assert totals == [1200, 1000 + 1800]
    assert MealDiscount.objects.filter(person=elder).count() == 1
    assert _quote(place, elder, set=1).total_fen == 1800  # the discount of the meal is used
    before = _state()
    with pytest.raises(ValidationError, match="第 2 笔"):
        orders_load(
            canteen=place["canteen"],
            bills=[
                PastBill(at=at, meal=Meal.LUNCH, items={dishes["set"].pk: 1}),
                PastBill(at=at, meal=Meal.LUNCH, items={999999: 1}),
            ],
            key_prefix="book-2",
        )
    assert _state() == before
    with pytest.raises(Conflict, match="已经载入"):
        orders_load(
            canteen=place["canteen"],
            bills=[PastBill(at=at, meal=Meal.LUNCH, items={dishes["set"].pk: 1})],
            key_prefix="book-1",
        )
    assert _state() == before
