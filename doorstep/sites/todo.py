"""What waits at the sites for a staff user, for the console's home (``core.todo``): the
open service requests (proxy matters and appointments) at the sites they run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import scoped
from doorstep.core.todo import Todo, counted

from .choices import OPEN_STATUSES
from .models import ServiceRequest
from .rules import is_site_manager


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    if not is_site_manager(user):
        return []
    open_requests = scoped(user, ServiceRequest).filter(status__in=sorted(OPEN_STATUSES))
    return [
        counted(_("阵地待办理的代办和预约"), open_requests, reverse("sites:console-index"),
                weight=40),
    ]  # fmt: skip
