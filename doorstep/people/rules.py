"""Who may do what with personal records."""

from __future__ import annotations

from typing import Any

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import has_role

# Roles that may see a full ID or phone number (each reveal is audited).
REVEAL_ROLES = (
    Role.COMMUNITY_STAFF,
    Role.PARTY_SECRETARY,
    Role.STREET_ADMIN,
    Role.DISTRICT_ADMIN,
    Role.COUNTY_ADMIN,
    Role.CITY_ADMIN,
)
# Roles that maintain the registry (create, edit, import).
REGISTRY_ROLES = (*REVEAL_ROLES, Role.GRID_LEADER)


def can_reveal(user: Any) -> bool:
    return has_role(user, *REVEAL_ROLES)


def can_edit_registry(user: Any) -> bool:
    return has_role(user, *REGISTRY_ROLES)
