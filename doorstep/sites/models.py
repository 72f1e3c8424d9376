"""Service sites at four levels (plus village centers), what they offer and when they are
open, their rooms and bookings, service requests and records, programs for the old and
the young, community partners with their revenue shares, and the road network of the
15-minute circle.

Coordinates are WGS-84 (input in GCJ-02 or BD-09 is converted by the services). Times
are stored in UTC; opening hours are wall-clock times in Asia/Shanghai.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from doorstep.core.models import BaseModel
from doorstep.orgs.models import PartyOrg, Unit
from doorstep.people.models import Person

from .choices import (
    BookingStatus,
    EnrolmentStatus,
    HolidayKind,
    ManagerKind,
    PartnerKind,
    Pricing,
    ProgramKind,
    RequestMode,
    RequestStatus,
    SiteLevel,
    StationSetting,
)

# The names the defaults were seeded with (migration 0002), in the reader's language.
BUILTIN_NAMES = {
    name: label
    for name, label in (
        ("综合", _("综合")), ("养老", _("养老")), ("教育培训", _("教育培训")),
        ("医疗健康", _("医疗健康")), ("托育", _("托育")), ("就业", _("就业")),
        ("文体", _("文体")), ("法律", _("法律")),
        ("两新党建指导站", _("两新党建指导站")), ("政务服务站", _("政务服务站")),
        ("联动警务站", _("联动警务站")), ("就业服务站", _("就业服务站")),
        ("小哥能量站", _("小哥能量站")), ("退役军人服务站", _("退役军人服务站")),
        ("志愿服务站", _("志愿服务站")), ("法律服务站", _("法律服务站")),
        ("健康服务站", _("健康服务站")),
        ("饮用水", _("饮用水")), ("手机充电", _("手机充电")), ("休息区", _("休息区")),
        ("热饭", _("热饭")), ("急救药箱", _("急救药箱")), ("维修和针线工具", _("维修和针线工具")),
        ("微波炉", _("微波炉")), ("免费 Wi-Fi", _("免费 Wi-Fi")), ("卫生间", _("卫生间")),
    )
}  # fmt: skip


class _Vocabulary(BaseModel):
    """A configurable list entry: a stable code, a display name and an order."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name shown on pages: a default entry still under its first name in the
        reader's language; one added or renamed in the admin as it was written. The API
        and files keep ``name``."""
        builtin = BUILTIN_NAMES.get(self.name)
        return str(builtin) if builtin is not None else self.name


class ServiceCategory(_Vocabulary):
    """One of the eight service categories (综合, 养老, 教育培训, 医疗健康 …)."""

    class Meta(_Vocabulary.Meta):
        verbose_name = _("服务类别")
        verbose_name_plural = _("服务类别")


class StationType(_Vocabulary):
    """A station of "nine stations in one" (两新党建指导站, 政务服务站 …)."""

    class Meta(_Vocabulary.Meta):
        verbose_name = _("站点类型")
        verbose_name_plural = _("站点类型")


class Amenity(_Vocabulary):
    """An everyday facility: drinking water, phone charging, rest, meal heating …"""

    class Meta(_Vocabulary.Meta):
        verbose_name = _("便民设施")
        verbose_name_plural = _("便民设施")


class Site(BaseModel):
    """A service site (党群服务中心 / 站 / 之家) of one level, hanging under a site of the
    level above, in an administrative unit, managed by an organization (a community, a
    property company …) and hosting a functional party organization."""

    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=20, choices=SiteLevel.choices)
    setting = models.CharField(
        _("所在场景"), max_length=20, choices=StationSetting.choices, blank=True, default=""
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级阵地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属单元"), on_delete=models.PROTECT, related_name="sites"
    )
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    address = models.CharField(_("地址"), max_length=200)
    phone = models.CharField(_("服务电话"), max_length=30, blank=True)
    manager_kind = models.CharField(_("管理主体类型"), max_length=20, choices=ManagerKind.choices)
    manager_name = models.CharField(_("管理主体"), max_length=100)
    party_org = models.ForeignKey(
        PartyOrg,
        verbose_name=_("功能型党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sites",
    )
    categories = models.ManyToManyField(
        ServiceCategory, verbose_name=_("服务类别"), blank=True, related_name="sites"
    )
    station_types = models.ManyToManyField(
        StationType, verbose_name=_("站点类型"), blank=True, related_name="sites"
    )
    amenities = models.ManyToManyField(
        Amenity, verbose_name=_("便民设施"), blank=True, related_name="sites"
    )
    description = models.TextField(_("简介"), max_length=2000, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务阵地")
        verbose_name_plural = _("服务阵地")
        ordering = ["unit__path", "level", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"],
                name="sites_site_name_unique_in_unit",
                violation_error_message=_("该单元已有同名阵地。"),
            ),
            models.CheckConstraint(
                condition=Q(lat__gte=3.8, lat__lte=53.6, lng__gte=73.5, lng__lte=135.1),
                name="sites_site_in_china",
                violation_error_message=_("该坐标不在中国境内。"),
            ),
        ]
        indexes = [
            models.Index(fields=["lat", "lng"], name="sites_site_latlng"),
            models.Index(fields=["level", "is_active"], name="sites_site_level_active"),
        ]

    def __str__(self) -> str:
        return self.name


class OpeningHours(BaseModel):
    """One opening interval of a site's weekly schedule: ``day`` 0–6 is Monday–Sunday,
    7 is public holidays (a site with no day-7 rows is closed on holidays). Extended
    intervals (延时服务) are marked so that they can be shown and counted apart."""

    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.CASCADE, related_name="hours"
    )
    day = models.PositiveSmallIntegerField(_("星期"))
    opens = models.TimeField(_("开门"))
    closes = models.TimeField(_("关门"))
    extended = models.BooleanField(_("延时服务"), default=False)

    class Meta:
        verbose_name = _("开放时间")
        verbose_name_plural = _("开放时间")
        ordering = ["site", "day", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")),
                name="sites_hours_close_after_open",
                violation_error_message=_("关门时间必须晚于开门时间。"),
            ),
            models.CheckConstraint(
                condition=Q(day__lte=7),
                name="sites_hours_day_valid",
                violation_error_message=_("星期无效。"),
            ),
        ]


class SiteClosure(BaseModel):
    """A dated exception to the weekly schedule: closed for the days (no hours), or open
    only at the given hours on those days (e.g. holiday duty for couriers and riders)."""

    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.CASCADE, related_name="closures"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    opens = models.TimeField(_("当日开门"), null=True, blank=True)
    closes = models.TimeField(_("当日关门"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=100)

    class Meta:
        verbose_name = _("临时闭馆/特别时间")
        verbose_name_plural = _("临时闭馆/特别时间")
        ordering = ["site", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="sites_closure_dates_ordered",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
            models.CheckConstraint(
                condition=(Q(opens__isnull=True) & Q(closes__isnull=True))
                | (Q(opens__isnull=False) & Q(closes__gt=F("opens"))),
                name="sites_closure_hours_valid",
                violation_error_message=_("关门时间必须晚于开门时间。"),
            ),
        ]


class HolidayDay(BaseModel):
    """A day of the national holiday calendar: a public holiday, or an adjusted working
    day (调休) on a weekend. Loaded per year from a file by an administrator."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=HolidayKind.choices)
    name = models.CharField(_("名称"), max_length=40)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Room(BaseModel):
    """A room of a site (一室多用): its capacity and the services it is used for."""

    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="rooms"
    )
    name = models.CharField(_("名称"), max_length=50)
    capacity = models.PositiveIntegerField(_("容纳人数"))
    functions = models.ManyToManyField(
        ServiceCategory, verbose_name=_("功能"), blank=True, related_name="rooms"
    )
    bookable_by_residents = models.BooleanField(_("居民可预订"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("功能室")
        verbose_name_plural = _("功能室")
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "name"],
                name="sites_room_name_unique_in_site",
                violation_error_message=_("该阵地已有同名功能室。"),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1),
                name="sites_room_capacity_positive",
                violation_error_message=_("容纳人数至少为 1。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site.name}·{self.name}"


class BookingSeries(BaseModel):
    """A recurring booking: the rule its occurrences were made from."""

    room = models.ForeignKey(
        Room, verbose_name=_("功能室"), on_delete=models.PROTECT, related_name="series"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("预订人"),
        on_delete=models.PROTECT,
        related_name="booking_series",
    )
    purpose = models.CharField(_("用途"), max_length=100)
    weekdays = models.JSONField(_("每周哪几天"), default=list)
    interval_weeks = models.PositiveSmallIntegerField(_("间隔周数"), default=1)
    first_date = models.DateField(_("首次日期"))
    last_date = models.DateField(_("末次日期"))
    starts = models.TimeField(_("开始时间"))
    ends = models.TimeField(_("结束时间"))

    class Meta:
        verbose_name = _("周期预订")
        verbose_name_plural = _("周期预订")


class Booking(BaseModel):
    """A room booked for a time. Two confirmed bookings of one room never overlap: an
    exclusion constraint on PostgreSQL (migration 0002), a check inside a serialized
    (IMMEDIATE) transaction on SQLite — see docs/adr/0010."""

    room = models.ForeignKey(
        Room, verbose_name=_("功能室"), on_delete=models.PROTECT, related_name="bookings"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("预订人"),
        on_delete=models.PROTECT,
        related_name="room_bookings",
    )
    series = models.ForeignKey(
        BookingSeries,
        verbose_name=_("周期预订"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    purpose = models.CharField(_("用途"), max_length=100)
    attendees = models.PositiveIntegerField(_("人数"), default=1)
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    status = models.CharField(
        _("状态"), max_length=10, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED
    )

    class Meta:
        verbose_name = _("场地预订")
        verbose_name_plural = _("场地预订")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="sites_booking_end_after_start",
                violation_error_message=_("结束时间必须晚于开始时间。"),
            )
        ]
        indexes = [
            models.Index(fields=["room", "starts_at"], name="sites_booking_room_start"),
        ]


class BookingEvent(models.Model):
    """Append-only history of a booking: who booked or cancelled it, when."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("动作"), max_length=20)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.action}"


class AppointmentSlot(BaseModel):
    """A time slot in which a site takes appointments for a service category, with a
    capacity; ``booked`` counts active appointments and never exceeds it."""

    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="slots"
    )
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("服务类别"), on_delete=models.PROTECT, related_name="+"
    )
    service = models.CharField(_("事项"), max_length=100)
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    capacity = models.PositiveIntegerField(_("名额"))
    booked = models.PositiveIntegerField(_("已约"), default=0)

    class Meta:
        verbose_name = _("预约时段")
        verbose_name_plural = _("预约时段")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")),
                name="sites_slot_within_capacity",
                violation_error_message=_("该时段已约满。"),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="sites_slot_end_after_start",
                violation_error_message=_("结束时间必须晚于开始时间。"),
            ),
        ]


class ServiceRequest(BaseModel):
    """A matter a resident brings to a site: handled on receipt (done at once), by
    appointment in a slot, or by proxy (staff handle it with the documents listed)."""

    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="requests"
    )
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("服务类别"), on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(_("办理方式"), max_length=20, choices=RequestMode.choices)
    status = models.CharField(_("状态"), max_length=20, choices=RequestStatus.choices)
    matter = models.CharField(_("事项"), max_length=100)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    person = models.ForeignKey(
        Person,
        verbose_name=_("服务对象"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    slot = models.ForeignKey(
        AppointmentSlot,
        verbose_name=_("预约时段"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    documents = models.JSONField(_("材料清单"), default=list, blank=True)
    note = models.TextField(_("备注"), max_length=1000, blank=True)
    done_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Who sent it (the resident, or the staff member entering it) and the key their
    # phone or form chose for it: the same key again is the same request, not a second
    # place in a slot.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("服务申请")
        verbose_name_plural = _("服务申请")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "status"], name="sites_request_site_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="sites_request_one_per_key",
            )
        ]


class RequestEvent(models.Model):
    """Append-only history of a service request's states."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.from_status}→{self.to_status}"


class Partner(BaseModel):
    """A community partner (社区合伙人): a social organization, merchant, state-owned
    enterprise or volunteer who gives services at sites."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=PartnerKind.choices)
    unit = models.ForeignKey(
        Unit, verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="partners"
    )
    contact = models.CharField(_("联系方式（单位）"), max_length=100, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("社区合伙人")
        verbose_name_plural = _("社区合伙人")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"],
                name="sites_partner_name_unique_in_unit",
                violation_error_message=_("该社区已有同名合伙人。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class PartnerService(BaseModel):
    """A service a partner gives at a site: free, low-cost or paid (price in fen)."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("合伙人"), on_delete=models.PROTECT, related_name="services"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="partner_services"
    )
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("服务类别"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("服务名称"), max_length=100)
    pricing = models.CharField(_("收费方式"), max_length=10, choices=Pricing.choices)
    price_fen = models.PositiveIntegerField(_("单价（分）"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("合伙人服务")
        verbose_name_plural = _("合伙人服务")
        ordering = ["partner", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pricing="free", price_fen=0)
                | (~Q(pricing="free") & Q(price_fen__gt=0)),
                name="sites_partner_service_price_matches_pricing",
                violation_error_message=_("无偿服务不收费，低偿和有偿服务须填写单价。"),
            )
        ]


