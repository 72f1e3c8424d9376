"""How each role sees the canteen's rows.

Staff see the canteens of their subtree with everything in them; a clerk sees the
canteen billed through their outlet, its dishes, menus, rules and bills; a resident
sees their own bills. Menus and prices are also shown to anyone on the public page,
through a selector that reads no personal data (``selectors.public_menus``).
"""

from __future__ import annotations

from django.db.models import Q

from doorstep.accounts import scoping
from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import within_unit
from doorstep.accounts.scoping import Grant
from doorstep.points.scope_rules import READERS

CLERK = (Role.OUTLET_CLERK,)
RESIDENT = (Role.RESIDENT,)


def _clerk(field: str) -> scoping.Rule:
    """Rows of the canteen billed through the clerk's outlet."""

    def rule(grant: Grant) -> Q:
        return Q(**{field: grant.scope.pk})

    return rule


def _clerk_rules(grant: Grant) -> Q:
    # The canteen's own rules, and the unit-wide rules above the clerk's community.
    from doorstep.core.tree import ancestor_paths

    return Q(canteen__outlet_id=grant.scope.pk) | Q(
        unit__path__in=ancestor_paths(grant.scope.unit.path)
    )


def _own_orders(field: str) -> scoping.Rule:
    def rule(grant: Grant) -> Q:
        return Q(**{field: grant.user.pk})

    return rule


def register() -> None:
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

    scoping.register(Canteen, [(READERS, within_unit("unit")), (CLERK, _clerk("outlet_id"))])
    scoping.register(
        Dish, [(READERS, within_unit("canteen__unit")), (CLERK, _clerk("canteen__outlet_id"))]
    )
    scoping.register(
        Menu, [(READERS, within_unit("canteen__unit")), (CLERK, _clerk("canteen__outlet_id"))]
    )
    scoping.register(
        MenuItem,
        [
            (READERS, within_unit("menu__canteen__unit")),
            (CLERK, _clerk("menu__canteen__outlet_id")),
        ],
    )

    def staff_rules(grant: Grant) -> Q:
        return within_unit("canteen__unit")(grant) | within_unit("unit")(grant)

    scoping.register(PriceRule, [(READERS, staff_rules), (CLERK, _clerk_rules)])
    scoping.register(
        MealOrder,
        [
            (READERS, within_unit("canteen__unit")),
            (CLERK, _clerk("canteen__outlet_id")),
            (RESIDENT, _own_orders("person__user_id")),
        ],
    )
    scoping.register(
        MealOrderLine,
        [
            (READERS, within_unit("order__canteen__unit")),
            (CLERK, _clerk("order__canteen__outlet_id")),
            (RESIDENT, _own_orders("order__person__user_id")),
        ],
    )
    scoping.register(
        MealDiscount,
        [(READERS, within_unit("canteen__unit")), (CLERK, _clerk("canteen__outlet_id"))],
    )
    scoping.register(
        CanteenEvent,
        [(READERS, within_unit("canteen__unit")), (CLERK, _clerk("canteen__outlet_id"))],
    )
