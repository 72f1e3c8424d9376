"""Rows the canteen tests build through the services: a canteen at a community site
with set meals and dishes on today's menu, residents of given ages and tags, funded
points accounts."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from doorstep.core import timeutils
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.people.services import person_create
from doorstep.points.choices import ActivityType
from doorstep.points.models import Account
from doorstep.points.services import earning_rule_set, points_earn, resident_account
from doorstep.sites.models import Site
from doorstep.sites.tests import factories as site_factories

from ..choices import DishKind, Meal
from ..models import Canteen, Dish
from ..services import canteen_create, dish_save, menu_publish

# Opening hours that cover the whole day, so that tests run at any clock time.
ALL_DAY = ("00:00", "11:59")
EVENING = ("12:00", "23:59")


_sites = itertools.count(1)


def site(unit: Unit) -> Site:
    return site_factories.site(unit, name=f"{unit.name}党群服务站{next(_sites)}")


def canteen(unit: Unit, name: str = "", *, site_row: Site | None = None, **kwargs: Any) -> Canteen:
    kwargs.setdefault("lunch", ALL_DAY)
    kwargs.setdefault("dinner", EVENING)
    return canteen_create(
        actor=None, site=site_row or site(unit), name=name or f"{unit.name}幸福食堂", **kwargs
    )


def dishes(row: Canteen) -> dict[str, Dish]:
    return {
        "set": dish_save(
            actor=None, canteen=row, name="荤素套餐", kind=DishKind.SET_MEAL, price_fen=1800
        ),
        "set_light": dish_save(
            actor=None, canteen=row, name="清淡套餐", kind=DishKind.SET_MEAL, price_fen=1500
        ),
        "noodles": dish_save(
            actor=None, canteen=row, name="牛肉面", kind=DishKind.A_LA_CARTE, price_fen=1200
        ),
    }


def today() -> dt.date:
    return timeutils.local_today()


def menu(row: Canteen, items: dict[str, Dish], *, portions: int | None = 50) -> None:
    for meal in (Meal.LUNCH, Meal.DINNER):
        menu_publish(
            actor=None,
            canteen=row,
            date=today(),
            meal=meal,
            items={d.pk: portions for d in items.values()},
        )


def born_years_ago(years: int, *, days: int = 0) -> dt.date:
    """The birth date of someone who turns ``years`` on today + ``days``."""
    day = today() + dt.timedelta(days=days)
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def resident(unit: Unit, name: str, *, age: int | None = None, tags: list[str] | None = None,
             born: dt.date | None = None) -> Person:  # fmt: skip
    if born is None and age is not None:
        born = born_years_ago(age, days=-30)
    return person_create(name=name, unit=unit, birth_date=born, tags=tags or [])


def funded(person: Person, points: int, source: str) -> Account:
    earning_rule_set(
        actor=None, unit=resident_account(person=person).unit,
        activity_type=ActivityType.SANITATION, points_per_time=points,
    )  # fmt: skip
    points_earn(
        person=person,
        activity_type=ActivityType.SANITATION,
        minutes=60,
        occurred_on=today(),
        source_type="test.canteen",
        source_id=source,
    )
    return resident_account(person=person)