class RevenueShare(BaseModel):
    """A revenue-share agreement (收益分成): of what a partner's paid and low-cost services
    take in at a site, the partner keeps ``partner_share_bp`` basis points."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("合伙人"), on_delete=models.PROTECT, related_name="agreements"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="agreements"
    )
    partner_share_bp = models.PositiveIntegerField(_("合伙人分成（万分比）"))
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    terms = models.TextField(_("条款"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("收益分成协议")
        verbose_name_plural = _("收益分成协议")
        constraints = [
            models.CheckConstraint(
                condition=Q(partner_share_bp__lte=10000),
                name="sites_share_at_most_whole",
                violation_error_message=_("分成比例不能超过 100%。"),
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="sites_share_dates_ordered",
                violation_error_message=_("截止日期不能早于生效日期。"),
            ),
        ]


class Settlement(BaseModel):
    """A settlement statement of one agreement for one period: what was taken in, and
    each side's share (integers, fen)."""

    agreement = models.ForeignKey(
        RevenueShare, verbose_name=_("协议"), on_delete=models.PROTECT, related_name="settlements"
    )
    period_start = models.DateField(_("期间开始"))
    period_end = models.DateField(_("期间结束"))
    records = models.PositiveIntegerField(_("服务笔数"))
    gross_fen = models.PositiveBigIntegerField(_("收入（分）"))
    partner_fen = models.PositiveBigIntegerField(_("合伙人分成（分）"))
    community_fen = models.PositiveBigIntegerField(_("社区留存（分）"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("出具人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("结算单")
        verbose_name_plural = _("结算单")
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "period_start"],
                name="sites_settlement_once_per_period",
                violation_error_message=_("该期间已出具结算单。"),
            ),
            models.CheckConstraint(
                condition=Q(gross_fen=F("partner_fen") + F("community_fen")),
                name="sites_settlement_shares_add_up",
                violation_error_message=_("分成之和必须等于收入。"),
            ),
        ]


