"""Roles, and the kind of scope each one is granted over.

A scope kind names the model a role assignment points at (a unit, a party organization,
a department, a grid, an outlet, a partner) or one of the two object-less kinds:
``self`` (a resident's own things) and ``system`` (the three separated administrators).
Apps that own a scope model register its kind in their ``AppConfig.ready`` with
:func:`register_scope_kind`, so the set grows as the product does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    BUILDING_LEADER = "building_leader", _("楼栋长")
    GRID_MEMBER = "grid_member", _("网格员")
    GRID_LEADER = "grid_leader", _("网格长")
    COMMUNITY_STAFF = "community_staff", _("社区/村工作人员")
    PARTY_SECRETARY = "party_secretary", _("党组织书记")
    STREET_ADMIN = "street_admin", _("街道/乡镇管理员")
    DISTRICT_ADMIN = "district_admin", _("区管理员")
    COUNTY_ADMIN = "county_admin", _("县管理员")
    CITY_ADMIN = "city_admin", _("市管理员")
    DEPARTMENT_STAFF = "department_staff", _("部门工作人员")
    OUTLET_CLERK = "outlet_clerk", _("兑换点店员")
    PARTNER = "partner", _("社区合伙人")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDITOR = "auditor", _("安全审计员")


# Separation of duties (MLPS level 3 三员分立): no account holds two of these.
SEPARATED_ADMIN_ROLES: frozenset[str] = frozenset(
    {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR}
)

# Roles scoped to a unit subtree, with the unit kinds each may be granted over.
UNIT_ROLE_KINDS: dict[str, frozenset[str]] = {
    Role.BUILDING_LEADER: frozenset({"building"}),
    Role.COMMUNITY_STAFF: frozenset({"community", "village"}),
    Role.STREET_ADMIN: frozenset({"street", "town"}),
    Role.DISTRICT_ADMIN: frozenset({"district"}),
    Role.COUNTY_ADMIN: frozenset({"county"}),
    Role.CITY_ADMIN: frozenset({"city"}),
}

ROLE_SCOPE_KIND: dict[str, str] = {
    Role.RESIDENT: "self",
    **{role: "unit" for role in UNIT_ROLE_KINDS},
    Role.GRID_MEMBER: "grid",
    Role.GRID_LEADER: "grid",
    Role.PARTY_SECRETARY: "party_org",
    Role.DEPARTMENT_STAFF: "department",
    Role.OUTLET_CLERK: "outlet",
    Role.PARTNER: "partner",
    Role.SYSTEM_ADMIN: "system",
    Role.SECURITY_ADMIN: "system",
    Role.AUDITOR: "system",
}

# Those who answer for a place: its community or village staff, its party secretary and
# the administrators of the levels above. They run its grids, sites and points and read
# its figures.
PLACE_LEADER_ROLES: frozenset[str] = frozenset(
    {
        Role.COMMUNITY_STAFF,
        Role.PARTY_SECRETARY,
        Role.STREET_ADMIN,
        Role.DISTRICT_ADMIN,
        Role.COUNTY_ADMIN,
        Role.CITY_ADMIN,
    }
)

# Roles whose holders work in the console (and whose sessions time out when idle).
STAFF_ROLES: frozenset[str] = frozenset(str(role) for role in Role if role != Role.RESIDENT)


@dataclass(frozen=True)
class ScopeKind:
    """A kind of scope object. ``anchor_unit`` maps a scope object to the unit whose
    subtree it covers (a grid to its community, a department to the unit it serves)."""

    name: str
    model_label: str | None
    anchor_unit: Callable[[Any], Any] = field(default=lambda obj: None)

    @property
    def model(self) -> type[models.Model] | None:
        return apps.get_model(self.model_label) if self.model_label else None


_SCOPE_KINDS: dict[str, ScopeKind] = {
    "self": ScopeKind("self", None),
    "system": ScopeKind("system", None),
}


def register_scope_kind(kind: ScopeKind) -> None:
    _SCOPE_KINDS[kind.name] = kind


def scope_kind(name: str) -> ScopeKind | None:
    return _SCOPE_KINDS.get(name)


def role_available(role: str) -> bool:
    """A role can be granted once the app owning its scope model is installed."""
    return ROLE_SCOPE_KIND[role] in _SCOPE_KINDS


def available_roles() -> list[str]:
    return [role for role in Role if role_available(role)]
