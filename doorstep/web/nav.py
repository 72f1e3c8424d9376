"""The console's navigation: each entry names the roles that see it. Apps' pages are
added here as they land; web is the only part allowed to know them all."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from doorstep.accounts.roles import PLACE_LEADER_ROLES, SEPARATED_ADMIN_ROLES, STAFF_ROLES, Role

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
GRID_MANAGERS = PLACE_LEADER_ROLES
PEOPLE = _("人口与网格")
POINTS = _("积分与志愿")
APPEALS = _("诉求")
SITES = _("阵地与服务")
# Everyone who works with residents of a place: grid and building workers and up.
COMMUNITY_WORKERS = GRID_MANAGERS | GRID_WORKERS | {Role.BUILDING_LEADER}

NAV: list[NavItem] = [
    NavItem("web:console", _("首页"), frozenset(STAFF_ROLES)),
    NavItem("dashboards:figures", _("数据概览"), GRID_MANAGERS),
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
    NavItem("appeals:queue", _("今日待办诉求"), GRID_WORKERS, APPEALS),
    NavItem("appeals:triage", _("诉求分拣"), GRID_MANAGERS, APPEALS),
    NavItem("appeals:overdue", _("超期清单"), GRID_MANAGERS, APPEALS),
    NavItem("appeals:month", _("月末分类"), GRID_MANAGERS, APPEALS),
    NavItem("appeals:intake", _("代为登记诉求"), COMMUNITY_WORKERS, APPEALS),
    NavItem(
        "appeals:joint",
        _("会办案件"),
        frozenset(
            {
                Role.PARTY_SECRETARY,
                Role.DEPARTMENT_STAFF,
                Role.STREET_ADMIN,
                Role.DISTRICT_ADMIN,
                Role.COUNTY_ADMIN,
                Role.CITY_ADMIN,
            }
        ),
        APPEALS,
    ),
    NavItem("appeals:disputes", _("矛盾纠纷调解"), GRID_MANAGERS | GRID_WORKERS, APPEALS),
    NavItem("appeals:suggestions", _("金点子"), GRID_MANAGERS | GRID_WORKERS, APPEALS),
    NavItem(
        "appeals:categories",
        _("诉求类别"),
        frozenset({Role.CITY_ADMIN, Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN}),
        APPEALS,
    ),
    NavItem("appeals:notifications", _("通知"), frozenset(STAFF_ROLES), APPEALS),
    NavItem("sites:console-index", _("服务阵地"), REGISTRY_ROLES | {Role.SYSTEM_ADMIN}, SITES),
    NavItem("sites:console-partners", _("社区合伙人"), GRID_MANAGERS | {Role.PARTNER}, SITES),
    NavItem("sites:console-report", _("服务人次统计"), GRID_MANAGERS, SITES),
    NavItem(
        "sites:console-settings",
        _("阵地设置"),
        frozenset({Role.SYSTEM_ADMIN, Role.CITY_ADMIN, Role.COUNTY_ADMIN}),
        SITES,
    ),
    NavItem("points:counter", _("兑换柜台"), GRID_MANAGERS | {Role.OUTLET_CLERK}, POINTS),
    NavItem("points:home", _("积分管理"), COMMUNITY_WORKERS, POINTS),
    NavItem("canteen:counter", _("食堂收银台"), GRID_MANAGERS | {Role.OUTLET_CLERK}, POINTS),
    NavItem("canteen:index", _("幸福食堂"), COMMUNITY_WORKERS, POINTS),
    NavItem("volunteers:index", _("志愿服务"), COMMUNITY_WORKERS, POINTS),
    NavItem("open311:keys", _("Open311 密钥"), frozenset({Role.SYSTEM_ADMIN}), _("安全")),
    NavItem("accounts:roles", _("角色授权"), frozenset({Role.SECURITY_ADMIN}), _("安全")),
    NavItem("accounts:audit-log", _("审计日志"), frozenset({Role.AUDITOR}), _("安全")),
    NavItem("admin:index", _("系统管理"), frozenset({Role.SYSTEM_ADMIN}), _("安全")),
    NavItem(
        "api-docs", _("接口文档"), frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}), _("安全")
    ),
]


def nav_for(roles: set[str]) -> list[NavItem]:
    return [item for item in NAV if item.roles & roles]


@dataclass(frozen=True)
class Link:
    url_name: str
    label: str | Promise


# The resident home: what anyone may use, and what a signed-in resident has.
PUBLIC_LINKS: list[Link] = [
    Link("sites:near", _("附近的党群服务阵地")),
    Link("appeals:board-index", _("诉求办理公示")),
    Link("appeals:wish-wall", _("心愿墙")),
    Link("appeals:receipt", _("凭回执码查进度")),
    Link("canteen:public", _("幸福食堂")),
]
RESIDENT_LINKS: list[Link] = [
    Link("appeals:report", _("反映诉求")),
    Link("appeals:my-cases", _("我的诉求")),
    Link("appeals:notifications", _("我的消息")),
    Link("sites:mine", _("我的预约")),
    Link("points:mine", _("我的积分")),
    Link("volunteers:mine", _("我的志愿服务")),
    Link("canteen:mine", _("我的就餐")),
    Link("people:my-record", _("我的信息")),
]
