"""Session policy: staff sessions end after an idle period; expired passwords must be
changed before anything else."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .audit import audit_record
from .models import AuditAction
from .passwords import password_expired
from .rules import is_staff_user

LAST_SEEN_KEY = "doorstep_last_seen"
TOUCH_INTERVAL = 60  # seconds
EXEMPT_PREFIXES = ("/static/", "/healthz", "/i18n/", "/accounts/logout/", "/accounts/password/")


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            response = self._enforce(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _enforce(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        now = time.time()
        if is_staff_user(user):
            idle_limit = settings.STAFF_IDLE_TIMEOUT.total_seconds()
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - float(last_seen) > idle_limit:
                audit_record(
                    action=AuditAction.SESSION_EXPIRED, actor=user, obj=user, request=request
                )
                logout(request)  # flushes the server-side session too
                return self._to_login(
                    request, _("您已长时间未操作，为保护数据安全已自动退出，请重新登录。")
                )
            # Saving the session on every request would write to the database on every
            # page; a minute's resolution is plenty for a 30-minute limit.
            if last_seen is None or now - float(last_seen) > TOUCH_INTERVAL:
                request.session[LAST_SEEN_KEY] = now
                # The server-side record expires with the idle limit as well.
                request.session.set_expiry(int(idle_limit))
        if password_expired(user) and not request.path.startswith(EXEMPT_PREFIXES):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "errors": [
                            {
                                "field": "password",
                                "code": "password_expired",
                                "message": _("密码已过期，请先修改密码。"),
                            }
                        ]
                    },
                    status=403,
                )
            messages.warning(request, _("密码已过期，请先修改密码。"))
            return HttpResponseRedirect(reverse("accounts:password-change"))
        return None

    def _to_login(self, request: HttpRequest, message: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"errors": [{"field": None, "code": "session_expired", "message": message}]},
                status=401,
            )
        messages.info(request, message)
        url = reverse(settings.LOGIN_URL) + "?" + urlencode({"next": request.get_full_path()})
        response = HttpResponseRedirect(url)
        if getattr(request, "htmx", False):
            response["HX-Redirect"] = url
        return response
