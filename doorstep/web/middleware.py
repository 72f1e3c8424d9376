"""Per-visitor preferences: the elder-friendly mode and the interface language.

Both live in a long-lived cookie so that a resident switches once and keeps it on this
phone, and on the account when logged in so that it follows the resident to a new phone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

ELDER_COOKIE = "doorstep_elder"


class PreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.elder_mode = request.COOKIES.get(ELDER_COOKIE) == "1"  # type: ignore[attr-defined]
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # An account's saved preference wins on a phone that has no cookie yet.
            if ELDER_COOKIE not in request.COOKIES and user.elder_mode:
                response.set_cookie(
                    ELDER_COOKIE, "1", max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax"
                )
            if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and user.preferred_language:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    user.preferred_language,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    samesite="Lax",
                )
        return response
