"""The points app's rows in the scope matrix, and the outlet a clerk is scoped to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import models

from doorstep.accounts.roles import Role
from doorstep.conftest import Tree, World

from ..choices import ActivityType, OutletKind
from ..models import Account, EarningRule, Goods, Outlet, Redemption, Transfer
from ..services import (
    earning_rule_set,
    goods_save,
    outlet_create,
    points_earn,
    redemption_create,
    resident_account,
)


def tree_outlet(tree: Tree) -> Outlet:
    return tree.extra(  # noqa: S610 - Tree.extra, not QuerySet.extra
        "outlet",
        lambda t: outlet_create(
            actor=None,
            unit=t.community,
            kind=OutletKind.CHARITY_SHOP,
            name=f"{t.community.name}爱心屋",
        ),
    )


def scope_for(tree: Tree, role: str) -> Any:
    if role == Role.OUTLET_CLERK:
        return tree_outlet(tree)
    return None


def tree_goods(tree: Tree) -> Goods:
    return tree.extra(  # noqa: S610 - Tree.extra, not QuerySet.extra
        "goods",
        lambda t: goods_save(
            actor=None,
            outlet=tree_outlet(t),
            name="洗衣粉",
            points_price=20,
            value_fen=1500,
            stock=100,
        ),
    )


def funded_account(tree: Tree, points: int = 100) -> Account:
    """The tree's resident with ``points`` earned through a rule."""

    def make(t: Tree) -> Account:
        earning_rule_set(
            actor=None,
            unit=t.community,
            activity_type=ActivityType.SANITATION,
            points_per_time=points,
        )
        points_earn(
            person=t.person,
            activity_type=ActivityType.SANITATION,
            minutes=60,
            occurred_on=dt.date(2026, 3, 1),
            source_type="test.participation",
            source_id=f"{t.community.pk}",
        )
        return resident_account(person=t.person)

    return tree.extra("funded_account", make)  # noqa: S610 - Tree.extra, not QuerySet.extra


def _redemption(world: World) -> Redemption:
    tree = world.b
    clerk_outlet = tree_outlet(tree)
    return redemption_create(
        actor=_clerk_b(world, clerk_outlet),
        outlet=clerk_outlet,
        account=funded_account(tree),
        items={tree_goods(tree).pk: 1},
        idempotency_key="scope-b-1",
    )


def _clerk_b(world: World, outlet: Outlet) -> Any:
    from doorstep.conftest import make_user

    return make_user("clerk_b", Role.OUTLET_CLERK, outlet)


OUTSIDE_ROW: dict[type[models.Model], Callable[[World], models.Model]] = {
    Outlet: lambda w: tree_outlet(w.b),
    Goods: lambda w: tree_goods(w.b),
    EarningRule: lambda w: earning_rule_set(
        actor=None, unit=w.b.community, activity_type=ActivityType.PATROL, points_per_hour=5
    ),
    Account: lambda w: funded_account(w.b),
    Transfer: lambda w: Transfer.objects.get(credit=funded_account(w.b)),
    Redemption: _redemption,
}
API_DETAIL: dict[type[models.Model], str] = {
    Account: "/api/v1/points/accounts/{pk}/",
    Redemption: "/api/v1/points/redemptions/{pk}/",
}
CONSOLE_DETAIL: dict[type[models.Model], str] = {
    Outlet: "/console/points/outlets/{pk}/",
    Redemption: "/console/counter/receipts/{pk}/",
}
