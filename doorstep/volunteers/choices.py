"""Choices of the volunteers app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("报名中")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class SignupStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("已报名")
    CHECKED_IN = "checked_in", _("已签到")
    CHECKED_OUT = "checked_out", _("已签退")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("未确认")
    CANCELLED = "cancelled", _("已取消")


class CheckMethod(models.TextChoices):
    STAFF = "staff", _("工作人员登记")
    QR = "qr", _("现场扫码")


# Which statuses each status may move to (a test walks them all).
TRANSITIONS: dict[str, frozenset[str]] = {
    SignupStatus.SIGNED_UP: frozenset(
        {SignupStatus.CHECKED_IN, SignupStatus.CANCELLED, SignupStatus.REJECTED}
    ),
    SignupStatus.CHECKED_IN: frozenset({SignupStatus.CHECKED_OUT, SignupStatus.REJECTED}),
    SignupStatus.CHECKED_OUT: frozenset({SignupStatus.CONFIRMED, SignupStatus.REJECTED}),
    SignupStatus.CONFIRMED: frozenset(),
    SignupStatus.REJECTED: frozenset(),
    SignupStatus.CANCELLED: frozenset(),
}
ACTIVE_SIGNUP = (
    SignupStatus.SIGNED_UP,
    SignupStatus.CHECKED_IN,
    SignupStatus.CHECKED_OUT,
    SignupStatus.CONFIRMED,
)

# Cumulative hours for one to five stars (星级志愿者), unless a unit sets its own.
DEFAULT_STAR_HOURS = (100, 300, 600, 1000, 1500)
