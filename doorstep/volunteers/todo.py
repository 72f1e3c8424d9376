"""What waits in volunteering, for the home pages (``core.todo``): for staff, volunteers
who have checked out and whose hours wait to be confirmed (confirming them credits their
points; the link opens the activity waiting longest); for a resident, the activities
they have signed up for that are still to come."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import grants, scoped
from doorstep.core.todo import Todo, counted

from .choices import SignupStatus
from .models import Signup
from .rules import ORGANIZER_ROLES
from .selectors import my_signups


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    if not any(grant.role in ORGANIZER_ROLES for grant in grants(user)):
        return []
    waiting = scoped(user, Signup).filter(status=SignupStatus.CHECKED_OUT)
    oldest = (
        waiting.order_by("activity__starts_at", "activity_id")
        .values_list("activity_id", flat=True)
        .first()
    )
    url = (
        reverse("volunteers:activity", args=[oldest])
        if oldest is not None
        else reverse("volunteers:index")
    )
    return [counted(_("待确认时长的志愿者"), waiting, url, weight=45)]


def mine(user: Any, now: dt.datetime) -> list[Todo]:
    ahead = my_signups(actor=user).filter(
        status=SignupStatus.SIGNED_UP, activity__starts_at__gt=now
    )
    return [counted(_("已报名、待参加的志愿活动"), ahead, reverse("volunteers:mine"), weight=30)]
