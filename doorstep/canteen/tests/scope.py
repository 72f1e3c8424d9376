"""The canteen's rows in the scope matrix: every model, made in tree B."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from doorstep.accounts.roles import Role
from doorstep.conftest import Tree, World, make_user
from doorstep.sites.tests import factories as site_factories

from ..choices import DinerGroup, RuleTarget
from ..models import (
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
from ..services import order_create, price_rule_set
from . import factories as f


def tree_canteen(tree: Tree) -> Canteen:
    def make(t: Tree) -> Canteen:
        site = t.extra("site", lambda x: site_factories.site(x.community))  # noqa: S610
        row = f.canteen(t.community, site_row=site)
        f.menu(row, f.dishes(row))
        return row

    return tree.extra("canteen", make)  # noqa: S610 - Tree.extra, not QuerySet.extra


def _staff(tree: Tree) -> Any:
    return tree.extra(  # noqa: S610
        "canteen_staff",
        lambda t: make_user(f"canteen_staff_{t.community.pk}", Role.COMMUNITY_STAFF, t.community),
    )


def tree_order(tree: Tree) -> MealOrder:
    def make(t: Tree) -> MealOrder:
        row = tree_canteen(t)
        elder = f.resident(t.compound, f"{t.community.name}长者", age=70)
        dish = row.dishes.get(name="荤素套餐")
        return order_create(
            actor=_staff(t),
            canteen=row,
            meal="lunch",
            items={dish.pk: 1},
            person=elder,
            idempotency_key=f"scope-{t.community.pk}",
        )

    return tree.extra("canteen_order", make)  # noqa: S610


def _rule(world: World) -> PriceRule:
    return price_rule_set(
        actor=None,
        canteen=tree_canteen(world.b),
        group=DinerGroup.DISABILITY,
        target=RuleTarget.SET_MEALS,
        price_fen=800,
        valid_from="2026-01-01",
    )


OUTSIDE_ROW: dict[type[models.Model], Callable[[World], models.Model]] = {
    Canteen: lambda w: tree_canteen(w.b),
    Dish: lambda w: tree_canteen(w.b).dishes.earliest("pk"),
    Menu: lambda w: tree_canteen(w.b).menus.earliest("pk"),
    MenuItem: lambda w: MenuItem.objects.filter(menu__canteen=tree_canteen(w.b)).earliest("pk"),
    PriceRule: _rule,
    MealOrder: lambda w: tree_order(w.b),
    MealOrderLine: lambda w: tree_order(w.b).lines.earliest("pk"),
    MealDiscount: lambda w: MealDiscount.objects.get(line__order=tree_order(w.b)),
    CanteenEvent: lambda w: tree_canteen(w.b).events.earliest("pk"),
}
API_DETAIL: dict[type[models.Model], str] = {
    MealOrder: "/api/v1/canteen/orders/{pk}/",
    Canteen: "/api/v1/canteen/canteens/{pk}/menu/",
}
CONSOLE_DETAIL: dict[type[models.Model], str] = {
    Canteen: "/console/canteen/{pk}/",
    MealOrder: "/console/canteen/orders/{pk}/",
}
