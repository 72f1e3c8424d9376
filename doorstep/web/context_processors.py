from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from doorstep.accounts.roles import STAFF_ROLES
from doorstep.accounts.scoping import roles_of

from .nav import nav_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else set()
    current = request.path
    items = [(item, reverse(item.url_name)) for item in nav_for(roles)]
    # The one item the page belongs to: the longest link the path starts with, so that
    # /console/appeals/overdue/ marks 超期清单 and not 诉求分拣 (/console/appeals/) too.
    matches = [
        url
        for _item, url in items
        if current == url or (url != "/console/" and current.startswith(url))
    ]
    active = max(matches, key=len, default=None)
    nav = [
        {"url": url, "label": item.label, "section": item.section, "active": url == active}
        for item, url in items
    ]
    return {
        "jurisdiction_name": settings.DOORSTEP["JURISDICTION_NAME"],
        "elder_mode": getattr(request, "elder_mode", False),
        "is_staff_user": bool(roles & STAFF_ROLES),
        "console_nav": nav,
    }
