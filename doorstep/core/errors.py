"""Error types that services raise and interfaces turn into responses.

A service never returns an HTTP response; it raises one of these. The API exception
handler and the page helpers translate them into a JSON error body or a form error,
always naming the field and always in the request's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    """Base class: a request that the domain refuses. Nothing has been changed."""

    status_code = 400
    code = "invalid"

    def __init__(
        self, message: str | Promise, *, field: str | None = None, code: str | None = None
    ):
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_list(self) -> list[dict[str, Any]]:
        return [{"field": self.field, "code": self.code, "message": str(self.message)}]


class ValidationError(DomainError):
    """One or more fields are wrong. ``errors`` maps field name to messages."""

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        field: str | None = None,
        errors: Mapping[str | None, list[str | Promise]] | None = None,
        code: str | None = None,
    ):
        self.errors: dict[str | None, list[str | Promise]] = dict(errors or {})
        if message is not None:
            self.errors.setdefault(field, []).append(message)
        first_field, first_messages = next(iter(self.errors.items()), (field, [""]))
        super().__init__(first_messages[0], field=first_field, code=code)

    def as_list(self) -> list[dict[str, Any]]:
        return [
            {"field": field, "code": self.code, "message": str(message)}
            for field, messages in self.errors.items()
            for message in messages
        ]


class PermissionDenied(DomainError):
    """The actor may see the row but may not do this to it."""

    status_code = 403
    code = "permission_denied"


class NotFound(DomainError):
    """The row does not exist or is outside the actor's scope (the two are not told apart)."""

    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The change was based on a stale version, or it collides with another row."""

    status_code = 409
    code = "conflict"


class TooManyRequests(DomainError):
    """The actor asked too often within a window; nothing was read or changed."""

    status_code = 429
    code = "throttled"


def full_clean(obj: Any, *, exclude: list[str] | None = None, validate_unique: bool = True) -> None:
    """``obj.full_clean()`` with Django's errors turned into a :class:`ValidationError`
    that names each field — what every service calls before ``save()``."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    try:
        obj.full_clean(exclude=exclude, validate_unique=validate_unique)
    except DjangoValidationError as exc:
        raise ValidationError(errors={k: list(v) for k, v in exc.message_dict.items()}) from None
