"""Levels, modes, states and kinds of the sites app, and the allowed state transitions
(as data, so that a test can walk them all)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SiteLevel(models.TextChoices):
    AREA_CENTER = "area_center", _("片区党群服务中心")
    COMMUNITY_CENTER = "community_center", _("社区党群服务中心")
    STATION = "station", _("“红立方”党群服务站")
    HOME = "home", _("小区“红立方”党群服务之家")
    VILLAGE_CENTER = "village_center", _("村党群服务中心")


# The level a site may hang under (its parent site's level).
PARENT_LEVELS: dict[str, set[str]] = {
    SiteLevel.AREA_CENTER: set(),
    SiteLevel.COMMUNITY_CENTER: {SiteLevel.AREA_CENTER},
    SiteLevel.VILLAGE_CENTER: {SiteLevel.AREA_CENTER},
    SiteLevel.STATION: {SiteLevel.COMMUNITY_CENTER, SiteLevel.AREA_CENTER},
    SiteLevel.HOME: {SiteLevel.COMMUNITY_CENTER, SiteLevel.STATION, SiteLevel.VILLAGE_CENTER},
}


class StationSetting(models.TextChoices):
    NONE = "", _("不适用")
    SHOPPING_AREA = "shopping_area", _("商圈")
    OFFICE_BUILDING = "office_building", _("楼宇")


class ManagerKind(models.TextChoices):
    COMMUNITY = "community", _("社区/村党组织")
    STREET = "street", _("街道/乡镇")
    PROPERTY_COMPANY = "property_company", _("物业服务企业")
    SOCIAL_ORG = "social_org", _("社会组织")
    ENTERPRISE = "enterprise", _("企业")


class Datum(models.TextChoices):
    WGS84 = "wgs84", _("WGS-84（GPS）")
    GCJ02 = "gcj02", _("GCJ-02（高德、腾讯地图）")
    BD09 = "bd09", _("BD-09（百度地图）")


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("法定节假日")
    WORKDAY = "workday", _("调休上班日")


# Day numbers of OpeningHours.day: 0 = Monday … 6 = Sunday, 7 = public holidays.
HOLIDAY_DAY = 7
DAY_NAMES = [
    _("周一"),
    _("周二"),
    _("周三"),
    _("周四"),
    _("周五"),
    _("周六"),
    _("周日"),
    _("节假日"),
]


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("已预订")
    CANCELLED = "cancelled", _("已取消")


class RequestMode(models.TextChoices):
    ON_RECEIPT = "on_receipt", _("接件即办")
    APPOINTMENT = "appointment", _("预约")
    PROXY = "proxy", _("代办")


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    BOOKED = "booked", _("已预约")
    ACCEPTED = "accepted", _("已受理")
    IN_PROGRESS = "in_progress", _("办理中")
    DONE = "done", _("已办结")
    RETURNED = "returned", _("已退回")
    CANCELLED = "cancelled", _("已取消")
    NO_SHOW = "no_show", _("未到场")


# Allowed transitions per mode; a request handled on receipt is created done.
TRANSITIONS: dict[str, dict[str, set[str]]] = {
    RequestMode.ON_RECEIPT: {},
    RequestMode.APPOINTMENT: {
        RequestStatus.BOOKED: {RequestStatus.DONE, RequestStatus.CANCELLED, RequestStatus.NO_SHOW},
    },
    RequestMode.PROXY: {
        RequestStatus.SUBMITTED: {
            RequestStatus.ACCEPTED,
            RequestStatus.RETURNED,
            RequestStatus.CANCELLED,
        },
        RequestStatus.ACCEPTED: {RequestStatus.IN_PROGRESS, RequestStatus.RETURNED},
        RequestStatus.IN_PROGRESS: {RequestStatus.DONE, RequestStatus.RETURNED},
    },
}
OPEN_STATUSES = {
    RequestStatus.SUBMITTED,
    RequestStatus.BOOKED,
    RequestStatus.ACCEPTED,
    RequestStatus.IN_PROGRESS,
}


class ProgramKind(models.TextChoices):
    DAY_CARE = "day_care", _("日间照料")
    SHORT_STAY = "short_stay", _("短期托养")
    REHABILITATION = "rehabilitation", _("康复护理")
    SENIOR_UNIVERSITY = "senior_university", _("老年大学")
    AFTER_SCHOOL = "after_school", _("课后托管（爱心课堂）")
    SUMMER_CARE = "summer_care", _("暑期托管")


PROGRAM_AUDIENCE = {
    ProgramKind.DAY_CARE: "old",
    ProgramKind.SHORT_STAY: "old",
    ProgramKind.REHABILITATION: "old",
    ProgramKind.SENIOR_UNIVERSITY: "old",
    ProgramKind.AFTER_SCHOOL: "young",
    ProgramKind.SUMMER_CARE: "young",
}


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", _("在读/在托")
    WITHDRAWN = "withdrawn", _("已退出")


class PartnerKind(models.TextChoices):
    SOCIAL_ORG = "social_org", _("社会组织")
    MERCHANT = "merchant", _("商户")
    STATE_ENTERPRISE = "state_enterprise", _("国有企业")
    VOLUNTEER = "volunteer", _("志愿者")


class Pricing(models.TextChoices):
    FREE = "free", _("无偿")
    LOW_COST = "low_cost", _("低偿")
    PAID = "paid", _("有偿")
