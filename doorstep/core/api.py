"""What every API view shares: pagination and one error format.

Every error body is ``{"errors": [{"field": ..., "code": ..., "message": ...}]}`` with
the message in the request's language (``Accept-Language`` or the language cookie).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import timeutils
from .errors import DomainError, ValidationError
from .inputs import is_digits


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _flatten(detail: Any, field: str | None = None) -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__", "detail") else key
            out.extend(_flatten(value, f"{field}.{name}" if field and name else (name or field)))
        return out
    if isinstance(detail, list):
        return [item for value in detail for item in _flatten(value, field)]
    code = getattr(detail, "code", "invalid")
    return [{"field": field, "code": code, "message": str(detail)}]


def error_response(errors: list[dict[str, Any]], status_code: int) -> Response:
    return Response({"errors": errors}, status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return error_response(exc.as_list(), exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return error_response(_flatten(detail), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound(_("未找到。"))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.APIException):
        response.data = {"errors": _flatten(exc.detail)}
    return response


def query_int(value: str, field: str) -> int:
    """A query parameter that must be a non-negative whole number (an id)."""
    if not is_digits(value):
        raise ValidationError(_("应为数字。"), field=field)
    return int(value)


def query_date(value: str | None, field: str) -> dt.date | None:
    """An optional ``YYYY-MM-DD`` query parameter."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD。"), field=field) from None
    if not timeutils.plausible_day(day):
        raise ValidationError(timeutils.day_range_message(), field=field)
    return day


# --- Idempotency keys ------------------------------------------------------------------------

KEY_DESCRIPTION = (
    "客户端生成的唯一键（也可放在请求体 idempotency_key 中）：同键同内容返回首次结果，"
    "同键不同内容被拒绝（409）。"
)


def idempotency_header(description: str = KEY_DESCRIPTION) -> OpenApiParameter:
    """The ``Idempotency-Key`` header as the schema shows it on a create endpoint."""
    return OpenApiParameter(
        "Idempotency-Key", str, location=OpenApiParameter.HEADER, required=False,
        description=description,
    )  # fmt: skip


def idempotency_key_of(request: Any, data: Any) -> str:
    """The key a client chose for a create: the ``Idempotency-Key`` header, else the
    body's ``idempotency_key`` (the service checks it)."""
    return str(request.headers.get("Idempotency-Key") or data.get("idempotency_key") or "")