class Program(BaseModel):
    """A program for the old or the young (一老一小) at a site: day care, senior
    university, after-school class …, with a capacity."""

    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="programs"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=ProgramKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("服务类别"), on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("承办合伙人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="programs",
    )
    capacity = models.PositiveIntegerField(_("名额"))
    enrolled = models.PositiveIntegerField(_("在读人数"), default=0)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    # A program that needs an assessment first (day care, short stay) stays staff-only.
    open_to_residents = models.BooleanField(_("居民可在线报名"), default=False)

    class Meta:
        verbose_name = _("一老一小项目")
        verbose_name_plural = _("一老一小项目")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(enrolled__lte=F("capacity")),
                name="sites_program_within_capacity",
                violation_error_message=_("名额已满。"),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="sites_program_dates_ordered",
                violation_error_message=_("结束日期不能早于开始日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Enrolment(BaseModel):
    """A person enrolled in a program."""

    program = models.ForeignKey(
        Program, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="enrolments"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("学员/服务对象"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE
    )
    enrolled_on = models.DateField(_("报名日期"))

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "person"],
                condition=Q(status="active"),
                name="sites_enrolment_once_active",
                violation_error_message=_("此人已报名该项目。"),
            )
        ]


class Attendance(BaseModel):
    """One person present at one session (day) of a program."""

    enrolment = models.ForeignKey(
        Enrolment, verbose_name=_("报名"), on_delete=models.PROTECT, related_name="attendances"
    )
    date = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("出勤")
        verbose_name_plural = _("出勤")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "date"],
                name="sites_attendance_once_a_day",
                violation_error_message=_("当天已记出勤。"),
            )
        ]


