"""Kinds of administrative unit, party organization and department, and how they nest."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    COUNTY = "county", _("县")
    STREET = "street", _("街道")
    TOWN = "town", _("乡镇")
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("村")
    AREA = "area", _("片区")
    COMPOUND = "compound", _("小区")
    NATURAL_VILLAGE = "natural_village", _("自然村")
    BUILDING = "building", _("楼栋")


# Which kinds may sit directly under which. ``None`` means "may be a root".
ALLOWED_PARENTS: dict[str, set[str | None]] = {
    UnitKind.CITY: {None},
    UnitKind.DISTRICT: {UnitKind.CITY, None},
    UnitKind.COUNTY: {UnitKind.CITY, None},
    UnitKind.STREET: {UnitKind.DISTRICT, UnitKind.COUNTY},
    UnitKind.TOWN: {UnitKind.DISTRICT, UnitKind.COUNTY},
    UnitKind.COMMUNITY: {UnitKind.STREET, UnitKind.TOWN},
    UnitKind.VILLAGE: {UnitKind.STREET, UnitKind.TOWN},
    # An area (片区) hangs under the street or town that runs it; the neighbouring units
    # it also serves are listed in Unit.spans, across administrative boundaries.
    UnitKind.AREA: {UnitKind.STREET, UnitKind.TOWN, UnitKind.DISTRICT, UnitKind.COUNTY},
    UnitKind.COMPOUND: {UnitKind.COMMUNITY, UnitKind.VILLAGE, UnitKind.AREA},
    UnitKind.NATURAL_VILLAGE: {UnitKind.VILLAGE},
    UnitKind.BUILDING: {
        UnitKind.COMPOUND,
        UnitKind.COMMUNITY,
        UnitKind.NATURAL_VILLAGE,
        UnitKind.VILLAGE,
    },
}

# Code formats: 6-digit GB/T 2260 division codes, 12-digit statistical codes, or free.
SIX_DIGIT_KINDS = {UnitKind.CITY, UnitKind.DISTRICT, UnitKind.COUNTY}
TWELVE_DIGIT_KINDS = {UnitKind.STREET, UnitKind.TOWN, UnitKind.COMMUNITY, UnitKind.VILLAGE}
OFFICIAL_CODE_KINDS = SIX_DIGIT_KINDS | TWELVE_DIGIT_KINDS

# The grassroots level at which committees (两委) sit and grids are drawn.
GRASSROOTS_KINDS = {UnitKind.COMMUNITY, UnitKind.VILLAGE}


class PartyOrgKind(models.TextChoices):
    COMMITTEE = "committee", _("党委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")
    GROUP = "group", _("党小组")
    FUNCTIONAL = "functional", _("功能型党组织")
    JOINT_COMMITTEE = "joint_committee", _("联合党委")


class DepartmentKind(models.TextChoices):
    POLICE = "police", _("公安派出所")
    URBAN_MANAGEMENT = "urban_management", _("城市管理")
    FISHERIES = "fisheries", _("海洋与渔业")
    EMERGENCY = "emergency", _("应急管理")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    HOUSING = "housing", _("住房和城乡建设")
    NATURAL_RESOURCES = "natural_resources", _("自然资源")
    HUMAN_RESOURCES = "human_resources", _("人力资源和社会保障")
    HEALTH = "health", _("卫生健康")
    JUSTICE = "justice", _("司法")
    MARKET_REGULATION = "market_regulation", _("市场监管")
    ECOLOGY = "ecology", _("生态环境")
    VETERANS = "veterans", _("退役军人事务")
    OTHER = "other", _("其他")
