"""Small checks of service input that several apps share: a primary key, an idempotency
key, a short name, and the lines of an order (ids with quantities). Each refuses bad input with a
ValidationError naming the field."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from .errors import ValidationError

# The largest primary key a column holds (and SQLite can even bind): a larger id sent by a
# client is no row, and must be refused before it reaches the database.
MAX_KEY = 2**63 - 1


def is_key(value: Any) -> bool:
    """Whether ``value`` is an int that can be a primary key."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_KEY


def is_digits(text: str) -> bool:
    """Whether ``text`` is ASCII digits that ``int()`` reads ("²" passes ``str.isdigit``
    but not ``int``)."""
    return text.isascii() and text.isdigit()


def key_from_text(raw: str) -> int | None:
    """A primary key typed or posted as text, or None: ASCII digits only, within
    :data:`MAX_KEY`."""
    if not is_digits(raw):
        return None
    value = int(raw)
    return value if is_key(value) else None


def idempotency_key(value: Any, *, max_length: int, field: str = "idempotency_key") -> str:
    """A client-chosen idempotency key: non-empty, printable, at most ``max_length``."""
    key = str(value or "").strip()
    if not key:
        raise ValidationError(_("缺少幂等键。"), field=field)
    if len(key) > max_length or not key.isprintable():
        raise ValidationError(_("幂等键过长或含有非法字符。"), field=field)
    return key


def short_name(value: Any, *, field: str = "name", maximum: int = 60) -> str:
    """A required name of at most ``maximum`` characters, stripped."""
    name = str(value or "").strip()
    if not name:
        raise ValidationError(_("请填写名称。"), field=field)
    if len(name) > maximum:
        raise ValidationError(_("名称过长。"), field=field)
    return name


def order_lines(
    items: Iterable[tuple[Any, Any]] | Mapping[Any, Any],
    *,
    parse_id: Callable[[Any], int],
    parse_quantity: Callable[[Any], int],
    max_lines: int,
    empty: str,
    too_many: str,
    field: str = "items",
) -> dict[int, int]:
    """``{id: quantity}`` from pairs or a mapping, a repeated id's quantities added up;
    refused (with the caller's ``empty`` / ``too_many`` message) when there is no line
    or more than ``max_lines`` distinct ones."""
    pairs = items.items() if isinstance(items, Mapping) else items
    merged: dict[int, int] = {}
    for raw_id, quantity in pairs:
        pk = parse_id(raw_id)
        merged[pk] = merged.get(pk, 0) + parse_quantity(quantity)
    if not merged:
        raise ValidationError(empty, field=field)
    if len(merged) > max_lines:
        raise ValidationError(too_many, field=field)
    return merged
