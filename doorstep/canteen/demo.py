"""The demo's happiness canteen, Baiyin style: the 颐和食堂 at 颐和社区's service centre,
billed through the ``yihe_canteen`` points outlet, with set meals and dishes, menus for
the weeks around today, and the last weeks of meals — about 200 diners a day at scale
1, residents aged 60 and over paying ¥10 for a set lunch or dinner, some paying part in
points — all through the services, so the ledger stays balanced. Deterministic for a
given ``rng`` (the dates follow the day the demo is loaded, so the report's default
period shows them)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from doorstep.core import timeutils
from doorstep.orgs.demo import DemoTree
from doorstep.people.models import Person
from doorstep.points.choices import AccountKind
from doorstep.points.models import Account, Outlet
from doorstep.sites.models import Site

from .choices import DinerGroup, DishKind, Meal, RuleTarget
from .models import Canteen, Dish, MealOrder
from .services import (
    PastBill,
    canteen_create,
    dish_save,
    menu_publish,
    order_create,
    orders_load,
    price_rule_set,
)

HISTORY_DAYS = 21
DINERS_PER_DAY = 200
LUNCH_SHARE = 0.6
WALK_IN_SHARE = 0.15
POINTS_SHARE = 0.1

# (name, kind, list price in fen)
DISHES = [
    ("两荤一素套餐", DishKind.SET_MEAL, 1800),
    ("一荤两素套餐", DishKind.SET_MEAL, 1500),
    ("长者清淡套餐", DishKind.SET_MEAL, 1500),
    ("牛肉面", DishKind.A_LA_CARTE, 1200),
    ("臊子面", DishKind.A_LA_CARTE, 1000),
    ("炒青菜", DishKind.A_LA_CARTE, 600),
    ("小米粥", DishKind.A_LA_CARTE, 200),
    ("馒头（2个）", DishKind.A_LA_CARTE, 200),
]


@dataclass
class DemoCanteen:
    canteen: Canteen
    orders: int
    days: int


def _site(tree: DemoTree) -> Site:
    """The community's service centre (the sites demo runs first)."""
    site = Site.objects.filter(unit=tree.units["yihe"]).order_by("level", "pk").first()
    if site is None:
        raise LookupError("the sites demo must run before the canteen demo")
    return site


def _menus(rng: random.Random, canteen: Canteen, dishes: list[Dish], day: dt.date, n: int) -> None:
    sets = [d for d in dishes if d.kind == DishKind.SET_MEAL]
    extras = [d for d in dishes if d.kind == DishKind.A_LA_CARTE]
    for meal, share in ((Meal.LUNCH, LUNCH_SHARE), (Meal.DINNER, 1 - LUNCH_SHARE)):
        chosen = [*sets[:2], sets[2]] if rng.random() < 0.7 else sets[:2]
        chosen += rng.sample(extras, k=3)
        # Enough of each set meal for everyone at the meal: the kitchen cooks to order.
        portions = round(n * share) + 10
        menu_publish(
            actor=None,
            canteen=canteen,
            date=day,
            meal=meal,
            items={d.pk: (None if d.kind == DishKind.A_LA_CARTE else portions) for d in chosen},
        )


def build(
    rng: random.Random, tree: DemoTree, outlets: dict[str, Outlet], *, scale: float = 1.0
) -> DemoCanteen:
    """The canteen, its dishes and rules, menus for the last weeks and the week ahead,
    and the meals of the last ``HISTORY_DAYS`` days through ``order_create``."""
    canteen = canteen_create(
        actor=None,
        site=_site(tree),
        name="颐和食堂",
        outlet=outlets["yihe_canteen"],
        lunch=("11:00", "13:30"),
        dinner=("17:00", "19:00"),
    )
    dishes = [
        dish_save(actor=None, canteen=canteen, name=name, kind=kind, price_fen=price)
        for name, kind, price in DISHES
    ]
    today = timeutils.local_today()
    start = today - dt.timedelta(days=HISTORY_DAYS)
    for group, price in ((DinerGroup.DISABILITY, 800), (DinerGroup.LOW_INCOME, 800)):
        price_rule_set(
            actor=None,
            canteen=canteen,
            group=group,
            target=RuleTarget.SET_MEALS,
            price_fen=price,
            valid_from=start,
        )
    per_day = max(4, round(DINERS_PER_DAY * scale))
    community = tree.units["yihe"]
    residents = list(
        Person.objects.filter(
            community.subtree_q(field="unit__path"), pseudonymized_at__isnull=True
        )
        .select_related("unit")
        .order_by("pk")[:2000]
    )
    elders = [p for p in residents if p.is_elderly(today)]
    balances = dict(
        Account.objects.filter(
            kind=AccountKind.RESIDENT, person__in=residents, balance__gt=0
        ).values_list("person_id", "balance")
    )
    set_ids = {d.pk for d in dishes if d.kind == DishKind.SET_MEAL}
    for offset in range(HISTORY_DAYS + 7):
        day = start + dt.timedelta(days=offset)
        _menus(rng, canteen, dishes, day, per_day)
        if day >= today:
            continue  # the week ahead: menus only
        for meal, share, hour in (
            (Meal.LUNCH, LUNCH_SHARE, 11),
            (Meal.DINNER, 1 - LUNCH_SHARE, 17),
        ):
            items = list(
                canteen.menus.get(date=day, meal=meal).items.values_list("dish_id", flat=True)
            )
            sets = [pk for pk in items if pk in set_ids]
            extras = [pk for pk in items if pk not in set_ids]
            # Each resident eats once a meal; the old are most of the regulars.
            pool = rng.sample(elders, k=min(len(elders), round(per_day * share * 0.7)))
            taken = {p.pk for p in pool}
            others = [p for p in residents if p.pk not in taken]
            pool += rng.sample(others, k=min(len(others), round(per_day * share * 0.15)))
            diners: list[Person | None] = list(pool)
            diners += [None] * max(0, round(per_day * share) - len(diners))
            bills = []
            for person in diners:
                basket = {rng.choice(sets): 1}
                if rng.random() < 0.35:
                    basket[rng.choice(extras)] = 1
                at = dt.datetime.combine(day, dt.time(hour), tzinfo=timeutils.LOCAL_TZ) + (
                    dt.timedelta(minutes=rng.randint(0, 110))
                )
                # At most ¥8 in points: below every set meal's lowest price.
                points = min(balances.get(getattr(person, "pk", 0), 0), 8)
                if person is not None and points and rng.random() < POINTS_SHARE:
                    # Part in points: through the counter's service and the ledger.
                    order_create(
                        actor=None,
                        canteen=canteen,
                        meal=meal,
                        items=basket,
                        person=person,
                        points=points,
                        idempotency_key=f"demo-{canteen.pk}-{day.isoformat()}-{meal}-{person.pk}",
                        at=at,
                    )
                    balances[person.pk] -= points
                else:
                    bills.append(PastBill(at=at, meal=meal, items=basket, person=person))
            # Cash bills: the day's register loaded in one go, priced the same way.
            orders_load(
                canteen=canteen,
                bills=bills,
                key_prefix=f"demo-{canteen.pk}-{day.isoformat()}-{meal}-cash",
            )
    return DemoCanteen(canteen=canteen, orders=MealOrder.objects.count(), days=HISTORY_DAYS)
