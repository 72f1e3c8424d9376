"""Who may run a site, and who may configure what every site shares.

There is no "site staff" role: a site is run by the staff whose grant covers the site's
unit — its community's staff and party secretary, and the street, district, county and
city above it. A partner runs only its own offerings and sees its own settlements.
"""

from __future__ import annotations

from typing import Any

from doorstep.accounts.roles import PLACE_LEADER_ROLES, Role
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import grants, has_role
from doorstep.orgs.models import Unit

SITE_MANAGER_ROLES = PLACE_LEADER_ROLES


def can_manage_unit_sites(user: Any, unit: Unit) -> bool:
    """May create and run sites in ``unit``: a manager role whose subtree holds it."""
    for grant in grants(user):
        if grant.role not in SITE_MANAGER_ROLES:
            continue
        anchor = anchor_unit(grant)
        if anchor is not None and unit.path.startswith(anchor.path):
            return True
    return False


def can_manage_site(user: Any, site: Any) -> bool:
    return can_manage_unit_sites(user, site.unit)


def is_site_manager(user: Any) -> bool:
    """Holds any role that runs sites somewhere (for navigation and list pages)."""
    return any(grant.role in SITE_MANAGER_ROLES for grant in grants(user))


def can_configure_sites(user: Any) -> bool:
    """The holiday calendar, the road network and the circle's parameters are set by the
    system administrator or a city or county administrator."""
    return has_role(user, Role.SYSTEM_ADMIN, Role.CITY_ADMIN, Role.COUNTY_ADMIN)
