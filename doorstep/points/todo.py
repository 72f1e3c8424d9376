"""What waits in points for a staff user, for the console's home (``core.todo``): goods
on sale at the outlets they run that have run out and wait to be restocked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import grants, scoped
from doorstep.core.todo import Todo, counted

from .models import Goods
from .rules import POINTS_MANAGER_ROLES


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    if not any(grant.role in POINTS_MANAGER_ROLES for grant in grants(user)):
        return []
    sold_out = scoped(user, Goods).filter(is_active=True, stock__lte=0, outlet__is_active=True)
    return [counted(_("已兑完、待补货的商品"), sold_out, reverse("points:home"), weight=50)]
