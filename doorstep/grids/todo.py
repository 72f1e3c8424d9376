"""What waits in grids for a staff user, for the console's home (``core.todo``): the
households of a grid member (or of a grid leader's grid) overdue for a home visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import has_role
from doorstep.core.todo import Todo, counted

from .selectors import my_households, overdue_days


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    if not has_role(user, Role.GRID_MEMBER, Role.GRID_LEADER):
        return []
    days = overdue_days()
    mine = my_households(actor=user, today=timezone.localdate(now), days=days)
    overdue = mine.filter(overdue=True)  # type: ignore[misc]  # annotated by my_households
    label = _("超过 %(days)d 天未走访的住户") % {"days": days}
    return [counted(label, overdue, reverse("grids:my-grid"), weight=13)]
