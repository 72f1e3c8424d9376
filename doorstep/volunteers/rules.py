"""Who may organize volunteer work: community staff and those above them, and the
grid members and leaders of the community (they record volunteer work)."""

from __future__ import annotations

from typing import Any

from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import grants
from doorstep.orgs.models import Unit
from doorstep.points.rules import POINTS_MANAGER_ROLES

ORGANIZER_ROLES = POINTS_MANAGER_ROLES | {Role.GRID_MEMBER, Role.GRID_LEADER}


def can_organize(user: Any, unit: Unit) -> bool:
    for grant in grants(user):
        if grant.role not in ORGANIZER_ROLES:
            continue
        anchor = anchor_unit(grant)
        if anchor is not None and unit.path.startswith(anchor.path):
            return True
    return False


def can_manage_teams(user: Any, unit: Unit) -> bool:
    from doorstep.points.rules import can_manage_points

    return can_manage_points(user, unit)
