"""Refusals every request gets before any view runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.urls import get_resolver, get_urlconf
from django.utils.translation import gettext as _

NUL = "\x00"


class NulCharacterError(BadRequest):
    """A NUL character in the path, a query parameter or a posted form field; ``field``
    names the parameter (``None`` for the path)."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


# Bodies that Django parses into ``request.POST``; a JSON body is the serializers' to read.
FORM_BODIES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulCharactersMiddleware:
    """Answers 400 (with ``handler400``) to a request whose path, query string or
    posted form holds a NUL character, naming the parameter. PostgreSQL can neither store
    nor compare text that holds one (SQLite can), so a value handed one failed with a
    server error on one database and not the other; nothing a person types or a link
    carries holds one. Form bodies are checked too: not every page reads its fields
    through a Django form (which refuses NUL itself). Uploaded files are not fields."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = self.refusal(request)
        if refusal is not None:
            # Answered here rather than raised: a raised BadRequest is logged with its
            # traceback, as if the server had failed; Django still logs the 400 itself.
            handler: Any = get_resolver(get_urlconf()).resolve_error_handler(400)
            response: HttpResponse = handler(request, exception=refusal)
            return response
        return self.get_response(request)

    @staticmethod
    def refusal(request: HttpRequest) -> NulCharacterError | None:
        if NUL in request.path:
            return NulCharacterError(_("网址中含有空字符（NUL），无法处理。"), None)
        params = [request.GET]
        if request.method == "POST" and request.content_type in FORM_BODIES:
            params.append(request.POST)
        for query in params:
            for key, values in query.lists():
                if NUL in key or any(NUL in value for value in values):
                    name = key.replace(NUL, "")
                    return NulCharacterError(
                        _("参数“%(name)s”中含有空字符（NUL），无法处理。") % {"name": name},
                        name,
                    )
        return None
