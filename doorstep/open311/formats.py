"""The two wire formats of GeoReport v2: XML (required) and JSON (the Spark convention's
mapping of the same tree).

A response is built once as plain Python data — dicts, lists, strings, numbers, booleans,
datetimes and None — and rendered to either format. Lists are named by their container
(``services`` holds ``service`` elements, ``service_requests`` holds ``request`` …), so a
one-item list and an empty list keep the shape clients expect in both formats.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

XML = "xml"
JSON = "json"
FORMATS = (XML, JSON)
CONTENT_TYPES = {XML: "text/xml; charset=utf-8", JSON: "application/json; charset=utf-8"}
MIME_TYPES = ("text/xml", "application/json")

# Container element → the element of each item in it.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def w3c_datetime(moment: dt.datetime) -> str:
    """ISO 8601 in the W3C profile, always with a zone (``2026-01-05T09:30:00+08:00``)."""
    if moment.tzinfo is None:
        raise ValueError("Open311 datetimes must carry a time zone")
    return moment.replace(microsecond=0).isoformat()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return w3c_datetime(value)
    return str(value)


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    _fill(element, tag, value)


def _fill(element: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        item_tag = ITEM_TAGS[tag]
        for item in value:
            _append(element, item_tag, item)
    else:
        text = _text(value)
        if text:
            element.text = text


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, root, value)
    body = ET.tostring(element, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return w3c_datetime(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=_default).encode()


def respond(fmt: str, root: str, value: Any, *, status: int = 200) -> HttpResponse:
    """``value`` rendered as ``<root>…</root>`` or as JSON, with the spec's content type."""
    body = to_xml(root, value) if fmt == XML else to_json(value)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, status: int, errors: list[tuple[int | str, str]]) -> HttpResponse:
    """The standard error list: ``<errors><error><code/><description/></error></errors>``
    or ``[{"code": …, "description": …}]``."""
    items = [{"code": code, "description": description} for code, description in errors]
    return respond(fmt, "errors", items, status=status)
