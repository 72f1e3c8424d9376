"""Who may run a community's grids."""

from __future__ import annotations

from typing import Any

from doorstep.accounts.roles import PLACE_LEADER_ROLES
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import grants
from doorstep.orgs.models import Unit

GRID_MANAGER_ROLES = PLACE_LEADER_ROLES


def can_manage_grids(user: Any, unit: Unit) -> bool:
    """A community's grids are run by staff whose grant covers the community: its own
    staff and party secretary, and the street, district, county and city above it."""
    for grant in grants(user):
        if grant.role not in GRID_MANAGER_ROLES:
            continue
        anchor = anchor_unit(grant)
        if anchor is not None and unit.path.startswith(anchor.path):
            return True
    return False
