"""The demo's points economy, Baiyin style: outlets of the three kinds (颐和社区's charity
shop 爱心屋, the 颐和食堂 canteen and a fair-price grocery; a points supermarket in each
populated Dongshan village and a grocery in 前楼镇), their goods at points prices close
to their yuan value, and a year of redemptions through the ledger: in Dongshan about
2,000 person-times for nearly ¥80,000 of goods at scale 1. Deterministic for a given
``rng``. Outlets are built before the demo accounts (a clerk's scope is an outlet)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db.models import Sum

from doorstep.core import timeutils
from doorstep.orgs.demo import DemoTree

from .choices import AccountKind, OutletKind
from .models import Account, Goods, Outlet, Redemption
from .services import goods_save, outlet_create, redemption_create

# (name, points price, value in fen, stock): one point is worth about one yuan.
DAILY_GOODS = [
    ("洗衣粉", 15, 1490, 400),
    ("食用油（5升）", 55, 5590, 200),
    ("大米（10斤）", 40, 3990, 300),
    ("毛巾", 10, 990, 500),
    ("牙膏", 8, 750, 500),
    ("酱油", 10, 950, 400),
    ("鸡蛋（一板）", 25, 2400, 300),
    ("洗洁精", 9, 850, 400),
]
CANTEEN_GOODS = [
    ("午餐套餐", 10, 1000, 2000),
    ("晚餐套餐", 10, 1000, 2000),
    ("小炒一份", 6, 600, 1000),
]
GROCERY_GOODS = [
    ("挂面", 6, 590, 500),
    ("白糖（1斤）", 5, 480, 400),
    ("菜籽油（1升）", 16, 1590, 300),
    ("紫菜", 7, 650, 400),
]


def build_outlets(tree: DemoTree) -> dict[str, Outlet]:
    """The outlets, before the demo accounts: ``yihe_charity`` is the demo clerk's."""
    units = tree.units
    outlets = {
        "yihe_charity": outlet_create(
            actor=None,
            unit=units["yihe"],
            kind=OutletKind.CHARITY_SHOP,
            name="颐和爱心屋",
            address="棉纺厂小区红色驿站",
        ),
        "yihe_canteen": outlet_create(
            actor=None,
            unit=units["yihe"],
            kind=OutletKind.CANTEEN,
            name="颐和食堂",
            address="棉纺厂小区",
        ),
        "yihe_grocery": outlet_create(
            actor=None,
            unit=units["yihe"],
            kind=OutletKind.GROCERY,
            name="平价副食品店",
            address="棉纺厂小区北门",
        ),
    }
    for key in sorted(units):
        if key.startswith(("village_5_", "village_6_")) and key.count("_") == 2:
            village = units[key]
            outlets[f"{key}_shop"] = outlet_create(
                actor=None,
                unit=village,
                kind=OutletKind.CHARITY_SHOP,
                name=f"{village.name}积分超市",
                address="村党群服务中心",
            )
    outlets["qianlou_grocery"] = outlet_create(
        actor=None,
        unit=units["village_6_1"],
        kind=OutletKind.GROCERY,
        name=f"{units['village_6_1'].name}平价副食品店",
    )
    return outlets


@dataclass
class DemoPoints:
    outlets: int
    redemptions: int
    points: int
    value_fen: int


def build(
    rng: random.Random,
    tree: DemoTree,
    outlets: dict[str, Outlet],
    *,
    scale: float = 1.0,
    today: dt.date | None = None,
) -> DemoPoints:
    """Goods on every outlet's shelves, then a year of redemptions up to ``today`` (the
    day the demo is built) by residents who earned points (volunteers' demo runs first),
    through ``redemption_create``."""
    for outlet in outlets.values():
        goods = {
            OutletKind.CANTEEN: CANTEEN_GOODS,
            OutletKind.GROCERY: GROCERY_GOODS,
        }.get(outlet.kind, DAILY_GOODS)  # type: ignore[call-overload]
        for name, price, value, stock in goods:
            goods_save(
                actor=None,
                outlet=outlet,
                name=name,
                points_price=price,
                value_fen=value,
                stock=max(20, round(stock * max(scale, 0.1))),
            )
    start = (today or timeutils.local_today()) - dt.timedelta(days=365)
    count = 0
    by_unit: dict[int, list[Outlet]] = {}
    for outlet in outlets.values():
        by_unit.setdefault(outlet.unit_id, []).append(outlet)
    for unit_id, unit_outlets in sorted(by_unit.items()):
        shelves = {o.pk: list(Goods.objects.filter(outlet=o).order_by("pk")) for o in unit_outlets}
        balances = dict(
            Account.objects.filter(kind=AccountKind.RESIDENT, unit_id=unit_id, balance__gt=0)
            .order_by("pk")
            .values_list("pk", "balance")
        )
        accounts = {a.pk: a for a in Account.objects.filter(pk__in=list(balances))}
        # Residents spend most of what they earn, a basket at a time.
        for _attempt in range(len(balances) * 40):
            if not balances:
                break
            account_id = rng.choice(sorted(balances))
            outlet = rng.choice(unit_outlets)
            basket: dict[int, int] = {}
            budget = balances[account_id]
            for item in rng.sample(shelves[outlet.pk], k=min(2, len(shelves[outlet.pk]))):
                quantity = 1 if rng.random() < 0.7 else 2
                if item.points_price * quantity <= budget and item.stock >= quantity:
                    basket[item.pk] = quantity
                    budget -= item.points_price * quantity
            if not basket:
                balances.pop(account_id)  # nothing on these shelves fits what is left
                continue
            at = timeutils.local(
                dt.datetime.combine(start, dt.time(9), tzinfo=timeutils.LOCAL_TZ)
                + dt.timedelta(days=rng.randint(30, 364), minutes=rng.randint(0, 9 * 60))
            )
            redemption_create(
                actor=None,
                outlet=outlet,
                account=accounts[account_id],
                items=basket,
                idempotency_key=f"demo-{outlet.pk}-{count}",
                at=at,
            )
            for item in shelves[outlet.pk]:
                item.stock -= basket.get(item.pk, 0)
            balances[account_id] = budget
            count += 1
    totals = Redemption.objects.aggregate(p=Sum("points"), v=Sum("value_fen"))
    return DemoPoints(
        outlets=len(outlets), redemptions=count, points=totals["p"] or 0, value_fen=totals["v"] or 0
    )