class ServiceRecord(BaseModel):
    """A delivered service: the source of person-times per site, category, level and
    period, and (with an amount) of a partner's revenue."""

    site = models.ForeignKey(
        Site, verbose_name=_("阵地"), on_delete=models.PROTECT, related_name="records"
    )
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("服务类别"), on_delete=models.PROTECT, related_name="+"
    )
    delivered_at = models.DateTimeField(_("服务时间"), db_index=True)
    person_times = models.PositiveIntegerField(_("人次"), default=1)
    request = models.OneToOneField(
        ServiceRequest,
        verbose_name=_("服务申请"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="record",
    )
    program = models.ForeignKey(
        Program,
        verbose_name=_("项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
    )
    partner_service = models.ForeignKey(
        PartnerService,
        verbose_name=_("合伙人服务"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
    )
    amount_fen = models.PositiveIntegerField(_("收费（分）"), default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-delivered_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person_times__gte=1),
                name="sites_record_person_times_positive",
                violation_error_message=_("人次至少为 1。"),
            )
        ]
        indexes = [
            models.Index(fields=["site", "delivered_at"], name="sites_record_site_time"),
        ]


class CircleSettings(BaseModel):
    """The 15-minute circle's parameters (one row): walking speed, the detour factor of
    the straight-line model, and the minutes that count as covered."""

    walking_speed_m_per_min = models.FloatField(_("步行速度（米/分钟）"), default=75.0)
    detour_factor = models.FloatField(_("绕行系数"), default=1.3)
    minutes = models.PositiveSmallIntegerField(_("分钟数"), default=15)

    class Meta:
        verbose_name = _("15分钟圈参数")
        verbose_name_plural = _("15分钟圈参数")
        constraints = [
            models.CheckConstraint(
                condition=Q(walking_speed_m_per_min__gt=10, walking_speed_m_per_min__lt=300),
                name="sites_circle_speed_sane",
                violation_error_message=_("步行速度应在 10 到 300 米/分钟之间。"),
            ),
            models.CheckConstraint(
                condition=Q(detour_factor__gte=1, detour_factor__lte=3),
                name="sites_circle_detour_sane",
                violation_error_message=_("绕行系数应在 1 到 3 之间。"),
            ),
        ]


class RoadNetwork(BaseModel):
    """A walking network loaded by an administrator (OSM .pbf or GeoJSON lines), kept
    in the database as compressed arrays so that every app machine can read it. The
    newest active network is the one the 15-minute circle uses."""

    name = models.CharField(_("名称"), max_length=100)
    source = models.CharField(_("来源文件"), max_length=200)
    nodes = models.PositiveIntegerField(_("节点数"))
    edges = models.PositiveIntegerField(_("路段数"))
    min_lat = models.FloatField()
    min_lng = models.FloatField()
    max_lat = models.FloatField()
    max_lng = models.FloatField()
    data = models.BinaryField(_("数据"))
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("步行路网")
        verbose_name_plural = _("步行路网")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class SiteEvent(models.Model):
    """Append-only history of how the network was set up: a site created or edited, its
    hours, closures, rooms, slots and programs, partners with their services, agreements
    and settlements — who did it, when, and what changed. ``unit`` is the unit of the
    site (or of the partner) so that the history is scoped like the rows it is about."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("动作"), max_length=30)
    object_type = models.CharField(_("对象"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    detail = models.JSONField(_("内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("阵地变更记录")
        verbose_name_plural = _("阵地变更记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["site", "at"], name="sites_event_site_at")]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id} {self.action}"
