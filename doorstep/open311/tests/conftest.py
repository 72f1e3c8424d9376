"""Fixtures for the Open311 tests: a key, a category with attributes, and helpers that
call the endpoint the way a client does."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from doorstep.appeals.models import Category
from doorstep.conftest import World
from doorstep.open311.models import ServiceAttribute
from doorstep.open311.services import api_key_create

BASE = "/open311/v2"


@pytest.fixture
def key(db: Any) -> str:
    _row, plain = api_key_create(actor=None, name="市民热线平台")
    return plain


@pytest.fixture
def jid(world: World) -> str:
    """Tree A's city: the test world holds two jurisdictions, so the id is required."""
    return world.a.city.code


@pytest.fixture
def parking(db: Any) -> Category:
    """A service with a definition: a required single-value list and an optional text."""
    category = Category.objects.get(code="repair")
    ServiceAttribute.objects.create(
        category=category,
        code="facility",
        datatype="singlevaluelist",
        required=True,
        order=1,
        description="哪类设施",
        values=[{"key": "lamp", "name": "路灯"}, {"key": "bench", "name": "座椅"}],
    )
    ServiceAttribute.objects.create(
        category=category,
        code="floor",
        datatype="number",
        required=False,
        order=2,
        description="在几楼",
        datatype_description="填数字",
    )
    return category


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 (our own server's answer)


def post(client: Client, fmt: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data, **kwargs)
