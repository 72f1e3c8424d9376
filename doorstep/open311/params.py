"""Reading GeoReport v2 parameters. An empty parameter is the same as a missing one (the
spec's "Optional Arguments"); every problem becomes an :class:`Open311Error` that names
the parameter, which the views turn into the standard error list."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from doorstep.core.inputs import is_digits


class Open311Error(Exception):
    """A request the endpoint refuses, with the HTTP status and the error list."""

    def __init__(self, status: int, description: str, code: int | str | None = None):
        super().__init__(description)
        self.status = status
        self.errors: list[tuple[int | str, str]] = [(code or status, description)]


def bad(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


def get(data: Mapping[str, Any], name: str) -> str | None:
    """The stripped value of ``name``, or None when it is absent or empty."""
    value = data.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def comma_list(data: Mapping[str, Any], name: str) -> list[str]:
    raw = get(data, name)
    return [part.strip() for part in raw.split(",") if part.strip()] if raw else []


def w3c_datetime(data: Mapping[str, Any], name: str) -> dt.datetime | None:
    """A W3C datetime that carries a zone (``2026-01-05T00:00:00Z`` or ``…+08:00``)."""
    raw = get(data, name)
    if raw is None:
        return None
    text = raw.replace(" ", "+") if re.search(r"T\d\d:\d\d(:\d\d)? \d\d:?\d\d$", raw) else raw
    try:
        moment = parse_datetime(text.replace("z", "Z"))
    except ValueError:
        moment = None
    if moment is None:
        raise bad(
            _("%(name)s 不是有效的 W3C 日期时间（例如 2026-01-05T00:00:00Z）") % {"name": name}
        )
    if moment.tzinfo is None:
        raise bad(_("%(name)s 必须带时区（Z 或 +08:00）") % {"name": name})
    return moment


def number(data: Mapping[str, Any], name: str) -> float | None:
    raw = get(data, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise bad(_("%(name)s 必须是数字") % {"name": name}) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise bad(_("%(name)s 必须是数字") % {"name": name})
    return value


def positive_int(data: Mapping[str, Any], name: str, *, default: int, maximum: int) -> int:
    raw = get(data, name)
    if raw is None:
        return default
    if not is_digits(raw) or int(raw) < 1:
        raise bad(_("%(name)s 必须是正整数") % {"name": name})
    return min(int(raw), maximum)


ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


def attributes(data: QueryDict) -> dict[str, list[str]]:
    """``attribute[CODE]=v`` and ``attribute[CODE][]=v1&attribute[CODE][]=v2`` as
    ``{CODE: [values]}``; empty values are dropped like any empty parameter."""
    found: dict[str, list[str]] = {}
    for key in data:
        match = ATTRIBUTE.match(key)
        if not match:
            continue
        values = [v.strip() for v in data.getlist(key) if v is not None and str(v).strip()]
        if values:
            found.setdefault(match.group(1), []).extend(values)
    return found
