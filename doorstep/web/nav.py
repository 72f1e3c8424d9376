"""The console's navigation: each entry names the roles that see it. Apps' pages are
added here as they land; web is the only part allowed to know them all."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from doorstep.accounts.roles import SEPARATED_ADMIN_ROLES, STAFF_ROLES, Role

PLACE_ROLES = STAFF_ROLES - SEPARATED_ADMIN_ROLES
WORK = _("工作台")


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    roles: frozenset[str]
    section: str | Promise = WORK


# Roles that work with the registry of a place (not departments, clerks or partners).
REGISTRY_ROLES = PLACE_ROLES - {Role.DEPARTMENT_STAFF, Role.OUTLET_CLERK, Role.PARTNER}
GRID_WORKERS = frozenset({Role.GRID_MEMBER, Role.GRID_LEADER})
GRID_MANAGERS = frozenset(
    {
        Role.COMMUNITY_STAFF,
        Role.PARTY_SECRETARY,
        Role.STREET_ADMIN,
        Role.DISTRICT_ADMIN,
        Role.COUNTY_ADMIN,
        Role.CITY_ADMIN,
    }
)
PEOPLE = _("人口与网格")

NAV: list[NavItem] = [
    NavItem("web:console", _("首页"), frozenset(STAFF_ROLES)),
    NavItem(
        "web:units",
        _("组织架构"),
        frozenset(PLACE_ROLES | {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}),
    ),
    NavItem("web:party-orgs", _("党组织"), frozenset(PLACE_ROLES | {Role.SYSTEM_ADMIN})),
    NavItem("web:departments", _("职能部门"), frozenset(PLACE_ROLES | {Role.SYSTEM_ADMIN})),
    NavItem("grids:my-grid", _("我的网格"), GRID_WORKERS, PEOPLE),
    NavItem("people:registry", _("人口信息"), frozenset(REGISTRY_ROLES), PEOPLE),
    NavItem("grids:index", _("网格管理"), GRID_MANAGERS, PEOPLE),
    NavItem("people_import:import", _("导入"), GRID_MANAGERS | {Role.GRID_LEADER}, PEOPLE),
    NavItem("people:party-members", _("党员"), frozenset(REGISTRY_ROLES), PEOPLE),
    NavItem("people:mobile-registrations", _("流动党员"), frozenset(REGISTRY_ROLES), PEOPLE),
    # (each app's console pages are listed above the security section)
    NavItem("accounts:roles", _("角色授权"), frozenset({Role.SECURITY_ADMIN}), _("安全")),
    NavItem("accounts:audit-log", _("审计日志"), frozenset({Role.AUDITOR}), _("安全")),
    NavItem("admin:index", _("系统管理"), frozenset({Role.SYSTEM_ADMIN}), _("安全")),
    NavItem(
        "api-docs", _("接口文档"), frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}), _("安全")
    ),
]


def nav_for(roles: set[str]) -> list[NavItem]:
    return [item for item in NAV if item.roles & roles]
