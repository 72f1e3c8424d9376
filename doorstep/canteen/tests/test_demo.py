"""The canteen demo on a small jurisdiction: the 颐和食堂 on the demo's canteen outlet,
menus and meals through the services, the 60+ paying ¥10, some paying in points, the
books balanced."""

from __future__ import annotations

import random

import pytest
from django.db.models import Sum

from doorstep.orgs import demo as orgs_demo
from doorstep.people import demo as people_demo
from doorstep.points import demo as points_demo
from doorstep.points.checking import ledger_check
from doorstep.sites.tests import factories as site_factories
from doorstep.volunteers import demo as volunteers_demo

from .. import demo as canteen_demo
from ..models import MealOrder, MealOrderLine
from ..selectors import diner_report

pytestmark = pytest.mark.django_db


def test_demo_canteen_on_a_small_jurisdiction() -> None:
    rng = random.Random(11)
    tree = orgs_demo.build(rng)
    people_demo.build(rng, tree, scale=0.02)
    outlets = points_demo.build_outlets(tree)
    volunteers_demo.build(rng, tree, scale=0.02)
    site_factories.site(tree.units["yihe"], name="颐和社区党群服务中心")
    result = canteen_demo.build(rng, tree, outlets, scale=0.05)
    canteen = result.canteen
    assert canteen.outlet == outlets["yihe_canteen"]
    per_day = round(canteen_demo.DINERS_PER_DAY * 0.05)
    assert result.orders == per_day * canteen_demo.HISTORY_DAYS
    elderly = MealOrderLine.objects.filter(rule__group="age_60")
    assert elderly.exists()
    assert set(elderly.values_list("unit_price_fen", flat=True)) == {1000}
    assert MealOrder.objects.filter(person__isnull=True).exists()
    assert MealOrder.objects.filter(points__gt=0).exists()
    check = ledger_check()
    assert check.ok and check.total == 0
    totals = MealOrder.objects.aggregate(t=Sum("total_fen"), c=Sum("cash_fen"), p=Sum("points_fen"))
    assert totals["t"] == totals["c"] + totals["p"]
    # The week ahead has menus and no meals; the report counts every diner.
    assert canteen.menus.count() == 2 * (canteen_demo.HISTORY_DAYS + 7)
    from doorstep.accounts.roles import Role
    from doorstep.conftest import make_user

    staff = make_user("demo_canteen_staff", Role.COMMUNITY_STAFF, tree.units["yihe"])
    report = diner_report(actor=staff, canteen=canteen)
    assert report.person_times == result.orders
    assert report.age_meals == elderly.aggregate(n=Sum("quantity"))["n"]
