"""Who may do what at a canteen: community staff run the canteens of their subtree
(dishes, menus, price rules, refunds); the canteen outlet's clerks bill meals."""

from __future__ import annotations

from typing import Any

from doorstep.points.rules import can_manage_points, can_serve_outlet


def can_manage_canteen(user: Any, canteen: Any) -> bool:
    """Dishes, menus, price rules and refunds: staff whose grant covers the community."""
    return can_manage_points(user, canteen.unit)


def can_bill(user: Any, canteen: Any) -> bool:
    """Bill a meal at the counter: the clerks of the canteen's outlet, and its managers."""
    return can_serve_outlet(user, canteen.outlet)
