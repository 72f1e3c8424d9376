"""Who may do what with points: community staff run their subtree's rules, outlets and
grants; a clerk serves the counter of their own outlet only."""

from __future__ import annotations

from typing import Any

from doorstep.accounts.roles import PLACE_LEADER_ROLES, Role
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import grants
from doorstep.orgs.models import Unit

POINTS_MANAGER_ROLES = PLACE_LEADER_ROLES


def can_manage_points(user: Any, unit: Unit) -> bool:
    """Rules, outlets, goods and manual grants of a community are run by staff whose
    grant covers it."""
    for grant in grants(user):
        if grant.role not in POINTS_MANAGER_ROLES:
            continue
        anchor = anchor_unit(grant)
        if anchor is not None and unit.path.startswith(anchor.path):
            return True
    return False


def is_clerk_of(user: Any, outlet: Any) -> bool:
    return any(
        grant.role == Role.OUTLET_CLERK and grant.scope is not None and grant.scope.pk == outlet.pk
        for grant in grants(user)
    )


def can_serve_outlet(user: Any, outlet: Any) -> bool:
    """Redeem at an outlet's counter: its clerks, and staff who run its community."""
    return is_clerk_of(user, outlet) or can_manage_points(user, outlet.unit)


def clerk_outlet_ids(user: Any) -> list[int]:
    return [
        grant.scope.pk
        for grant in grants(user)
        if grant.role == Role.OUTLET_CLERK and grant.scope is not None
    ]
