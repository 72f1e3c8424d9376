"""What waits at the sites, for the home pages (``core.todo``): for staff, the open
service requests (proxy matters and appointments) at the sites they run; for a resident,
their bookings and appointments coming up and their matters still being handled."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import scoped
from doorstep.core.todo import Todo, counted

from .choices import OPEN_STATUSES, BookingStatus
from .models import Booking, ServiceRequest
from .rules import is_site_manager
from .selectors import my_requests


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    if not is_site_manager(user):
        return []
    open_requests = scoped(user, ServiceRequest).filter(status__in=sorted(OPEN_STATUSES))
    return [
        counted(_("阵地待办理的代办和预约"), open_requests, reverse("sites:console-index"),
                weight=40),
    ]  # fmt: skip


def mine(user: Any, now: dt.datetime) -> list[Todo]:
    bookings = scoped(user, Booking).filter(
        booked_by_id=user.pk, status=BookingStatus.CONFIRMED, ends_at__gt=now
    )
    requests_ = my_requests(user).filter(status__in=sorted(OPEN_STATUSES))
    url = reverse("sites:mine")
    return [
        counted(_("待使用的功能室预订"), bookings, url, weight=20),
        counted(_("预约和代办中的事项"), requests_, url, weight=21),
    ]
