"""What waits in volunteering for a staff user, for the console's home (``core.todo``):
volunteers who have checked out and whose hours wait to be confirmed (confirming them
credits their points). The link opens the activity waiting longest."""

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


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    if not any(grant.role in ORGANIZER_ROLES for grant in grants(user)):
        return []
    waiting = scoped(user, Signup).filter(status=SignupStatus.CHECKED_OUT)
    oldest = waiting.order_by("activity__starts_at", "activity_id").values_list(
        "activity_id", flat=True
    )[:1]
    url = (
        reverse("volunteers:activity", args=[oldest[0]]) if oldest else reverse("volunteers:index")
    )
    return [counted(_("待确认时长的志愿者"), waiting, url, weight=45)]
