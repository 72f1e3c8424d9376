"""Volunteer teams and their members, activities and posts with their slots and points
rule, sign-ups with check-in and check-out, and the star thresholds of a unit.

Hours come from check-in and check-out; an organizer confirms them, and only then does
the ledger pay points (``points.services.points_earn``), once per sign-up.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from doorstep.core.models import BaseModel
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.points.choices import ActivityType
from doorstep.points.models import EarningRule, Transfer

from .choices import ACTIVE_SIGNUP, DEFAULT_STAR_HOURS, ActivityStatus, CheckMethod, SignupStatus


class Team(BaseModel):
    """A volunteer team (志愿服务队) run by a community, with a leader and the unit it
    serves (a compound, a building, a site's unit)."""

    unit = models.ForeignKey(
        Unit,
        verbose_name=_("所属社区/村"),
        on_delete=models.PROTECT,
        related_name="volunteer_teams",
    )
    name = models.CharField(_("名称"), max_length=60)
    leader = models.ForeignKey(
        Person,
        verbose_name=_("队长"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_teams",
    )
    serves = models.ForeignKey(
        Unit,
        verbose_name=pgettext_lazy("team", "服务对象"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"],
                name="volunteers_team_name_unique_in_unit",
                violation_error_message=_("该社区/村已有同名志愿服务队。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(BaseModel):
    """A person's membership of a team; ended, not deleted, when they leave."""

    team = models.ForeignKey(
        Team, verbose_name=_("志愿服务队"), on_delete=models.PROTECT, related_name="members"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("队员"), on_delete=models.PROTECT, related_name="team_memberships"
    )
    joined_on = models.DateField(_("加入日期"))
    left_on = models.DateField(_("离队日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("队员")
        verbose_name_plural = _("队员")
        ordering = ["team", "joined_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "person"],
                condition=Q(left_on__isnull=True),
                name="volunteers_member_once_per_team",
                violation_error_message=_("该居民已是本队队员。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.person}"


class Activity(BaseModel):
    """An activity or post (岗位): what, when, where, how many volunteers, and the points
    rule it was announced with. A party-member post (党员认领岗位) is claimed by party
    members only."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("所属社区/村"), on_delete=models.PROTECT, related_name="activities"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("志愿服务队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    title = models.CharField(_("名称"), max_length=80)
    activity_type = models.CharField(_("活动类型"), max_length=20, choices=ActivityType.choices)
    place = models.CharField(_("地点"), max_length=120)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    slots = models.PositiveIntegerField(_("名额"))
    is_party_post = models.BooleanField(_("党员认领岗位"), default=False)
    points_rule = models.ForeignKey(
        EarningRule,
        verbose_name=_("积分规则"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    organizer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("组织者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organized_activities",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.OPEN
    )
    # What the QR code posted at the place holds: volunteers scan it to check in and out.
    checkin_token = models.CharField(_("签到码"), max_length=32, unique=True, editable=False)

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="volunteers_activity_ends_after_start",
                violation_error_message=_("结束时间须晚于开始时间。"),
            ),
            models.CheckConstraint(
                condition=Q(slots__gt=0),
                name="volunteers_activity_has_slots",
                violation_error_message=_("名额须为正整数。"),
            ),
        ]
        indexes = [models.Index(fields=["unit", "starts_at"], name="volunteers_activity_unit_time")]

    def __str__(self) -> str:
        return self.title

    @property
    def scheduled_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class Signup(BaseModel):
    """A volunteer's sign-up for an activity, with their check-in and check-out, the
    minutes confirmed by the organizer and the transfer that paid the points."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("志愿活动"), on_delete=models.PROTECT, related_name="signups"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="volunteer_signups"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=SignupStatus.choices, default=SignupStatus.SIGNED_UP
    )
    party_claim = models.BooleanField(_("党员认领"), default=False)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    check_method = models.CharField(
        _("签到方式"), max_length=6, choices=CheckMethod.choices, blank=True
    )
    minutes = models.PositiveIntegerField(_("服务时长（分钟）"), default=0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    transfer = models.OneToOneField(
        Transfer,
        verbose_name=_("积分转账"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteer_signup",
    )

    class Meta:
        verbose_name = pgettext_lazy("volunteer", "报名")
        verbose_name_plural = pgettext_lazy("volunteer", "报名")
        ordering = ["activity", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "person"],
                condition=Q(status__in=ACTIVE_SIGNUP),
                name="volunteers_signup_once_per_activity",
                violation_error_message=_("已报名该活动。"),
            )
        ]
        indexes = [models.Index(fields=["person", "status"], name="volunteers_signup_person")]

    def __str__(self) -> str:
        return f"{self.activity} · {self.person}"


class StarThresholds(BaseModel):
    """Cumulative hours for one to five stars in a unit's subtree (default 100, 300,
    600, 1000, 1500)."""

    unit = models.OneToOneField(
        Unit, verbose_name=_("适用单元"), on_delete=models.PROTECT, related_name="star_thresholds"
    )
    one = models.PositiveIntegerField(_("一星（小时）"), default=DEFAULT_STAR_HOURS[0])
    two = models.PositiveIntegerField(_("二星（小时）"), default=DEFAULT_STAR_HOURS[1])
    three = models.PositiveIntegerField(_("三星（小时）"), default=DEFAULT_STAR_HOURS[2])
    four = models.PositiveIntegerField(_("四星（小时）"), default=DEFAULT_STAR_HOURS[3])
    five = models.PositiveIntegerField(_("五星（小时）"), default=DEFAULT_STAR_HOURS[4])

    class Meta:
        verbose_name = _("星级标准")
        verbose_name_plural = _("星级标准")
        constraints = [
            models.CheckConstraint(
                condition=Q(one__gt=0)
                & Q(two__gt=F("one"))
                & Q(three__gt=F("two"))
                & Q(four__gt=F("three"))
                & Q(five__gt=F("four")),
                name="volunteers_stars_ascending",
                violation_error_message=_("星级时长须逐级递增。"),
            )
        ]

    def __str__(self) -> str:
        return str(self.unit)

    @property
    def hours(self) -> tuple[int, int, int, int, int]:
        return (self.one, self.two, self.three, self.four, self.five)
