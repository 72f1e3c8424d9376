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


NAV: list[NavItem] = [
    NavItem("web:console", _("首页"), frozenset(STAFF_ROLES)),
    NavItem(
        "web:units",
        _("组织架构"),
        frozenset(PLACE_ROLES | {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}),
    ),
    NavItem("web:party-orgs", _("党组织"), frozenset(PLACE_ROLES | {Role.SYSTEM_ADMIN})),
    NavItem("web:departments", _("职能部门"), frozenset(PLACE_ROLES | {Role.SYSTEM_ADMIN})),
    NavItem("accounts:roles", _("角色授权"), frozenset({Role.SECURITY_ADMIN}), _("安全")),
    NavItem("accounts:audit-log", _("审计日志"), frozenset({Role.AUDITOR}), _("安全")),
    NavItem("admin:index", _("系统管理"), frozenset({Role.SYSTEM_ADMIN}), _("安全")),
    NavItem(
        "api-docs", _("接口文档"), frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}), _("安全")
    ),
]


def nav_for(roles: set[str]) -> list[NavItem]:
    return [item for item in NAV if item.roles & roles]
