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
    nav = [
        {
            "url": url,
            "label": item.label,
            "section": item.section,
            "active": current == url or (url != "/console/" and current.startswith(url)),
        }
        for item in nav_for(roles)
        for url in [reverse(item.url_name)]
    ]
    return {
        "jurisdiction_name": settings.DOORSTEP["JURISDICTION_NAME"],
        "elder_mode": getattr(request, "elder_mode", False),
        "is_staff_user": bool(roles & STAFF_ROLES),
        "console_nav": nav,
    }
